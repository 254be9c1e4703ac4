// What berth-runtime's create (container.cc) and exec (container_exec.cc) share:
// the steps a container's init and an exec'd process both take inside the container,
// and the small fd and pidfd helpers of the verbs. Internal to runtime/.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "runtime/spec.h"
#include "runtime/state.h"

namespace berth::runtime {

// One message each way on create's and exec's sync sockets (an empty one at EOF),
// with an fd alongside when passed_fd >= 0 (SCM_RIGHTS): a seccomp notify fd, taken
// into *passed. Without an fd they are plain send and recv, which is all a
// container's own seccomp filter has to allow while its init talks to create.
Status SendMessage(int fd, absl::string_view message, int passed_fd = -1);
StatusOr<std::string> ReceiveMessage(int fd, UniqueFd* passed = nullptr);
// One sendmsg of data with passed_fd alongside (SCM_RIGHTS), EINTR retried: the
// bytes the socket took, which a stream socket may make fewer than data's.
StatusOr<size_t> SendWithFd(int sock, absl::string_view data, int passed_fd);
// Until EOF; and all of data (short writes retried, failures dropped: for a
// child's last words to its parent).
std::string ReadAll(int fd);
void WriteAll(int fd, absl::string_view data);

int PidfdOpen(pid_t pid);
int PidfdSendSignal(int pidfd, int sig);
// A pidfd for the container's init, or NOT_FOUND if the pid now names another process.
StatusOr<UniqueFd> OpenInit(const ContainerState& state);
// Whether the pidfd's process exited within timeout_ms.
bool WaitPidfd(int pidfd, int timeout_ms);
// A wait status as a shell gives it: the exit code, or 128 + the signal.
int ExitCode(int status);

// Marks every fd from 3 up CLOEXEC except the first `preserve`, which are made
// inheritable: nothing of the runtime's survives the exec.
Status MarkFdsCloexec(int preserve);

// argv or envp for execve, pointing into strings (which must outlive it).
struct Argv {
  explicit Argv(const std::vector<std::string>& strings) {
    for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
    pointers.push_back(nullptr);
  }
  std::vector<char*> pointers;
};

std::string MessageOf(const Status& status);

// Connected by the caller, where the socket's path means what it meant; the
// process sends its terminal over it from inside the container.
StatusOr<UniqueFd> ConnectConsoleSocket(const std::string& path);

// What the init and an exec'd process both do inside the container before the
// user and capabilities change: the terminal (when asked for), the working
// directory, the executable looked up in the container's PATH, rlimits and the
// AppArmor profile. Returns the executable's path.
//
// In a user namespace this runs before the process enters it, so the terminal is
// given to the host uid the process's uid maps to.
StatusOr<std::string> PrepareProcess(const Process& process, const Spec& spec, int console_fd);

}  // namespace berth::runtime
