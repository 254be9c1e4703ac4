// Processes berthd starts and watches: spawning with captured output and a
// deadline, and identifying processes by pid plus start time (a pid alone may have
// been reused).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth {

// The kernel's start time of pid (clock ticks since boot), or 0 if it is gone.
uint64_t ProcessStartTime(pid_t pid);

// The parent of pid, or 0 if it is gone.
pid_t ParentPid(pid_t pid);

// True while pid runs and is still the process that started at start_time.
bool ProcessAlive(pid_t pid, uint64_t start_time);

// Waits up to timeout for the process (not necessarily our child) to exit; true if it did.
bool WaitForProcessExit(pid_t pid, uint64_t start_time, std::chrono::milliseconds timeout);

struct RunResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
  bool timed_out = false;
  bool truncated = false;
};

struct RunOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  size_t max_output = 16 << 20;  // per stream
  std::vector<int> keep_fds;     // fds (already at their final numbers) the child keeps
  // Given to the child on stdin (at most a pipe's capacity, 1 MiB); /dev/null when empty.
  std::string stdin_data;
  // NAME=value entries added to (or replacing) berthd's own environment.
  std::vector<std::string> extra_env;
  // The child's whole environment instead of berthd's (extra_env is then ignored).
  std::optional<std::vector<std::string>> env;
  // The file to run when argv[0] is only the name the program sees (an OCI hook's
  // path and args); empty: argv[0].
  std::string executable;
  // The child gets stdio and keep_fds only, also of fds opened without CLOEXEC.
  bool close_other_fds = false;
  // Called with the child's pid when the deadline passes, before the child is killed;
  // lets a caller kill what the child started (an exec'd process).
  std::function<void(pid_t)> on_timeout;
};

// In a forked child about to exec: every signal unblocked and at its default, as a
// new program expects them. A blocked or ignored signal outlives exec: a container
// given berth-shim's blocked SIGCHLD has a shell whose `wait` never returns, and one
// given berthd's ignored SIGPIPE sees EPIPE where a pipeline's writer should die.
// Async-signal-safe.
void ResetSignalsForExec();

// Starts a program that detaches itself (berth-shim) and reports on fd 3; returns
// what it reported once it closed fd 3, stripped of white space.
StatusOr<std::string> SpawnDetached(const std::vector<std::string>& argv);

// A child whose stdio are pipes the caller holds the other ends of (stdin is
// /dev/null unless asked for), for talking to it while it runs.
struct Child {
  pid_t pid = 0;
  UniqueFd pidfd;  // readable once it exits
  UniqueFd stdin;  // invalid unless asked for
  UniqueFd stdout;
  UniqueFd stderr;
};
StatusOr<Child> SpawnChild(const std::vector<std::string>& argv, bool pipe_stdin);
// Reaps a child of ours: its exit code, 128+n for a death by signal n (-1 if pid is
// no child of ours).
int WaitChild(pid_t pid);

// Runs argv to completion with stdout/stderr captured.
StatusOr<RunResult> RunProcess(const std::vector<std::string>& argv, const RunOptions& options);

}  // namespace berth
