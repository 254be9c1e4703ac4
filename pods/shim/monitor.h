// The container's monitor, the shim's work once the container exists: the
// container's output into the CRI log, commands from the control FIFO, and the
// children it reaps (the init, and, as subreaper, whatever the container orphans),
// until the init has exited and its output is drained.
#pragma once

#include <sys/types.h>

#include "base/unique_fd.h"
#include "pods/shim/cri_log.h"
#include "pods/shim/event_loop.h"

namespace berth::pods::shim {

class Monitor {
 public:
  struct Streams {
    UniqueFd stdout_read;  // empty for a tty container
    UniqueFd stderr_read;  // empty for a tty container
    UniqueFd terminal;     // the terminal's master end; its output is logged as stdout
    UniqueFd control;      // the control FIFO, opened read-write so it never reads EOF
  };

  // The caller has blocked SIGCHLD (before the init was forked, so no exit is lost);
  // the monitor takes it through a signalfd.
  Monitor(pid_t init, Streams streams, CriLogWriter* log);

  // Returns the init's exit code (128+n when signal n killed it). Output still
  // arriving after the exit is logged for up to a second: processes that escaped the
  // container may hold the pipes, and must not keep the exit from being recorded.
  int Run();

 private:
  void WatchOutput(UniqueFd& fd, const char* stream);
  void Reap();
  void StopWhenDrained();

  const pid_t init_;
  Streams streams_;
  CriLogWriter* log_;
  UniqueFd signals_;
  EventLoop loop_;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace berth::pods::shim
