#include "pods/exec_process.h"

#include <signal.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "base/file_util.h"
#include "base/process.h"

namespace berth::pods {

ExecProcess::ExecProcess(RuntimeHandler::ExecChild child) : child_(std::move(child)) {}

ExecProcess::~ExecProcess() {
  if (!exit_code_) Kill();
}

void ExecProcess::Reap() {
  exit_code_ = WaitChild(child_.runtime.pid);
  (void)RemoveAll(child_.dir);
}

int ExecProcess::ExitCode() {
  if (!exit_code_) Reap();
  return *exit_code_;
}

void ExecProcess::Kill() {
  if (exit_code_) return;
  // The process first: the runtime's exec would only pass a signal on, and a
  // process whose runtime died first would be left to the container.
  auto text = ReadFile(child_.pid_file);
  int pid = 0;
  if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) && pid > 0) ::kill(pid, SIGKILL);
  ::kill(child_.runtime.pid, SIGKILL);
  Reap();
}

}  // namespace berth::pods
