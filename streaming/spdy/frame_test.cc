#include "streaming/spdy/frame.h"

#include <zlib.h>

#include <gtest/gtest.h>

#include "streaming/spdy/dictionary.h"

namespace berth::streaming::spdy {
namespace {

TEST(SpdyDictionaryTest, IsTheDraftsDictionary) {
  const std::string& dictionary = HeaderDictionary();
  EXPECT_EQ(dictionary.size(), 1423u);
  EXPECT_EQ(::adler32(1, reinterpret_cast<const Bytef*>(dictionary.data()), static_cast<uInt>(dictionary.size())),
            0xe3c6a7c2u);
}

TEST(SpdyHeaderBlockTest, BlocksContinueOneContextPerDirection) {
  HeaderEncoder encoder;
  HeaderDecoder decoder;
  auto first = encoder.Encode({{"streamtype", "error"}});
  ASSERT_TRUE(first.ok()) << first.status();
  // Every SPDY/3 header stream starts with the zlib header naming the dictionary.
  EXPECT_EQ(first->substr(0, 6), std::string("\x78\xf9\xe3\xc6\xa7\xc2", 6));
  auto second = encoder.Encode({{"streamtype", "stdout"}, {"port", "80"}});
  ASSERT_TRUE(second.ok());
  auto decoded_first = decoder.Decode(*first);
  ASSERT_TRUE(decoded_first.ok()) << decoded_first.status();
  EXPECT_EQ(HeaderValue(*decoded_first, "streamtype"), "error");
  auto decoded_second = decoder.Decode(*second);
  ASSERT_TRUE(decoded_second.ok()) << decoded_second.status();
  EXPECT_EQ(HeaderValue(*decoded_second, "StreamType"), "stdout");
  EXPECT_EQ(HeaderValue(*decoded_second, "port"), "80");
}

TEST(SpdyHeaderBlockTest, BadNamesAreRefused) {
  HeaderEncoder encoder;
  EXPECT_FALSE(encoder.Encode({{"StreamType", "x"}}).ok());
  EXPECT_FALSE(encoder.Encode({{"a", "1"}, {"a", "2"}}).ok());
  HeaderDecoder decoder;
  EXPECT_FALSE(decoder.Decode("not zlib at all").ok());
}

TEST(SpdyFrameTest, WhatTheWriterWritesTheReaderReads) {
  FrameWriter client;
  std::string wire;
  wire += *client.SynStream(1, {{"streamtype", "stdin"}}, false);
  wire += client.Data(1, "hello", false);
  wire += client.Data(1, "", true);
  wire += client.Ping(1);
  wire += client.RstStream(3, RstStatus::kCancel);
  wire += client.GoAway(3, GoAwayStatus::kOk);

  FrameReader reader;
  // Byte by byte: frames come out only when whole.
  std::vector<Frame> frames;
  for (char byte : wire) {
    reader.Feed(absl::string_view(&byte, 1));
    auto next = reader.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (next->has_value()) frames.push_back(**next);
  }
  EXPECT_EQ(reader.buffered(), 0u);
  ASSERT_EQ(frames.size(), 6u);
  auto& syn = std::get<SynStream>(frames[0]);
  EXPECT_EQ(syn.stream_id, 1u);
  EXPECT_EQ(HeaderValue(syn.headers, "streamtype"), "stdin");
  EXPECT_EQ(std::get<DataFrame>(frames[1]).data, "hello");
  EXPECT_FALSE(std::get<DataFrame>(frames[1]).fin);
  EXPECT_TRUE(std::get<DataFrame>(frames[2]).fin);
  EXPECT_EQ(std::get<Ping>(frames[3]).id, 1u);
  EXPECT_EQ(std::get<RstStream>(frames[4]).status, static_cast<uint32_t>(RstStatus::kCancel));
  EXPECT_EQ(std::get<GoAway>(frames[5]).last_good_stream_id, 3u);

  FrameReader peer;
  peer.Feed(*FrameWriter().SynReply(7, {{"a", "b"}}, true));
  auto reply = peer.Next();
  ASSERT_TRUE(reply.ok() && reply->has_value()) << reply.status();
  EXPECT_EQ(std::get<SynReply>(**reply).stream_id, 7u);
  EXPECT_TRUE(std::get<SynReply>(**reply).fin);
}

TEST(SpdyFrameTest, IgnoresWhatKubernetesNeverSendsAndRefusesGarbage) {
  FrameReader reader;
  // SETTINGS with no entries, WINDOW_UPDATE.
  reader.Feed(std::string("\x80\x03\x00\x04\x00\x00\x00\x04\x00\x00\x00\x00", 12));
  reader.Feed(std::string("\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x10\x00", 16));
  for (uint16_t type : {4, 9}) {
    auto next = reader.Next();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_EQ(std::get<IgnoredFrame>(**next).type, type);
  }
  FrameReader bad;
  bad.Feed(std::string("\x80\x03\x00\x06\x00\x00\x00\x03\x00\x00\x00", 11));  // PING of 3 bytes
  EXPECT_FALSE(bad.Next().ok());
  FrameReader huge;
  huge.Feed(std::string("\x80\x03\x00\x01\x00\xff\xff\xff", 8));  // a 16 MiB control frame
  EXPECT_FALSE(huge.Next().ok());
}

}  // namespace
}  // namespace berth::streaming::spdy
