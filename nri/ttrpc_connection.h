// One NRI socket, both directions: the calls this side makes on one mux connection
// and the calls it serves on the other. berthd calls on kPluginService and serves
// kRuntimeService; a plugin (the tests' own) does the reverse.
//
// A thread reads the socket and hands each response to the call waiting for it;
// requests are served one after another by a second thread (a handler may take
// time, and may itself call the peer: responses must keep flowing meanwhile). A call that passes its deadline fails DEADLINE_EXCEEDED; the
// peer's late answer is then dropped. Once the socket ends or the peer breaks the
// protocol, every waiting and later call fails UNAVAILABLE.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "base/unique_fd.h"
#include "nri/mux.h"
#include "nri/ttrpc_message.h"

namespace berth::nri {

// What the served side's handler gets: the method and its request message, and the
// deadline the caller set (none when it sent no timeout).
struct TtrpcCall {
  std::string service;
  std::string method;
  std::string payload;
  std::optional<std::chrono::steady_clock::time_point> deadline;
};
// The response message, or a status sent back with the code it carries.
using TtrpcHandler = std::function<StatusOr<std::string>(const TtrpcCall& call)>;

class TtrpcConnection {
 public:
  // Takes `socket` (a connected unix stream socket) and starts reading it.
  TtrpcConnection(UniqueFd socket, MuxConnection calls_on, MuxConnection serves_on, TtrpcHandler handler);
  ~TtrpcConnection();
  TtrpcConnection(const TtrpcConnection&) = delete;
  TtrpcConnection& operator=(const TtrpcConnection&) = delete;

  // A unary call: the response message, or the peer's status (its code and
  // message), DEADLINE_EXCEEDED, or UNAVAILABLE once the connection is gone.
  StatusOr<std::string> Call(const std::string& service, const std::string& method, const std::string& payload,
                             std::chrono::milliseconds timeout);

  // Ends the connection: shuts the socket, fails waiting calls, waits for the reader
  // and every handler. Called again, or from the destructor, it does nothing more.
  // Never from a handler or from on_closed (it would wait for itself).
  void Close();
  // Ends the connection without waiting for anything (Close still joins later):
  // for a caller that may hold what a handler is waiting for.
  void Abort(const std::string& why) { Fail(why); }
  // Whether the connection still works; `why` says how it ended.
  bool open() const;
  std::string closed_reason() const;
  // Called once, from the reader, when the socket ends or breaks (not on Close()).
  void set_on_closed(std::function<void(const std::string& why)> on_closed);

 private:
  struct PendingCall {
    bool done = false;
    StatusOr<std::string> result = absl::UnknownError("no answer");
  };

  struct Request {
    uint32_t stream_id = 0;
    std::string payload;
    bool oversized = false;
  };

  void ReadLoop();
  void ServeLoop();
  void OnFrame(uint32_t connection, const std::string& data);
  void OnResponse(uint32_t stream_id, const std::string& payload, bool oversized);
  void OnRequest(uint32_t stream_id, const std::string& payload, bool oversized);
  Status Send(MuxConnection connection, const std::string& bytes, std::chrono::steady_clock::time_point deadline);
  // Writes mux frames whole; the caller holds send_mu_.
  Status SendLocked(const std::string& frames, std::chrono::steady_clock::time_point deadline);
  void Fail(const std::string& why);

  // Read by the reader thread alone.
  TtrpcMessageReader responses_;    // on calls_on_
  TtrpcMessageReader requests_in_;  // on serves_on_

  UniqueFd socket_;
  UniqueFd wake_;  // an eventfd that ends the reader's poll on Close()
  const MuxConnection calls_on_;
  const MuxConnection serves_on_;
  TtrpcHandler handler_;

  mutable std::mutex mu_;
  std::condition_variable answered_;
  std::map<uint32_t, std::shared_ptr<PendingCall>> pending_;  // by stream id
  uint32_t next_stream_id_ = 1;
  uint32_t last_served_stream_id_ = 0;
  std::string closed_reason_;  // empty while open
  std::function<void(const std::string&)> on_closed_;
  std::condition_variable requested_;
  std::deque<Request> requests_;
  std::mutex send_mu_;  // one writer at a time: frames must not interleave
  std::thread reader_;
  std::thread server_;
  bool close_called_ = false;
};

}  // namespace berth::nri
