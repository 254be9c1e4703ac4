#include "pods/shim/cri_log.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

constexpr int64_t kT = 1704067200123456789;  // 2024-01-01T00:00:00.123456789Z

TEST(CriLogTest, TimestampIsRfc3339WithNanoseconds) {
  EXPECT_EQ(Rfc3339Nano(kT), "2024-01-01T00:00:00.123456789Z");
  EXPECT_EQ(Rfc3339Nano(1704067200000000001), "2024-01-01T00:00:00.000000001Z");
}

TEST(CriLogTest, FullLinesAndLinesSplitAcrossReads) {
  std::string pending;
  EXPECT_EQ(CriLogWriter::Format("stdout", pending, "hello\nwor", kT, false),
            "2024-01-01T00:00:00.123456789Z stdout F hello\n");
  EXPECT_EQ(pending, "wor");
  EXPECT_EQ(CriLogWriter::Format("stdout", pending, "ld\n\n", kT, false),
            "2024-01-01T00:00:00.123456789Z stdout F world\n"
            "2024-01-01T00:00:00.123456789Z stdout F \n");
  EXPECT_EQ(pending, "");
}

TEST(CriLogTest, UnterminatedLastLineIsPartialAtTheEnd) {
  std::string pending;
  EXPECT_EQ(CriLogWriter::Format("stderr", pending, "no newline", kT, false), "");
  EXPECT_EQ(CriLogWriter::Format("stderr", pending, "", kT, true),
            "2024-01-01T00:00:00.123456789Z stderr P no newline\n");
}

TEST(CriLogTest, LongLinesAreSplitIntoPartialRecords) {
  std::string pending;
  std::string line(CriLogWriter::kMaxLine * 2 + 10, 'x');
  std::string out = CriLogWriter::Format("stdout", pending, line + "\n", kT, false);
  std::string prefix = "2024-01-01T00:00:00.123456789Z stdout ";
  std::string expected = prefix + "P " + std::string(CriLogWriter::kMaxLine, 'x') + "\n" + prefix + "P " +
                         std::string(CriLogWriter::kMaxLine, 'x') + "\n" + prefix + "F " + std::string(10, 'x') +
                         "\n";
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace berth::pods
