// One SPDY/3.1 connection after the HTTP upgrade, on an asio socket: the streams
// the client opens are answered at once (SYN_REPLY) and handed to the session;
// what the session sends goes out in order, in DATA frames of at most 32 KiB;
// PINGs are echoed ahead of queued data. Everything runs on the io_context the
// socket belongs to, one thread: the session is called there and calls back there.
//
// Backpressure, since Kubernetes' SPDY peers do no flow control: the session
// pauses the reading of frames while the buffers it fills are full, and holds its
// own reads while queued() is high, resuming on OnWritable.
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

namespace berth::streaming::spdy {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  class Session {
   public:
    virtual ~Session() = default;
    // A stream the client opened; false refuses it (RST_STREAM, no reply).
    virtual bool OnStream(uint32_t id, const Headers& headers) = 0;
    virtual void OnData(uint32_t id, std::string data) = 0;
    // The client finished its side of the stream (DATA with FIN).
    virtual void OnFin(uint32_t id) = 0;
    virtual void OnReset(uint32_t id) = 0;
    // What was queued has gone out (below the low mark).
    virtual void OnWritable() {}
    // The connection is over: the client left, a protocol error, the idle timeout,
    // or Close() finished. Called once; no other call follows.
    virtual void OnClosed() = 0;
  };

  // already_read: bytes that came after the HTTP request head.
  Connection(boost::asio::ip::tcp::socket socket, std::string already_read, std::chrono::seconds idle_timeout);

  // The connection holds the session until OnClosed.
  void Start(std::shared_ptr<Session> session);
  void Send(uint32_t id, std::string data, bool fin);
  void Reset(uint32_t id, RstStatus status = RstStatus::kCancel);
  // Ends the connection once everything queued is written: RST_STREAM for each
  // stream this side has not finished, GOAWAY, then close.
  void Close();

  void PauseReading();
  void ResumeReading();
  size_t queued() const { return queued_bytes_; }

  // Above this many queued bytes a session should stop producing.
  static constexpr size_t kHighWater = 1 << 20;

 private:
  void Read();
  void OnRead(const boost::system::error_code& error, size_t bytes);
  Status HandleFrames();
  void Enqueue(std::string bytes, bool urgent);
  void Write();
  void ArmIdleTimer();
  void Fail(const std::string& why);
  void Finish();

  boost::asio::ip::tcp::socket socket_;
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
