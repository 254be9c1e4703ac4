// One SPDY/3.1 connection after the HTTP upgrade (or inside a WebSocket tunnel):
// the streams the client opens are answered at once (SYN_REPLY) and handed to the
// session; what the session sends goes out in order, in DATA frames of at most
// 32 KiB; PINGs are echoed ahead of queued data.
//
// Kubernetes' SPDY peers do no flow control, so backpressure is the session's
// pausing of reads (see StreamConnection).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>

#include "base/status.h"
#include "streaming/spdy/frame.h"
#include "streaming/stream_connection.h"
#include "streaming/transport.h"

namespace berth::streaming::spdy {

class Connection : public StreamConnection, public std::enable_shared_from_this<Connection> {
 public:
  // already_read: bytes that came after the HTTP request head.
  Connection(boost::asio::io_context& io, std::shared_ptr<ByteTransport> transport, std::string already_read,
             std::chrono::seconds idle_timeout);

  void Start(std::shared_ptr<Session> session) override;
  void Send(uint32_t id, std::string data, bool fin) override;
  // RST_STREAM(CANCEL).
  void Reset(uint32_t id) override;
  // RST_STREAM for each stream this side has not finished, GOAWAY, then close.
  void Close() override;
  void PauseReading() override;
  void ResumeReading() override;
  size_t queued() const override { return queued_bytes_; }

 private:
  void Read();
  void OnRead(const boost::system::error_code& error, size_t bytes);
  Status HandleFrames();
  void Enqueue(std::string bytes, bool urgent);
  void Write();
  void ArmIdleTimer();
  void Fail(const std::string& why);
  void Finish();

  std::shared_ptr<ByteTransport> transport_;
  boost::asio::steady_timer idle_timer_;
  const std::chrono::seconds idle_timeout_;
  std::shared_ptr<Session> session_;
  FrameReader reader_;
  FrameWriter writer_;
  std::string pending_input_;
  char read_buffer_[64 * 1024];
  bool reading_ = false;
  bool paused_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  // Frames to write: control replies (SYN_REPLY, PING) go ahead of data.
  std::deque<std::string> urgent_;
  std::deque<std::string> out_;
  std::string in_flight_;
  bool in_flight_counted_ = false;
  size_t queued_bytes_ = 0;
  bool above_high_water_ = false;
  uint32_t last_client_stream_ = 0;
  // Client streams open, and those this side has sent FIN or RST on.
  std::set<uint32_t> streams_;
  std::set<uint32_t> finished_;
};

}  // namespace berth::streaming::spdy
