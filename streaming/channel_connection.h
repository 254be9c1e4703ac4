// A session's streams over a WebSocket, as Kubernetes' channel protocols have them:
// each message is one channel's, its first byte the channel's number (an ASCII
// digit, and the payload base64, in the base64 protocols). The streams are the
// channels the request implies, all opened at Start; stream id = channel + 1.
//
// WebSocket channels have no end of their own: a stream the session finishes just
// goes quiet, and the session ends by closing the WebSocket. v5.channel.k8s.io adds
// one message from the client, [255, channel], closing that channel (stdin's EOF).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>

#include "streaming/stream_connection.h"
#include "streaming/transport.h"

namespace berth::streaming {

struct Channel {
  uint8_t number = 0;
  Headers headers;        // what the session is told the stream is
  bool readable = false;  // the client may write to it
};

struct ChannelLayout {
  std::vector<Channel> channels;
  // Written once the streams are open, before anything else: (channel, payload),
  // an empty payload making a message of the channel byte alone.
  std::vector<std::pair<uint8_t, std::string>> opening;
  bool base64 = false;
  bool close_signal = false;  // v5: [255, channel] closes that channel
  // The connection ends itself once the session has finished (or reset) every one
  // of these channels (a port-forward's data channels); with none, only the
  // session's Close() ends it.
  std::vector<uint8_t> close_after;
};

class ChannelConnection : public StreamConnection, public std::enable_shared_from_this<ChannelConnection> {
 public:
  ChannelConnection(boost::asio::io_context& io, std::shared_ptr<MessageTransport> messages, ChannelLayout layout,
                    std::chrono::seconds idle_timeout);

  void Start(std::shared_ptr<Session> session) override;
  void Send(uint32_t id, std::string data, bool fin) override;
  void Reset(uint32_t id) override;
  void Close() override;
  void PauseReading() override;
  void ResumeReading() override;
  size_t queued() const override { return queued_bytes_; }

 private:
  void Read();
  void OnMessage(std::string message);
  void Enqueue(uint8_t channel, absl::string_view payload);
  void Write();
  void Finished(uint32_t id);
  void ArmIdleTimer();
  void Finish();

  std::shared_ptr<MessageTransport> messages_;
  const ChannelLayout layout_;
  boost::asio::steady_timer idle_timer_;
  const std::chrono::seconds idle_timeout_;
  std::shared_ptr<Session> session_;
  std::set<uint32_t> open_;      // ids the session accepted
  std::set<uint32_t> finished_;  // ids the session finished or reset
  std::deque<std::string> out_;
  std::string in_flight_;
  size_t queued_bytes_ = 0;
  bool above_high_water_ = false;
  bool reading_ = false;
  bool paused_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace berth::streaming
