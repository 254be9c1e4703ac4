// What the streaming server needs from the node: processes to run in containers
// and connections into pods. The server knows nothing of pods and containers
// beyond the ids in the requests; berthd gives it a backend over its lifecycle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "streaming/requests.h"

namespace berth::streaming {

// A process a session talks to through its stdio.
class SessionProcess {
 public:
  virtual ~SessionProcess() = default;
  // The process's stdin, stdout and stderr as the session's ends of pipes (or, for
  // a tty, stdout alone: the terminal); invalid for streams not asked for. The
  // session takes them.
  UniqueFd stdin;
  UniqueFd stdout;
  UniqueFd stderr;
  // Readable once the process has exited.
  UniqueFd exit_fd;
  // The exit code, once exit_fd is readable: 0..255, 128+n for a death by signal n.
  virtual int ExitCode() = 0;
  // A new terminal size (tty only).
  virtual void Resize(uint16_t width, uint16_t height) { (void)width, (void)height; }
  // Ends the process (the session's client went away) and reaps it.
  virtual void Kill() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Starts request's command in its container. May block (it starts a runtime
  // process): the server calls it off its I/O thread.
  virtual StatusOr<std::unique_ptr<SessionProcess>> Exec(const ExecRequest& request) = 0;
  // Attaches to the container's stdio: its output from now on, and its stdin. The
  // "process" ends (exit code 0) when the container does; Kill only detaches.
  // May block, like Exec.
  virtual StatusOr<std::unique_ptr<SessionProcess>> Attach(const AttachRequest& request) = 0;
  // A TCP connection to port on the pod's loopback (the pod's network namespace, or
  // the host's for a host-network pod). May block, like Exec.
  virtual StatusOr<UniqueFd> DialPod(const std::string& pod_id, int32_t port) = 0;
};

}  // namespace berth::streaming
