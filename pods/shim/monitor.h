// The container's monitor, the shim's work once the container exists: the
// container's output into the CRI log and to every attacher, attachers' input into
// the container's stdin, commands from the control FIFO, and the children it reaps
// (the init, and, as subreaper, whatever the container orphans), until the init
// has exited and its output is drained.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "base/unique_fd.h"
#include "pods/shim/cri_log.h"
#include "pods/shim/event_loop.h"
#include "pods/shim/protocol.h"

namespace berth::pods::shim {

class Monitor {
 public:
  struct Streams {
    UniqueFd stdout_read;  // empty for a tty container
    UniqueFd stderr_read;  // empty for a tty container
    UniqueFd terminal;     // the terminal's master end; its output is logged as stdout
    UniqueFd control;      // the control FIFO, opened read-write so it never reads EOF
    UniqueFd attach;       // the attach socket's listener; empty: no attach
    UniqueFd stdin_write;  // the container's stdin (a pipe), when it has one and no terminal
    bool stdin_once = false;  // an attacher's end of stdin ends the container's
  };

  // The caller has blocked SIGCHLD (before the init was forked, so no exit is lost);
  // the monitor takes it through a signalfd.
  Monitor(pid_t init, Streams streams, CriLogWriter* log);

  // Returns the init's exit code (128+n when signal n killed it). Output still
  // arriving after the exit is logged for up to a second: processes that escaped the
  // container may hold the pipes, and must not keep the exit from being recorded.
  int Run();

 private:
  struct Attacher {
    UniqueFd connection;
    AttachFrameReader reader;
  };

  void WatchOutput(UniqueFd& fd, const char* stream);
  void Accept();
  void ReadAttacher(int fd);
  void DropAttacher(int fd);
  // The container's output to every attacher; one that cannot take it at once
  // (its buffer, megabytes, is full) is detached rather than let hold the log up.
  void Broadcast(AttachFrame kind, absl::string_view data);
  void FlushStdin();
  void Reap();
  void StopWhenDrained();

  const pid_t init_;
  Streams streams_;
  CriLogWriter* log_;
  UniqueFd signals_;
  EventLoop loop_;
  bool exited_ = false;
  int exit_code_ = -1;
  std::map<int, Attacher> attachers_;
  std::string stdin_pending_;  // from attachers, not yet taken by the container
  bool close_stdin_ = false;   // once stdin_pending_ is written
};

}  // namespace berth::pods::shim
