#include "network/pod_interface.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/magic.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/vfs.h>


#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"
#include "network/netns_thread.h"

namespace berth::network {
namespace {

// True when the address of an ifaddrs entry equals the textual address.
bool SameAddress(const sockaddr* have, const std::string& want) {
  if (have == nullptr) return false;
  if (have->sa_family == AF_INET) {
    in_addr parsed;
    return inet_pton(AF_INET, want.c_str(), &parsed) == 1 &&
           ::memcmp(&reinterpret_cast<const sockaddr_in*>(have)->sin_addr, &parsed, sizeof parsed) == 0;
  }
  if (have->sa_family == AF_INET6) {
    in6_addr parsed;
    return inet_pton(AF_INET6, want.c_str(), &parsed) == 1 &&
           ::memcmp(&reinterpret_cast<const sockaddr_in6*>(have)->sin6_addr, &parsed, sizeof parsed) == 0;
  }
  return false;
}

// Runs inside the pod's network namespace.
AttachmentProbe LookInside(const std::string& ifname, const std::vector<std::string>& ips) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return {AttachmentState::kUnknown, absl::StrCat("list interfaces: ", strerror(errno))};
  }
  bool interface_seen = false;
  std::vector<bool> found(ips.size(), false);
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_name == nullptr || ifname != entry->ifa_name) continue;
    interface_seen = true;
    for (size_t i = 0; i < ips.size(); ++i) {
      if (SameAddress(entry->ifa_addr, ips[i])) found[i] = true;
    }
  }
  ::freeifaddrs(list);
  // An interface with no address at all has no ifaddrs entry of its own family, but
  // still one of AF_PACKET; if_nametoindex settles it either way.
  if (!interface_seen && ::if_nametoindex(ifname.c_str()) == 0) {
    return {AttachmentState::kGone, absl::StrCat("interface ", ifname, " is missing")};
  }
  for (size_t i = 0; i < ips.size(); ++i) {
    if (!found[i]) return {AttachmentState::kGone, absl::StrCat("address ", ips[i], " is missing on ", ifname)};
  }
  return {AttachmentState::kPresent, ""};
}

}  // namespace

bool HoldsNamespace(const std::string& path) {
  struct statfs fs;
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

AttachmentProbe ProbePodInterface(const std::string& netns_path, const std::string& ifname,
                                  const std::vector<std::string>& ips) {
  if (netns_path.empty()) return {AttachmentState::kUnknown, "no network namespace recorded"};
  UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) {
    if (errno == ENOENT) return {AttachmentState::kGone, absl::StrCat("network namespace ", netns_path, " is gone")};
    return {AttachmentState::kUnknown, absl::StrCat("open ", netns_path, ": ", strerror(errno))};
  }
  // An unmounted pin leaves an empty file behind: no namespace any more.
  struct statfs fs;
  if (::fstatfs(netns.get(), &fs) != 0) {
    return {AttachmentState::kUnknown, absl::StrCat("statfs ", netns_path, ": ", strerror(errno))};
  }
  if (fs.f_type != NSFS_MAGIC) {
    return {AttachmentState::kGone, absl::StrCat(netns_path, " no longer holds a network namespace")};
  }
  if (ifname.empty()) return {AttachmentState::kPresent, ""};
  AttachmentProbe probe;
  Status entered = RunInNetworkNamespace(netns.get(), [&] { probe = LookInside(ifname, ips); });
  if (!entered.ok()) return {AttachmentState::kUnknown, std::string(entered.message())};
  return probe;
}

}  // namespace berth::network
