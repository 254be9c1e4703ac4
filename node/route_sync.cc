#include "node/route_sync.h"

#include <arpa/inet.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include <memory>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace berth::node {

namespace {

// An address and prefix length, in network byte order.
struct Prefix {
  int family = 0;
  unsigned char bytes[16] = {};
  int bits = 0;
};

std::optional<Prefix> ParsePrefix(const std::string& text, bool with_length) {
  Prefix prefix;
  size_t slash = text.find('/');
  if (with_length != (slash != std::string::npos)) return std::nullopt;
  const std::string address = text.substr(0, slash);
  prefix.family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (::inet_pton(prefix.family, address.c_str(), prefix.bytes) != 1) return std::nullopt;
  const int max_bits = prefix.family == AF_INET6 ? 128 : 32;
  prefix.bits = max_bits;
  if (with_length &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &prefix.bits) || prefix.bits < 0 || prefix.bits > max_bits)) {
    return std::nullopt;
  }
  return prefix;
}

// Whether inner lies within outer (same family, at least as long, same leading bits).
bool Within(const Prefix& inner, const Prefix& outer) {
  if (inner.family != outer.family || inner.bits < outer.bits) return false;
  for (int bit = 0; bit < outer.bits; ++bit) {
    const int byte = bit / 8;
    const unsigned char mask = static_cast<unsigned char>(0x80 >> (bit % 8));
    if ((inner.bytes[byte] & mask) != (outer.bytes[byte] & mask)) return false;
  }
  return true;
}

}  // namespace

bool IsIpv4Cidr(const std::string& text) {
  auto prefix = ParsePrefix(text, true);
  return prefix && prefix->family == AF_INET;
}

std::optional<NodeRoute> RouteTo(const std::string& node, const std::string& cidr,
                                 const std::vector<std::string>& addresses, const RoutePolicy& policy) {
  if (node.empty() || node == policy.self) return std::nullopt;
  auto prefix = ParsePrefix(cidr, true);
  auto subnet = ParsePrefix(policy.pod_subnet, true);
  if (!prefix || !subnet || !Within(*prefix, *subnet)) return std::nullopt;
  for (const auto& address : addresses) {
    auto parsed = ParsePrefix(address, false);
    if (parsed && parsed->family == prefix->family) return NodeRoute{node, cidr, address};
  }
  return std::nullopt;
}

namespace {

struct NlFree {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
  void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};

// `ip route replace CIDR via VIA` (or `ip route del`) over rtnetlink. berth-node must
// not run `ip`: as PID 1 it reaps every child, and would take this one's exit from
// under a wait.
Status ChangeRoute(const NodeRoute& route, bool remove) {
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
  int err = remove ? rtnl_route_delete(sock.get(), entry.get(), 0)
                   : rtnl_route_add(sock.get(), entry.get(), NLM_F_CREATE | NLM_F_REPLACE);
  // A route already gone is what a removal wants.
  if (err < 0 && !(remove && err == -NLE_OBJ_NOTFOUND)) {
    return absl::UnavailableError(absl::StrCat("route ", route.cidr, " via ", route.via, ": ", nl_geterror(err)));
  }
  return absl::OkStatus();
}

}  // namespace

RouteChanges PlanRoutes(const std::map<std::string, NodeRoute>& current, const NodeRoutes& wanted) {
  RouteChanges changes;
  for (const auto& route : wanted.routes) {
    auto it = current.find(route.cidr);
    if (it == current.end() || it->second.via != route.via || it->second.node != route.node) {
      changes.set.push_back(route);
    }
  }
  for (const auto& [cidr, route] : current) {
    if (route.node != wanted.node) continue;
    bool kept = false;
    for (const auto& want : wanted.routes) kept = kept || want.cidr == cidr;
    if (!kept) changes.removed.push_back(route);
  }
  return changes;
}

void RouteTable::Resync(const std::vector<NodeRoutes>& all) {
  std::set<std::string> listed;
  for (const auto& node : all) listed.insert(node.node);
  std::set<std::string> gone;
  for (const auto& [cidr, route] : set_) {
    if (!listed.count(route.node)) gone.insert(route.node);
  }
  for (const auto& node : gone) Sync({node, {}});
  for (const auto& node : all) Sync(node);
}

void RouteTable::Sync(const NodeRoutes& wanted) {
  RouteChanges changes = PlanRoutes(set_, wanted);
  for (const auto& route : changes.removed) {
    if (Status status = ChangeRoute(route, /*remove=*/true); !status.ok()) {
      BERTH_LOG(Warn) << "route not removed" << Kv("node", route.node) << Kv("error", status.message());
      continue;
    }
    set_.erase(route.cidr);
    BERTH_LOG(Info) << "route removed" << Kv("node", route.node) << Kv("cidr", route.cidr);
  }
  for (const auto& route : changes.set) {
    if (Status status = ChangeRoute(route, /*remove=*/false); !status.ok()) {
      BERTH_LOG(Warn) << "route not set" << Kv("node", route.node) << Kv("error", status.message());
      continue;
    }
    set_[route.cidr] = route;
    BERTH_LOG(Info) << "route set" << Kv("node", route.node) << Kv("cidr", route.cidr) << Kv("via", route.via);
  }
}

}  // namespace berth::node
