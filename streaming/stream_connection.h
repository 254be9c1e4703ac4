// A connection carrying a session's streams, whatever the protocol: SPDY/3.1 (a
// stream per SYN_STREAM the client opens) or a WebSocket of numbered channels (the
// streams are the channels the request implies, all there from the start). The
// exec, attach and port-forward sessions are written once against this.
//
// Everything runs on the io_context the connection belongs to, one thread: the
// session is called there and calls back there.
//
// Backpressure: the session pauses the reading of the connection while the buffers
// it fills are full, and holds its own reads while queued() is above kHighWater,
// resuming on OnWritable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace berth::streaming {

// What a stream is for (streamtype, port, requestid): lower-case names.
using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of name in headers, or "" (names compare case-insensitively).
std::string HeaderValue(const Headers& headers, absl::string_view name);

class StreamConnection {
 public:
  class Session {
   public:
    virtual ~Session() = default;
    // A stream the client opened; false refuses it.
    virtual bool OnStream(uint32_t id, const Headers& headers) = 0;
    virtual void OnData(uint32_t id, std::string data) = 0;
    // The client finished its side of the stream.
    virtual void OnFin(uint32_t id) = 0;
    virtual void OnReset(uint32_t id) = 0;
    // What was queued has gone out (below half of kHighWater).
    virtual void OnWritable() {}
    // The connection is over: the client left, a protocol error, the idle timeout,
    // or Close() finished. Called once; no other call follows.
    virtual void OnClosed() = 0;
  };

  virtual ~StreamConnection() = default;

  // The connection holds the session until OnClosed.
  virtual void Start(std::shared_ptr<Session> session) = 0;
  // data on stream id; fin ends this side of it (where the protocol can say so).
  virtual void Send(uint32_t id, std::string data, bool fin) = 0;
  // Abandons stream id (a forwarded connection the pod reset).
  virtual void Reset(uint32_t id) = 0;
  // Ends the connection once everything queued is written.
  virtual void Close() = 0;
  virtual void PauseReading() = 0;
  virtual void ResumeReading() = 0;
  virtual size_t queued() const = 0;

  // Above this many queued bytes a session should stop producing.
  static constexpr size_t kHighWater = 1 << 20;
};

}  // namespace berth::streaming
