#include "node/route_sync.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "base/process.h"

namespace berth::node {

namespace {

bool IsAddress(const std::string& text) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

bool IsCidr(const std::string& text) {
  size_t slash = text.find('/');
  int bits = 0;
  const bool v6 = text.find(':') != std::string::npos;
  if (slash == std::string::npos || !absl::SimpleAtoi(text.substr(slash + 1), &bits) || bits < 0 ||
      bits > (v6 ? 128 : 32)) {
    return false;
  }
  return IsAddress(text.substr(0, slash));
}

}  // namespace

std::vector<std::string> WatchNodesArgv(const RouteSync& config) {
  return {config.kubectl,
          "--kubeconfig=" + config.kubeconfig,
          "get",
          "nodes",
          "--watch",
          "--output=jsonpath={.metadata.name} {.spec.podCIDR} "
          "{.status.addresses[?(@.type==\"InternalIP\")].address}{\"\\n\"}"};
}

std::optional<NodeRoute> ParseNodeLine(absl::string_view line, const std::string& self) {
  std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  if (fields.size() < 3 || fields[0] == self) return std::nullopt;
  // A node with two InternalIPs (dual stack) lists both: route through the one of
  // the CIDR's family.
  const bool v6 = fields[1].find(':') != std::string::npos;
  for (size_t i = 2; i < fields.size(); ++i) {
    if ((fields[i].find(':') != std::string::npos) != v6) continue;
    if (IsCidr(fields[1]) && IsAddress(fields[i])) return NodeRoute{fields[0], fields[1], fields[i]};
  }
  return std::nullopt;
}

void RouteTable::Apply(const NodeRoute& route) {
  auto it = set_.find(route.cidr);
  if (it != set_.end() && it->second == route.via) return;
  auto result = RunProcess({"/usr/bin/ip", "route", "replace", route.cidr, "via", route.via}, RunOptions{});
  if (!result.ok() || result->exit_code != 0) {
    BERTH_LOG(Warn) << "route not set" << Kv("node", route.node) << Kv("cidr", route.cidr) << Kv("via", route.via)
                    << Kv("error", result.ok() ? result->err : std::string(result.status().message()));
    return;
  }
  set_[route.cidr] = route.via;
  BERTH_LOG(Info) << "route set" << Kv("node", route.node) << Kv("cidr", route.cidr) << Kv("via", route.via);
}

}  // namespace berth::node
