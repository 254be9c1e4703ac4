#include "pods/shim/console.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace berth::pods::shim {

StatusOr<ConsoleSocket> ListenConsoleSocket(const std::string& dir) {
  int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);  // kept for the process's life
  if (dir_fd < 0) return ErrnoError(absl::StrCat("open ", dir));
  ConsoleSocket socket;
  socket.path = absl::StrCat("/proc/", ::getpid(), "/fd/", dir_fd, "/console.sock");
  socket.listener = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket.listener) return ErrnoError("console socket");
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.path.c_str());
  ::unlink(socket.path.c_str());
  if (::bind(socket.listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(socket.listener.get(), 1) != 0) {
    return ErrnoError(absl::StrCat("listen on ", socket.path));
  }
  return socket;
}

namespace {

StatusOr<UniqueFd> ReceiveOn(int conn) {
  char name[128];
  iovec payload = {name, sizeof name};
  char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message = {};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (::recvmsg(conn, &message, MSG_CMSG_CLOEXEC) < 0) return ErrnoError("receive the terminal");
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == nullptr || header->cmsg_type != SCM_RIGHTS) {
    return absl::FailedPreconditionError("the runtime sent no terminal");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return UniqueFd(fd);
}

// Waits for fd to be readable, or for give_up_fd (when valid) to be, or the time.
bool WaitReadable(int fd, int give_up_fd, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{fd, POLLIN, 0}, {give_up_fd, POLLIN, 0}};
    int n = ::poll(fds, give_up_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (fds[0].revents != 0) return true;
    if (give_up_fd >= 0 && fds[1].revents != 0) return false;
  }
}

}  // namespace

StatusOr<UniqueFd> ReceiveConsole(const ConsoleSocket& socket) {
  UniqueFd conn(::accept4(socket.listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ::unlink(socket.path.c_str());
  if (!conn) return absl::FailedPreconditionError("the runtime sent no terminal");
  return ReceiveOn(conn.get());
}

StatusOr<UniqueFd> AwaitConsole(const ConsoleSocket& socket, int give_up_fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!WaitReadable(socket.listener.get(), give_up_fd, deadline)) {
    ::unlink(socket.path.c_str());
    return absl::FailedPreconditionError("the runtime sent no terminal");
  }
  UniqueFd conn(::accept4(socket.listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ::unlink(socket.path.c_str());
  if (!conn) return ErrnoError("accept the runtime's console connection");
  // The process sends its terminal once it is in the container: a moment later.
  if (!WaitReadable(conn.get(), give_up_fd, deadline)) {
    return absl::FailedPreconditionError("the runtime sent no terminal");
  }
  return ReceiveOn(conn.get());
}

}  // namespace berth::pods::shim
