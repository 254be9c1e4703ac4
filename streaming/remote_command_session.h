// An exec or attach session of Kubernetes' remotecommand protocol, over SPDY
// (versions 1 to 4, channel.k8s.io to v4.channel.k8s.io) or WebSocket channels
// (channel.k8s.io to v5.channel.k8s.io): the client opens an error stream, then
// stdin, stdout and stderr as the request asked, and resize for a tty (where the
// version has it); once all are there the command starts (or the attach is made);
// its output goes to the client until it exits and its output is drained; then the
// exit status goes on the error stream and the connection closes. A client that
// goes away ends an exec's process, and only detaches an attach.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>

#include "streaming/backend.h"
#include "streaming/resize_events.h"
#include "streaming/session_metrics.h"
#include "streaming/stream_connection.h"

namespace berth::streaming {

// The remotecommand versions berth speaks over SPDY, best first.
inline constexpr const char* kRemoteCommandProtocols[] = {"v4.channel.k8s.io", "v3.channel.k8s.io",
                                                          "v2.channel.k8s.io", "channel.k8s.io"};

// What a protocol version changes in a session.
struct Dialect {
  // v4 and later: the outcome is a Kubernetes Status object (the exit code in its
  // causes); before, the failure's text alone.
  bool status_object = true;
  // A tty's size comes on a resize stream (SPDY v3 and later, every WebSocket one).
  bool resize = true;

  // Of a SPDY protocol, one of kRemoteCommandProtocols.
  static Dialect OfSpdy(const std::string& protocol);
};

struct SessionTimeouts {
  // For all expected streams to be opened, from the upgrade.
  std::chrono::seconds stream_creation{30};
  // For the output to reach EOF after the process exited (a background child may
  // hold it open).
  std::chrono::seconds drain{30};
};

class RemoteCommandSession : public StreamConnection::Session, public std::enable_shared_from_this<RemoteCommandSession> {
 public:
  // Starts the session's process (an exec, or an attach to the container): called
  // off io's thread, on blocking.
  using Starter = std::function<StatusOr<std::unique_ptr<SessionProcess>>()>;

  // streams: what the client asked for (an attach's has no command).
  RemoteCommandSession(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
                       std::shared_ptr<StreamConnection> connection, ExecRequest streams, Dialect dialect,
                       Starter start, SessionTimeouts timeouts);
  ~RemoteCommandSession() override;

  // Arms the stream-creation timer; call once the connection has started.
  void Begin();

  bool OnStream(uint32_t id, const Headers& headers) override;
  void OnData(uint32_t id, std::string data) override;
  void OnFin(uint32_t id) override;
  void OnReset(uint32_t id) override;
  void OnWritable() override;
  void OnClosed() override;

 private:
  // One output of the process (stdout or stderr) and the stream it goes to.
  struct Output {
    uint32_t stream = 0;
    std::unique_ptr<boost::asio::posix::stream_descriptor> pipe;
    bool reading = false;
    bool done = false;
    char buffer[32 * 1024];
  };

  bool AllStreamsOpen() const;
  void StartProcess();
  void OnProcessStarted(StatusOr<std::unique_ptr<SessionProcess>> started);
  void PumpStdin();
  void ReadOutput(Output& output);
  void OnExited();
  void MaybeFinish();
  // Writes the outcome on the error stream and closes the connection.
  void Finish(const Status& failure, std::optional<int> exit_code);
  void EndProcess();

  boost::asio::io_context& io_;
  boost::asio::thread_pool& blocking_;
  std::shared_ptr<StreamConnection> connection_;
  const ExecRequest request_;
  const Dialect dialect_;
  const Starter start_;
  const SessionTimeouts timeouts_;
  boost::asio::steady_timer timer_;

  uint32_t error_stream_ = 0, stdin_stream_ = 0, resize_stream_ = 0;
  Output stdout_, stderr_;
  bool starting_ = false;
  bool finished_ = false;
  bool client_gone_ = false;

  std::unique_ptr<SessionProcess> process_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stdin_pipe_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> exit_watch_;
  std::string stdin_buffer_;  // from the client, not yet written to the process
  std::string stdin_writing_;
  bool stdin_fin_ = false;
  bool exited_ = false;
  ResizeEvents resize_events_;
  std::optional<TerminalSize> pending_size_;
  // Last: counted from construction to destruction.
  SessionCount counted_{request_.cmd.empty() ? "attach" : "exec"};
};

}  // namespace berth::streaming
