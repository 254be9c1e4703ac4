#include "base/log.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(LogTest, ParsesLevelsCaseInsensitively) {
  EXPECT_EQ(ParseLogLevel("debug").value(), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("INFO").value(), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("warning").value(), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error").value(), LogLevel::kError);
  auto bad = ParseLogLevel("loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("loud"), absl::string_view::npos);
}

TEST(LogTest, LineIsWrittenAsOneLineWithQuotedFields) {
  testing::internal::CaptureStderr();
  BERTH_LOG(Error) << "something failed" << Kv("rpc", "Version") << Kv("why", "two words")
                   << Kv("n", 3);
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(" error something failed rpc=Version why=\"two words\" n=3\n"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace berth
