// A command running in a container for a streaming session (kubectl exec): its
// stdio are pipes the session holds, and it never outlives the session: a session
// that ends early kills it (and the runtime's exec that waits for it).
#pragma once

#include <optional>
#include <string>

#include "base/unique_fd.h"
#include "pods/runtime_handler.h"

namespace berth::pods {

class ExecProcess {
 public:
  explicit ExecProcess(RuntimeHandler::ExecChild child);
  ~ExecProcess();  // kills it if it still runs
  ExecProcess(const ExecProcess&) = delete;
  ExecProcess& operator=(const ExecProcess&) = delete;

  // The session's ends of the process's stdio (stdin invalid unless asked for),
  // for it to take.
  UniqueFd& stdin() { return child_.runtime.stdin; }
  UniqueFd& stdout() { return child_.runtime.stdout; }
  UniqueFd& stderr() { return child_.runtime.stderr; }
  // Readable once the process has exited.
  UniqueFd& exit_fd() { return child_.runtime.pidfd; }
  // The process's terminal (master end), when it has one: then it is its stdin and
  // stdout, and stdout() and stdin() are not.
  UniqueFd& terminal() { return child_.terminal; }

  // Reaps it: 0..255, 128+n for a death by signal n. Waits if it still runs.
  int ExitCode();
  // SIGKILL to the process and to the runtime's exec; reaps them.
  void Kill();

 private:
  void Reap();

  RuntimeHandler::ExecChild child_;
  std::optional<int> exit_code_;
};

}  // namespace berth::pods
