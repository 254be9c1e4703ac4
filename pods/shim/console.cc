#include "pods/shim/console.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

StatusOr<UniqueFd> ReceiveConsole(const ConsoleSocket& socket) {
  UniqueFd conn(::accept4(socket.listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ::unlink(socket.path.c_str());
  if (!conn) return absl::FailedPreconditionError("the runtime sent no terminal");
  char name[128];
  iovec payload = {name, sizeof name};
  char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message = {};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (::recvmsg(conn.get(), &message, MSG_CMSG_CLOEXEC) < 0) return ErrnoError("receive the terminal");
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == nullptr || header->cmsg_type != SCM_RIGHTS) {
    return absl::FailedPreconditionError("the runtime sent no terminal");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return UniqueFd(fd);
}

}  // namespace berth::pods::shim
