#include "node/route_sync.h"

#include <arpa/inet.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "absl/strings/str_cat.h"

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

namespace {

struct NlFree {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
  void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};

// `ip route replace CIDR via VIA` over rtnetlink. berth-node must not run `ip`: as
// PID 1 it reaps every child, and would take this one's exit from under a wait.
Status ReplaceRoute(const NodeRoute& route) {
  std::unique_ptr<nl_sock, NlFree> sock(nl_socket_alloc());
  if (!sock) return absl::ResourceExhaustedError("allocate a netlink socket");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return absl::UnavailableError(absl::StrCat("connect to rtnetlink: ", nl_geterror(err)));
  }
  nl_addr* parsed = nullptr;
  if (nl_addr_parse(route.cidr.c_str(), AF_UNSPEC, &parsed) < 0) {
    return absl::InvalidArgumentError("bad CIDR " + route.cidr);
  }
  std::unique_ptr<nl_addr, NlFree> dst(parsed);
  if (nl_addr_parse(route.via.c_str(), nl_addr_get_family(dst.get()), &parsed) < 0) {
    return absl::InvalidArgumentError("bad address " + route.via);
  }
  std::unique_ptr<nl_addr, NlFree> gateway(parsed);
  std::unique_ptr<rtnl_route, NlFree> entry(rtnl_route_alloc());
  rtnl_route_set_family(entry.get(), static_cast<uint8_t>(nl_addr_get_family(dst.get())));
  rtnl_route_set_dst(entry.get(), dst.get());
  rtnl_route_set_table(entry.get(), RT_TABLE_MAIN);
  rtnl_route_set_scope(entry.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_protocol(entry.get(), RTPROT_STATIC);
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  rtnl_route_nh_set_gateway(hop, gateway.get());
  rtnl_route_add_nexthop(entry.get(), hop);  // the route owns it now
  if (int err = rtnl_route_add(sock.get(), entry.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
    return absl::UnavailableError(absl::StrCat("route ", route.cidr, " via ", route.via, ": ", nl_geterror(err)));
  }
  return absl::OkStatus();
}

}  // namespace

void RouteTable::Apply(const NodeRoute& route) {
  auto it = set_.find(route.cidr);
  if (it != set_.end() && it->second == route.via) return;
  if (Status status = ReplaceRoute(route); !status.ok()) {
    BERTH_LOG(Warn) << "route not set" << Kv("node", route.node) << Kv("error", status.message());
    return;
  }
  set_[route.cidr] = route.via;
  BERTH_LOG(Info) << "route set" << Kv("node", route.node) << Kv("cidr", route.cidr) << Kv("via", route.via);
}

}  // namespace berth::node
