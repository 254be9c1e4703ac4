#include "base/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace berth {
namespace {

// An address for path, and the directory descriptor that must stay open while it
// is used.
StatusOr<sockaddr_un> AddressOf(const std::string& path, UniqueFd* dir) {
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::string name = path;
  if (path.size() >= sizeof address.sun_path) {
    const std::filesystem::path full(path);
    *dir = UniqueFd(::open(full.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!*dir) return ErrnoError(absl::StrCat("open the directory of ", path));
    name = absl::StrCat("/proc/self/fd/", dir->get(), "/", full.filename().string());
    if (name.size() >= sizeof address.sun_path) {
      return absl::InvalidArgumentError(absl::StrCat("socket name too long: ", path));
    }
  }
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", name.c_str());
  return address;
}

}  // namespace

StatusOr<UniqueFd> ListenUnix(const std::string& path, int backlog) {
  UniqueFd dir;
  ASSIGN_OR_RETURN(sockaddr_un address, AddressOf(path, &dir));
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener) return ErrnoError("socket");
  ::unlink(address.sun_path);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener.get(), backlog) != 0) {
    return ErrnoError(absl::StrCat("listen on ", path));
  }
  return listener;
}

StatusOr<UniqueFd> ConnectUnix(const std::string& path) {
  UniqueFd dir;
  ASSIGN_OR_RETURN(sockaddr_un address, AddressOf(path, &dir));
  UniqueFd connection(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!connection) return ErrnoError("socket");
  if (::connect(connection.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return ErrnoError(absl::StrCat("connect to ", path));
  }
  return connection;
}

}  // namespace berth
