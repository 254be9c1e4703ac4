#include "cluster/published_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/unique_fd.h"

namespace berth::cluster {

StatusOr<PublishedPort> ParsePublishedPort(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  if (parts.size() != 2 && parts.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("published port \"", text, "\": give [ADDRESS:]HOST_PORT:NODE_PORT"));
  }
  PublishedPort port;
  if (parts.size() == 3) {
    in_addr address;
    if (::inet_pton(AF_INET, parts[0].c_str(), &address) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("published port \"", text, "\": ", parts[0],
                                                     " is not an IPv4 address"));
    }
    port.address = parts[0];
  }
  const std::string& host = parts[parts.size() - 2];
  const std::string& node = parts[parts.size() - 1];
  if (!absl::SimpleAtoi(host, &port.host_port) || port.host_port < 1 || port.host_port > 65535 ||
      !absl::SimpleAtoi(node, &port.node_port) || port.node_port < 1 || port.node_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("published port \"", text, "\": ports are 1 to 65535"));
  }
  return port;
}

Status CheckHostPortsFree(const std::vector<PublishedPort>& ports) {
  std::set<std::pair<std::string, int>> seen;
  for (const auto& port : ports) {
    if (!seen.insert({port.address, port.host_port}).second) {
      return absl::InvalidArgumentError(absl::StrCat(port.address, ":", port.host_port, " is published twice"));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port.host_port));
    if (::inet_pton(AF_INET, port.address.c_str(), &address.sin_addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(port.address, " is not an IPv4 address"));
    }
    UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe) return ErrnoError("socket");
    // As berth-node will bind it: a port in TIME_WAIT is free.
    int one = 1;
    ::setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      return ErrnoError(absl::StrCat("publish ", port.address, ":", port.host_port));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::cluster
