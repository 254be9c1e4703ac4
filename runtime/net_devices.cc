#include "runtime/net_devices.h"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sched.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::runtime {
namespace {

struct SocketFree {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct LinkPut {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct AddrPut {
  void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
struct CacheFree {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct NlAddrPut {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
using Socket = std::unique_ptr<nl_sock, SocketFree>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<rtnl_addr, AddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrPut>;

// A libnl error (a negative NLE_* code) as a status that says what was being done.
Status NlError(int error, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", nl_geterror(error));
  switch (-error) {
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return absl::NotFoundError(message);
    case NLE_EXIST:
      return absl::AlreadyExistsError(message);
    case NLE_PERM:
      return absl::PermissionDeniedError(message);
    case NLE_INVAL:
    case NLE_RANGE:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

StatusOr<Socket> ConnectRoute() {
  Socket sock(nl_socket_alloc());
  if (!sock) return absl::ResourceExhaustedError("allocate a netlink socket");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) return NlError(err, "connect to rtnetlink");
  return sock;
}

// A socket talks to the network namespace it was made in, so one for another
// namespace is made there: this thread enters it and comes back.
StatusOr<Socket> ConnectRouteIn(int netns_fd, int home_netns_fd) {
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return ErrnoError("enter the container's network namespace");
  StatusOr<Socket> sock = ConnectRoute();
  if (::setns(home_netns_fd, CLONE_NEWNET) != 0) return ErrnoError("return to the runtime's network namespace");
  return sock;
}

StatusOr<Link> GetLink(nl_sock* sock, int ifindex, const std::string& name, absl::string_view where) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sock, ifindex, name.empty() ? nullptr : name.c_str(), &raw);
  if (err < 0) {
    std::string which = name.empty() ? absl::StrCat("index ", ifindex) : name;
    return NlError(err, absl::StrCat("network device ", which, " in ", where));
  }
  return Link(raw);
}

// "net%d" matches "net0", "net12".
bool FitsTemplate(absl::string_view name, absl::string_view name_template) {
  size_t at = name_template.find("%d");
  if (at == absl::string_view::npos) return name == name_template;
  absl::string_view prefix = name_template.substr(0, at), suffix = name_template.substr(at + 2);
  if (name.size() <= prefix.size() + suffix.size()) return false;
  if (!absl::StartsWith(name, prefix) || !absl::EndsWith(name, suffix)) return false;
  absl::string_view number = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return std::all_of(number.begin(), number.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// The addresses a moved link keeps (the spec's rule): permanent, of global scope,
// of any family. Moving a link drops all its addresses, so they are read first and
// given again on the other side: each copied field by field, leaving out what the
// kernel keeps for itself (label, cache info, state flags).
StatusOr<std::vector<Addr>> AddressesToKeep(nl_sock* sock, int ifindex) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock, &raw); err < 0) return NlError(err, "list addresses");
  Cache cache(raw);
  std::vector<Addr> kept;
  for (nl_object* object = nl_cache_get_first(cache.get()); object != nullptr; object = nl_cache_get_next(object)) {
    auto* address = reinterpret_cast<rtnl_addr*>(object);
    if (rtnl_addr_get_ifindex(address) != ifindex) continue;
    if ((rtnl_addr_get_flags(address) & IFA_F_PERMANENT) == 0) continue;
    if (rtnl_addr_get_scope(address) != RT_SCOPE_UNIVERSE) continue;
    Addr copy(rtnl_addr_alloc());
    if (!copy) return absl::ResourceExhaustedError("allocate an address");
    rtnl_addr_set_family(copy.get(), rtnl_addr_get_family(address));
    if (nl_addr* local = rtnl_addr_get_local(address)) rtnl_addr_set_local(copy.get(), local);
    if (nl_addr* peer = rtnl_addr_get_peer(address)) rtnl_addr_set_peer(copy.get(), peer);
    if (nl_addr* broadcast = rtnl_addr_get_broadcast(address)) rtnl_addr_set_broadcast(copy.get(), broadcast);
    rtnl_addr_set_prefixlen(copy.get(), rtnl_addr_get_prefixlen(address));
    rtnl_addr_set_scope(copy.get(), RT_SCOPE_UNIVERSE);
    constexpr unsigned kRequestFlags =
        IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN;
    rtnl_addr_set_flags(copy.get(), rtnl_addr_get_flags(address) & kRequestFlags);
    kept.push_back(std::move(copy));
  }
  return kept;
}

Status AddAddresses(nl_sock* sock, int ifindex, const std::vector<Addr>& addresses, absl::string_view device) {
  for (const Addr& address : addresses) {
    rtnl_addr_set_ifindex(address.get(), ifindex);
    if (int err = rtnl_addr_add(sock, address.get(), 0); err < 0) {
      char text[128];
      nl_addr2str(rtnl_addr_get_local(address.get()), text, sizeof(text));
      return NlError(err, absl::StrCat("give ", device, " its address ", text));
    }
  }
  return absl::OkStatus();
}

Status SetUp(nl_sock* sock, rtnl_link* link) {
  Link change(rtnl_link_alloc());
  if (!change) return absl::ResourceExhaustedError("allocate a link");
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock, link, change.get(), 0); err < 0) {
    return NlError(err, absl::StrCat("set ", rtnl_link_get_name(link), " up"));
  }
  return absl::OkStatus();
}

// Moves link into netns_fd's namespace, renamed to new_name unless that is empty.
// The kernel does both in one request, and numbers a "%d" in the name.
Status MoveLink(nl_sock* sock, rtnl_link* link, int netns_fd, const std::string& new_name, absl::string_view where) {
  Link change(rtnl_link_alloc());
  if (!change) return absl::ResourceExhaustedError("allocate a link");
  rtnl_link_set_ns_fd(change.get(), netns_fd);
  if (!new_name.empty() && new_name != rtnl_link_get_name(link)) rtnl_link_set_name(change.get(), new_name.c_str());
  if (int err = rtnl_link_change(sock, link, change.get(), 0); err < 0) {
    return NlError(err, absl::StrCat("move network device ", rtnl_link_get_name(link), " into ", where));
  }
  return absl::OkStatus();
}

// The link with this hardware address (any, when null) whose name fits the template
// ("" for any name); the one at old_ifindex first, as the kernel keeps an index the
// namespace has free.
StatusOr<Link> FindByHardwareAddress(nl_sock* sock, nl_addr* hardware_address, int old_ifindex,
                                     const std::string& name) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &raw); err < 0) return NlError(err, "list network devices");
  Cache cache(raw);
  rtnl_link* found = nullptr;
  for (nl_object* object = nl_cache_get_first(cache.get()); object != nullptr; object = nl_cache_get_next(object)) {
    auto* link = reinterpret_cast<rtnl_link*>(object);
    if (!name.empty() && !FitsTemplate(rtnl_link_get_name(link), name)) continue;
    nl_addr* address = rtnl_link_get_addr(link);
    bool same_address =
        hardware_address == nullptr || (address != nullptr && nl_addr_cmp(address, hardware_address) == 0);
    if (!same_address) continue;
    if (found == nullptr || rtnl_link_get_ifindex(link) == old_ifindex) found = link;
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no network device named like ", name, " after the move"));
  }
  nl_object_get(reinterpret_cast<nl_object*>(found));
  return Link(found);
}

// The link that was moved, found on its new side: by name, or, when the kernel
// numbered it, by its hardware address among the names that fit the template.
StatusOr<Link> FindMoved(nl_sock* sock, const std::string& name, nl_addr* hardware_address, int old_ifindex) {
  if (!absl::StrContains(name, "%d")) return GetLink(sock, 0, name, "the container's network namespace");
  return FindByHardwareAddress(sock, hardware_address, old_ifindex, name);
}

Status CheckName(const std::string& name, bool numbered, absl::string_view what) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("linux.netDevices: ", what, " \"", name, "\" ", why));
  };
  if (name.empty() || name.size() >= IFNAMSIZ) return bad("is not 1 to 15 bytes long");
  if (name == "." || name == "..") return bad("is not a device name");
  for (char c : name) {
    if (c == '/' || c == ':' || absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '\0') {
      return bad("holds '/', ':' or whitespace");
    }
  }
  size_t percent = name.find('%');
  if (percent != std::string::npos) {
    if (!numbered) return bad("holds '%'");
    if (name.compare(percent, 2, "%d") != 0 || name.find('%', percent + 1) != std::string::npos) {
      return bad("may hold '%' only as one \"%d\"");
    }
  }
  return absl::OkStatus();
}

}  // namespace

Status ValidateNetDevices(const std::map<std::string, NetDevice>& devices) {
  for (const auto& [host_name, device] : devices) {
    RETURN_IF_ERROR(CheckName(host_name, /*numbered=*/false, "host device"));
    if (!device.name.empty()) RETURN_IF_ERROR(CheckName(device.name, /*numbered=*/true, "name in the container"));
  }
  return absl::OkStatus();
}

struct MovedNetDevices::Moved {
  std::string host_name;
  bool was_up = false;
  std::vector<Addr> addresses;
  // Found again by these if the move went through but what came after did not.
  int host_ifindex = 0;
  NlAddr hardware_address;
  int inside_ifindex = 0;  // 0 until the link is found on the container's side
  std::string inside_name;
};

MovedNetDevices::MovedNetDevices() = default;
MovedNetDevices::MovedNetDevices(MovedNetDevices&&) noexcept = default;
MovedNetDevices& MovedNetDevices::operator=(MovedNetDevices&&) noexcept = default;
MovedNetDevices::~MovedNetDevices() = default;

bool MovedNetDevices::empty() const { return moved_.empty(); }

Status MovedNetDevices::Move(const std::map<std::string, NetDevice>& devices, int netns_fd) {
  if (devices.empty()) return absl::OkStatus();
  host_netns_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!host_netns_) return ErrnoError("open the runtime's network namespace");
  container_netns_ = UniqueFd(::fcntl(netns_fd, F_DUPFD_CLOEXEC, 0));
  if (!container_netns_) return ErrnoError("keep the container's network namespace");
  ASSIGN_OR_RETURN(Socket host, ConnectRoute());
  ASSIGN_OR_RETURN(Socket inside, ConnectRouteIn(container_netns_.get(), host_netns_.get()));
  auto move_one = [&](const std::string& host_name, const NetDevice& device) -> Status {
    const std::string& wanted = device.name.empty() ? host_name : device.name;
    ASSIGN_OR_RETURN(Link link, GetLink(host.get(), 0, host_name, "the runtime's network namespace"));
    if (!absl::StrContains(wanted, "%d")) {
      rtnl_link* clash = nullptr;
      if (rtnl_link_get_kernel(inside.get(), 0, wanted.c_str(), &clash) == 0) {
        rtnl_link_put(clash);
        return absl::AlreadyExistsError(
            absl::StrCat("the container's network namespace has a device named ", wanted, " already"));
      }
    }
    const int ifindex = rtnl_link_get_ifindex(link.get());
    auto moved = std::make_unique<Moved>();
    moved->host_name = host_name;
    moved->host_ifindex = ifindex;
    if (nl_addr* address = rtnl_link_get_addr(link.get())) moved->hardware_address.reset(nl_addr_clone(address));
    moved->was_up = (rtnl_link_get_flags(link.get()) & IFF_UP) != 0;
    ASSIGN_OR_RETURN(moved->addresses, AddressesToKeep(host.get(), ifindex));
    Moved& record = *moved_.emplace_back(std::move(moved));
    // The kernel moves the link, then renames it: a rename that fails (a name taken
    // meanwhile, no number left for %d) leaves it moved under its host name.
    Status moved_there = MoveLink(host.get(), link.get(), container_netns_.get(), wanted,
                                  "the container's network namespace");
    if (!moved_there.ok()) {
      rtnl_link* still_here = nullptr;
      if (rtnl_link_get_kernel(host.get(), ifindex, nullptr, &still_here) == 0) {
        rtnl_link_put(still_here);
        moved_.pop_back();
      }
      return moved_there;
    }
    ASSIGN_OR_RETURN(Link inside_link, FindMoved(inside.get(), wanted, record.hardware_address.get(), ifindex));
    record.inside_ifindex = rtnl_link_get_ifindex(inside_link.get());
    record.inside_name = rtnl_link_get_name(inside_link.get());
    RETURN_IF_ERROR(AddAddresses(inside.get(), record.inside_ifindex, record.addresses, record.inside_name));
    return SetUp(inside.get(), inside_link.get());
  };
  for (const auto& [host_name, device] : devices) {
    Status moved = move_one(host_name, device);
    if (!moved.ok()) {
      (void)GiveBack();
      return moved;
    }
  }
  return absl::OkStatus();
}

Status MovedNetDevices::GiveBack() {
  if (moved_.empty()) return absl::OkStatus();
  Status first;
  auto note = [&first](const Status& status) {
    if (first.ok() && !status.ok()) first = status;
  };
  StatusOr<Socket> host = ConnectRoute();
  StatusOr<Socket> inside = ConnectRouteIn(container_netns_.get(), host_netns_.get());
  if (!host.ok() || !inside.ok()) return host.ok() ? inside.status() : host.status();
  for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) {
    const Moved& moved = **it;
    // One the move took but what came after did not find: by its hardware address
    // (under whatever name), or, without one, by its host name.
    StatusOr<Link> link =
        moved.inside_ifindex != 0
            ? GetLink(inside->get(), moved.inside_ifindex, "", "the container's network namespace")
        : moved.hardware_address
            ? FindByHardwareAddress(inside->get(), moved.hardware_address.get(), moved.host_ifindex, "")
            : GetLink(inside->get(), 0, moved.host_name, "the container's network namespace");
    if (!link.ok()) {
      note(link.status());
      continue;
    }
    Status back = MoveLink(inside->get(), link->get(), host_netns_.get(), moved.host_name,
                           "the runtime's network namespace");
    if (!back.ok()) {
      note(back);
      continue;
    }
    StatusOr<Link> home = GetLink(host->get(), 0, moved.host_name, "the runtime's network namespace");
    if (!home.ok()) {
      note(home.status());
      continue;
    }
    note(AddAddresses(host->get(), rtnl_link_get_ifindex(home->get()), moved.addresses, moved.host_name));
    if (moved.was_up) note(SetUp(host->get(), home->get()));
  }
  moved_.clear();
  return first;
}

}  // namespace berth::runtime
