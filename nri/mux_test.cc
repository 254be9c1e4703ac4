#include "nri/mux.h"

#include <gtest/gtest.h>

namespace berth::nri {
namespace {

TEST(MuxTest, FramesCarryTheConnectionAndLength) {
  EXPECT_EQ(EncodeMuxFrames(MuxConnection::kRuntimeService, "hi"),
            std::string("\x00\x00\x00\x02\x00\x00\x00\x02hi", 10));
}

TEST(MuxTest, SplitsLongWritesAndReadsThemBack) {
  std::string big(kMuxMaxFrame + 100, 'b');
  std::string wire = EncodeMuxFrames(MuxConnection::kPluginService, big) +
                     EncodeMuxFrames(MuxConnection::kRuntimeService, "tail");
  MuxReader reader;
  std::string on_one, on_two;
  int frames = 0;
  for (size_t at = 0; at < wire.size(); at += 4096) {
    reader.Feed(std::string_view(wire).substr(at, 4096));
    for (;;) {
      auto frame = reader.Next();
      ASSERT_TRUE(frame.ok()) << frame.status();
      if (!frame->has_value()) break;
      ++frames;
      ((*frame)->connection == 1 ? on_one : on_two) += (*frame)->data;
    }
  }
  EXPECT_EQ(frames, 3);
  EXPECT_EQ(on_one, big);
  EXPECT_EQ(on_two, "tail");
}

TEST(MuxTest, RefusesAFrameLongerThanAnyWriterSends) {
  MuxReader reader;
  reader.Feed(std::string("\x00\x00\x00\x01\x7f\x00\x00\x00", 8));
  auto frame = reader.Next();
  EXPECT_EQ(frame.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::nri
