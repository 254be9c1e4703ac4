#include "runtime/process_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/process.h"
#include "runtime/capabilities.h"
#include "runtime/idmap.h"

namespace berth::runtime {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string EnvValue(const std::vector<std::string>& env, absl::string_view key) {
  for (const auto& entry : env) {
    if (absl::StartsWith(entry, key) && entry.size() > key.size() && entry[key.size()] == '=') {
      return entry.substr(key.size() + 1);
    }
  }
  return "";
}

// PATH lookup inside the container, so an unknown command fails `create`, not `start`.
StatusOr<std::string> FindExecutable(const std::string& name, const std::vector<std::string>& env) {
  auto executable = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
    return ErrnoError(absl::StrCat("exec: \"", name, "\""));
  }
  std::string path = EnvValue(env, "PATH");
  if (path.empty()) path = kDefaultPath;
  for (auto dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (executable(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("exec: \"", name, "\": executable file not found in $PATH"));
}

// Gives the process a terminal of the container's own devpts: the master end goes
// to whoever listens on the console socket (the shim), the slave becomes stdio and
// the controlling terminal of a new session.
Status SetupConsole(int console_fd, uid_t uid) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return ErrnoError("open /dev/ptmx");
  if (::unlockpt(master.get()) != 0) return ErrnoError("unlock the terminal");
  char name[64];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) return ErrnoError("name the terminal");
  UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return ErrnoError(absl::StrCat("open ", name));
  // The process owns its terminal, as on a login.
  if (::fchown(slave.get(), uid, static_cast<gid_t>(-1)) != 0) return ErrnoError(absl::StrCat("chown ", name));

  RETURN_IF_ERROR(
      Annotate(SendWithFd(console_fd, name, master.get()).status(), "send the terminal to the console socket"));

  if (::setsid() < 0) return ErrnoError("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return ErrnoError("make the terminal controlling");
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave.get(), fd) < 0) return ErrnoError("terminal as stdio");
  }
  return absl::OkStatus();
}

}  // namespace

Status SendMessage(int fd, absl::string_view message, int passed_fd) {
  ssize_t n;
  if (passed_fd < 0) {
    // send(2), as before fds were ever passed: an init under a strict seccomp profile
    // may be allowed sendto but not sendmsg.
    do {
      n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError("sync send");
    return absl::OkStatus();
  }
  return SendWithFd(fd, message, passed_fd).status();
}

StatusOr<size_t> SendWithFd(int sock, absl::string_view data, int passed_fd) {
  iovec payload = {const_cast<char*>(data.data()), data.size()};
  msghdr header = {};
  header.msg_iov = &payload;
  header.msg_iovlen = 1;
  char control[CMSG_SPACE(sizeof(int))] = {};
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  cmsghdr* rights = CMSG_FIRSTHDR(&header);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(rights), &passed_fd, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(sock, &header, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError("send with an fd");
  return static_cast<size_t>(n);
}

StatusOr<std::string> ReceiveMessage(int fd, UniqueFd* passed) {
  char buf[4096];
  ssize_t n;
  if (passed == nullptr) {
    // recv(2) where no fd is expected, for the same reason as in SendMessage.
    do {
      n = ::recv(fd, buf, sizeof(buf), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError("sync receive");
    return std::string(buf, n);
  }
  iovec payload = {buf, sizeof buf};
  char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr header = {};
  header.msg_iov = &payload;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  do {
    n = ::recvmsg(fd, &header, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError("sync receive");
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) continue;
    int received;
    std::memcpy(&received, CMSG_DATA(c), sizeof(int));
    *passed = UniqueFd(received);
  }
  return std::string(buf, n);
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(n);
  }
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// A pidfd for the container's init, or NOT_FOUND if the pid now names another process.
StatusOr<UniqueFd> OpenInit(const ContainerState& state) {
  UniqueFd pidfd(PidfdOpen(state.pid));
  if (!pidfd || !ProcessAlive(state.pid, state.start_time)) {
    return absl::NotFoundError(absl::StrCat("container ", state.id, " is not running"));
  }
  return pidfd;
}

bool WaitPidfd(int pidfd, int timeout_ms) {
  struct pollfd p = {pidfd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// Marks every fd from 3 up CLOEXEC except the first `preserve`, which are made
// inheritable: nothing of the runtime's survives the exec.
Status MarkFdsCloexec(int preserve) {
  unsigned first = 3 + static_cast<unsigned>(preserve);
  if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) != 0) return ErrnoError("close_range");
  for (int fd = 3; fd < static_cast<int>(first); ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) (void)::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  return absl::OkStatus();
}



std::string MessageOf(const Status& status) { return std::string(status.message()); }

// Connected here, where the socket's path means what the caller meant; the
// process sends its terminal over it from inside the container.
StatusOr<UniqueFd> ConnectConsoleSocket(const std::string& path) {
  UniqueFd console(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("console socket path too long: ", path));
  }
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (!console || ::connect(console.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(absl::StrCat("connect to console socket ", path));
  }
  return console;
}

// What the init and an exec'd process both do inside the container before the
// user and capabilities change: the terminal (when asked for), the working
// directory, the executable looked up, rlimits and the AppArmor profile.
//
// In a user namespace this runs before the process enters it, so the terminal is
// given to the host uid the process's uid maps to.
StatusOr<std::string> PrepareProcess(const Process& process, const Spec& spec, int console_fd) {
  if (process.terminal) {
    uid_t owner = process.user.uid;
    if (spec.FindNamespace("user") != nullptr) {
      std::optional<uint32_t> host = HostId(spec.uid_mappings, process.user.uid);
      if (!host) return absl::InvalidArgumentError(absl::StrCat("uid ", process.user.uid, " is not mapped"));
      owner = *host;
    }
    RETURN_IF_ERROR(SetupConsole(console_fd, owner));
    ::close(console_fd);
  }
  if (::chdir(process.cwd.c_str()) != 0) return ErrnoError(absl::StrCat("chdir ", process.cwd));
  ASSIGN_OR_RETURN(std::string exe, FindExecutable(process.args[0], process.env));
  RETURN_IF_ERROR(SetRlimits(process.rlimits));
  RETURN_IF_ERROR(SetAppArmorExecProfile(process.apparmor_profile));
  return exe;
}

}  // namespace berth::runtime
