#include "nri/ttrpc_message.h"

#include <gtest/gtest.h>

namespace berth::nri {
namespace {

TEST(TtrpcMessageTest, EncodesTheHeaderBigEndian) {
  // 3 bytes on stream 5, a Request with no flags.
  std::string bytes = EncodeTtrpcMessage(5, TtrpcMessageType::kRequest, 0, "abc");
  EXPECT_EQ(bytes, std::string("\x00\x00\x00\x03\x00\x00\x00\x05\x01\x00" "abc", 13));
}

TEST(TtrpcMessageTest, ReadsMessagesFedAByteAtATime) {
  std::string stream = EncodeTtrpcMessage(1, TtrpcMessageType::kRequest, 0, "first") +
                       EncodeTtrpcMessage(2, TtrpcMessageType::kResponse, 0, "") +
                       EncodeTtrpcMessage(3, TtrpcMessageType::kData, 4, "third");
  TtrpcMessageReader reader;
  std::vector<TtrpcMessage> messages;
  for (char c : stream) {
    reader.Feed(std::string_view(&c, 1));
    while (auto message = reader.Next()) messages.push_back(*message);
  }
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].payload, "first");
  EXPECT_EQ(messages[0].type, 1);
  EXPECT_EQ(messages[1].stream_id, 2u);
  EXPECT_EQ(messages[1].payload, "");
  EXPECT_EQ(messages[2].flags, 4);
  EXPECT_EQ(messages[2].payload, "third");
}

TEST(TtrpcMessageTest, SkipsAnOversizedPayloadAndReportsItsStream) {
  // A header claiming 5 MiB on stream 7, its payload arriving in pieces, then a
  // message that must still be read.
  std::string header("\x00\x50\x00\x00\x00\x00\x00\x07\x02\x00", 10);
  TtrpcMessageReader reader;
  reader.Feed(header);
  auto oversized = reader.Next();
  ASSERT_TRUE(oversized.has_value());
  EXPECT_TRUE(oversized->oversized);
  EXPECT_EQ(oversized->stream_id, 7u);
  std::string junk(1 << 20, 'x');
  for (int i = 0; i < 5; ++i) {
    reader.Feed(junk);
    EXPECT_FALSE(reader.Next().has_value());
  }
  reader.Feed(EncodeTtrpcMessage(9, TtrpcMessageType::kResponse, 0, "after"));
  auto after = reader.Next();
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->oversized);
  EXPECT_EQ(after->payload, "after");
}

}  // namespace
}  // namespace berth::nri
