#include "streaming/channel_connection.h"

#include <gtest/gtest.h>

#include <map>

namespace berth::streaming {
namespace {

// The client's side of a WebSocket, in memory: messages the test hands in, and what
// the connection wrote.
class FakeMessages : public MessageTransport {
 public:
  void Read(ReadHandler done) override { reader_ = std::move(done); }
  void Write(std::string message, bool text, WriteHandler done) override {
    written.push_back(message);
    text_writes = text_writes || text;
    done({});
  }
  void OnControl(std::function<void()>) override {}
  // As a real transport's, a read in flight ends (its handler, which holds the
  // connection, goes).
  void Close() override {
    closed = true;
    reader_ = nullptr;
  }

  // Delivers a message from the client (a read must be pending).
  void Deliver(std::string message) {
    ASSERT_TRUE(reader_) << "the connection is not reading";
    auto reader = std::move(reader_);
    reader_ = nullptr;
    reader({}, std::move(message), false);
  }
  bool reading() const { return static_cast<bool>(reader_); }

  std::vector<std::string> written;
  bool text_writes = false;
  bool closed = false;

 private:
  ReadHandler reader_;
};

class RecordingSession : public StreamConnection::Session {
 public:
  bool OnStream(uint32_t id, const Headers& headers) override {
    streams[id] = HeaderValue(headers, "streamtype");
    return true;
  }
  void OnData(uint32_t id, std::string data) override { data_[id] += data; }
  void OnFin(uint32_t id) override { fins.push_back(id); }
  void OnReset(uint32_t) override {}
  void OnClosed() override { closed = true; }

  std::map<uint32_t, std::string> streams;
  std::map<uint32_t, std::string> data_;
  std::vector<uint32_t> fins;
  bool closed = false;
};

struct Fixture {
  explicit Fixture(ChannelLayout layout)
      : connection(std::make_shared<ChannelConnection>(io, messages, std::move(layout), std::chrono::seconds(60))) {
    connection->Start(session);
  }
  // The client leaves: what the connection holds of itself goes.
  ~Fixture() { messages->Close(); }
  boost::asio::io_context io;
  std::shared_ptr<FakeMessages> messages = std::make_shared<FakeMessages>();
  std::shared_ptr<RecordingSession> session = std::make_shared<RecordingSession>();
  std::shared_ptr<ChannelConnection> connection;
};

ChannelLayout ExecLayout(bool base64, bool close_signal) {
  ChannelLayout layout;
  layout.channels = {{.number = 0, .headers = {{"streamtype", "stdin"}}, .readable = true},
                     {.number = 1, .headers = {{"streamtype", "stdout"}}, .readable = false},
                     {.number = 3, .headers = {{"streamtype", "error"}}, .readable = false}};
  layout.opening = {{1, ""}};
  layout.base64 = base64;
  layout.close_signal = close_signal;
  return layout;
}

TEST(ChannelConnectionTest, OpensTheLayoutsStreamsAndSaysHello) {
  Fixture f(ExecLayout(false, false));
  EXPECT_EQ(f.session->streams.at(1), "stdin") << "stream id = channel + 1";
  EXPECT_EQ(f.session->streams.at(2), "stdout");
  EXPECT_EQ(f.session->streams.at(4), "error");
  ASSERT_EQ(f.messages->written.size(), 1u);
  EXPECT_EQ(f.messages->written[0], std::string("\x01", 1));
  EXPECT_TRUE(f.messages->reading());
}

TEST(ChannelConnectionTest, BinaryChannelsBothWays) {
  Fixture f(ExecLayout(false, false));
  f.messages->Deliver(std::string("\x00hello", 6));
  f.messages->Deliver(std::string("\x01ignored", 8));  // stdout is not the client's to write
  f.messages->Deliver(std::string("\x09nobody", 7));   // no such channel
  f.messages->Deliver("");
  EXPECT_EQ(f.session->data_[1], "hello");
  EXPECT_EQ(f.session->data_.count(2), 0u);
  f.connection->Send(2, "out", false);
  EXPECT_EQ(f.messages->written.back(), std::string("\x01out", 4));
  f.connection->Send(2, "", true);  // no end of its own on a WebSocket channel
  EXPECT_EQ(f.messages->written.size(), 2u);
  f.connection->Send(4, "{}", true);
  f.connection->Close();
  EXPECT_TRUE(f.messages->closed);
  EXPECT_TRUE(f.session->closed);
  EXPECT_FALSE(f.messages->text_writes);
}

TEST(ChannelConnectionTest, Base64ChannelsAreTextWithADigit) {
  Fixture f(ExecLayout(true, false));
  EXPECT_EQ(f.messages->written[0], "1");
  f.messages->Deliver("0aGk=");
  EXPECT_EQ(f.session->data_[1], "hi");
  f.connection->Send(2, "hi", false);
  EXPECT_EQ(f.messages->written.back(), "1aGk=");
  EXPECT_TRUE(f.messages->text_writes);
  f.messages->Deliver("0not base64!");
  EXPECT_TRUE(f.session->closed) << "a message that is not base64 ends the connection";
}

TEST(ChannelConnectionTest, V5CloseSignalEndsAChannel) {
  Fixture f(ExecLayout(false, true));
  f.messages->Deliver(std::string("\xff\x00", 2));
  EXPECT_EQ(f.session->fins, std::vector<uint32_t>{1});
  f.messages->Deliver(std::string("\xff\x00\x01", 3));
  EXPECT_TRUE(f.session->closed) << "a close message names exactly one channel";

  Fixture old(ExecLayout(false, false));
  old.messages->Deliver(std::string("\xff\x00", 2));
  EXPECT_TRUE(old.session->fins.empty()) << "before v5, 255 is just a channel nobody reads";
}

TEST(ChannelConnectionTest, ClosesOnceEveryListedChannelIsFinished) {
  ChannelLayout layout;
  layout.channels = {{.number = 0, .headers = {{"streamtype", "data"}}, .readable = true},
                     {.number = 1, .headers = {{"streamtype", "error"}}, .readable = false},
                     {.number = 2, .headers = {{"streamtype", "data"}}, .readable = true},
                     {.number = 3, .headers = {{"streamtype", "error"}}, .readable = false}};
  layout.close_after = {0, 2};
  Fixture f(std::move(layout));
  f.connection->Send(1, "", true);  // channel 0, a data channel
  f.connection->Send(2, "", true);  // channel 1, an error channel
  EXPECT_FALSE(f.messages->closed);
  f.connection->Reset(3);
  EXPECT_TRUE(f.messages->closed);
  EXPECT_TRUE(f.session->closed);
}

}  // namespace
}  // namespace berth::streaming
