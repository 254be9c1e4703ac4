#include "nri/ttrpc_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nri/proto/ttrpc.pb.h"
#include "nri/ttrpc_message.h"

namespace berth::nri {
namespace {

using std::chrono::milliseconds;

std::pair<UniqueFd, UniqueFd> SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// berthd's end and a plugin's, each serving what the other calls.
class TtrpcConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [ours, theirs] = SocketPair();
    runtime_ = std::make_unique<TtrpcConnection>(std::move(ours), MuxConnection::kPluginService,
                                                 MuxConnection::kRuntimeService, [](const TtrpcCall& call) {
                                                   return StatusOr<std::string>("runtime:" + call.method + ":" +
                                                                                call.payload);
                                                 });
    plugin_ = std::make_unique<TtrpcConnection>(std::move(theirs), MuxConnection::kRuntimeService,
                                                MuxConnection::kPluginService,
                                                [this](const TtrpcCall& call) { return ServePlugin(call); });
  }

  StatusOr<std::string> ServePlugin(const TtrpcCall& call) {
    if (call.method == "Refuse") return absl::NotFoundError("no such pod");
    if (call.method == "Hang") {
      // As NRI's stub does: give up when the caller's deadline passes.
      EXPECT_TRUE(call.deadline.has_value());
      std::unique_lock<std::mutex> lock(mu_);
      released_.wait_until(lock, *call.deadline, [&] { return release_; });
      return absl::DeadlineExceededError("context deadline exceeded");
    }
    return call.service + "/" + call.method + ":" + call.payload;
  }

  std::mutex mu_;
  std::condition_variable released_;
  bool release_ = false;
  std::unique_ptr<TtrpcConnection> runtime_;
  std::unique_ptr<TtrpcConnection> plugin_;
};

TEST_F(TtrpcConnectionTest, CallsGoBothWays) {
  auto answer = runtime_->Call("nri.pkg.api.v1alpha1.Plugin", "Configure", "cfg", milliseconds(5000));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*answer, "nri.pkg.api.v1alpha1.Plugin/Configure:cfg");
  auto back = plugin_->Call("nri.pkg.api.v1alpha1.Runtime", "RegisterPlugin", "me", milliseconds(5000));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "runtime:RegisterPlugin:me");
  // Large messages cross in many frames.
  std::string big(3 << 20, 'z');
  auto large = runtime_->Call("s", "m", big, milliseconds(5000));
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_EQ(large->size(), big.size() + 4);
}

// The peer refuses a stream id below one it has seen (as Go's ttrpc does): calls made
// side by side must leave in the order their ids were taken.
TEST_F(TtrpcConnectionTest, CallsMadeSideBySideKeepTheirIdsRising) {
  std::vector<std::thread> callers;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto answer = runtime_->Call("s", "m", std::to_string(t), milliseconds(5000));
        if (!answer.ok()) {
          ADD_FAILURE() << answer.status();
          ++failed;
          return;
        }
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_TRUE(runtime_->open());
}

TEST_F(TtrpcConnectionTest, AStatusComesBackWithItsCode) {
  auto answer = runtime_->Call("s", "Refuse", "", milliseconds(5000));
  EXPECT_EQ(answer.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(answer.status().message(), "no such pod");
}

TEST_F(TtrpcConnectionTest, ACallPastItsDeadlineFailsAndTheConnectionGoesOn) {
  auto answer = runtime_->Call("s", "Hang", "", milliseconds(100));
  EXPECT_EQ(answer.status().code(), StatusCode::kDeadlineExceeded) << answer.status();
  // The plugin's late answer is dropped; the next call gets its own.
  auto next = runtime_->Call("s", "After", "x", milliseconds(5000));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "s/After:x");
}

TEST_F(TtrpcConnectionTest, APeerThatGoesFailsItsCalls) {
  std::mutex mu;
  std::condition_variable cv;
  std::string why;
  runtime_->set_on_closed([&](const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu);
    why = reason;
    cv.notify_all();
  });
  plugin_->Close();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !why.empty(); }));
  }
  EXPECT_FALSE(runtime_->open());
  auto answer = runtime_->Call("s", "m", "", milliseconds(1000));
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable) << answer.status();
}

// A peer that speaks bytes, not a TtrpcConnection.
TEST(TtrpcConnectionRawTest, AnEvenStreamIdIsRefusedOnItsStream) {
  auto [ours, theirs] = SocketPair();
  TtrpcConnection runtime(std::move(ours), MuxConnection::kPluginService, MuxConnection::kRuntimeService,
                          [](const TtrpcCall&) { return StatusOr<std::string>("served"); });
  ttrpc::Request request;
  request.set_service("s");
  request.set_method("m");
  std::string message = EncodeTtrpcMessage(2, TtrpcMessageType::kRequest, 0, request.SerializeAsString());
  std::string frame = EncodeMuxFrames(MuxConnection::kRuntimeService, message);
  ASSERT_EQ(::write(theirs.get(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  MuxReader mux;
  TtrpcMessageReader messages;
  std::optional<TtrpcMessage> answer;
  char buffer[4096];
  while (!answer) {
    ssize_t n = ::read(theirs.get(), buffer, sizeof(buffer));
    ASSERT_GT(n, 0);
    mux.Feed(std::string_view(buffer, static_cast<size_t>(n)));
    while (auto frame_in = mux.Next().value()) messages.Feed(frame_in->data);
    answer = messages.Next();
  }
  EXPECT_EQ(answer->stream_id, 2u);
  ttrpc::Response response;
  ASSERT_TRUE(response.ParseFromString(answer->payload));
  EXPECT_EQ(response.status().code(), static_cast<int>(StatusCode::kInvalidArgument));
}

TEST(TtrpcConnectionRawTest, AFrameNoPeerSendsEndsTheConnection) {
  auto [ours, theirs] = SocketPair();
  TtrpcConnection runtime(std::move(ours), MuxConnection::kPluginService, MuxConnection::kRuntimeService,
                          [](const TtrpcCall&) { return StatusOr<std::string>(""); });
  std::string frame("\x00\x00\x00\x01\x7f\xff\xff\xff", 8);
  ASSERT_EQ(::write(theirs.get(), frame.data(), frame.size()), 8);
  auto answer = runtime.Call("s", "m", "", milliseconds(10000));
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable) << answer.status();
  EXPECT_NE(runtime.closed_reason().find("longer than any peer sends"), std::string::npos) << runtime.closed_reason();
}

}  // namespace
}  // namespace berth::nri
