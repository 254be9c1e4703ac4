#include "network/pod_dial.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "network/netns_thread.h"

namespace berth::network {
namespace {

StatusOr<UniqueFd> Connect(int family, int32_t port) {
  UniqueFd socket_fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket_fd) return ErrnoError("socket");
  int rc;
  if (family == AF_INET) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(static_cast<uint16_t>(port));
    address.sin6_addr = in6addr_loopback;
    rc = ::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (rc != 0) return ErrnoError(absl::StrCat("connect to ", family == AF_INET ? "127.0.0.1:" : "[::1]:", port));
  return socket_fd;
}

StatusOr<UniqueFd> DialLoopback(int32_t port) {
  auto v4 = Connect(AF_INET, port);
  if (v4.ok()) return v4;
  auto v6 = Connect(AF_INET6, port);
  if (v6.ok()) return v6;
  return absl::UnavailableError(absl::StrCat("nothing accepts connections on port ", port, " in the pod (",
                                             v4.status().message(), "; ", v6.status().message(), ")"));
}

}  // namespace

StatusOr<UniqueFd> DialPodPort(const std::string& netns_path, int32_t port) {
  if (port < 1 || port > 65535) return absl::InvalidArgumentError(absl::StrCat("port ", port, " is not in 1..65535"));
  if (netns_path.empty()) return DialLoopback(port);
  StatusOr<UniqueFd> dialed = absl::InternalError("not dialed");
  RETURN_IF_ERROR(RunInNetworkNamespace(netns_path, [&] { dialed = DialLoopback(port); }));
  return dialed;
}

}  // namespace berth::network
