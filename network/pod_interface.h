// Whether a pod's network attachment is still there, as berth itself sees it.
//
// A plugin's CHECK is no judge of that: a buggy plugin fails or crashes on CHECK
// (Debian's bandwidth plugin dereferences nil when a pod has no limits), and a pod
// reported NOT READY is killed and replaced by kubelet. So only what berth can see
// for itself condemns a pod: its namespace pin gone, or its interface or one of its
// addresses missing inside that namespace.
#pragma once

#include <string>
#include <vector>

namespace berth::network {

enum class AttachmentState {
  kPresent,  // the namespace, the interface and every address are there
  kGone,     // provably not: detail says what is missing
  kUnknown,  // could not look (detail says why); not evidence of anything
};

struct AttachmentProbe {
  AttachmentState state = AttachmentState::kUnknown;
  std::string detail;
};

// Whether path still holds a namespace: a pin that was unmounted (or a namespace
// that went with a reboot) leaves an empty file or nothing.
bool HoldsNamespace(const std::string& path);

// Looks inside the network namespace pinned at netns_path (from a short-lived
// thread, so the caller's namespace never changes) for the interface ifname holding
// each of ips (textual IPv4 or IPv6 addresses, without prefix length). An empty
// ifname checks the namespace alone (a network that gave the pod no interface).
AttachmentProbe ProbePodInterface(const std::string& netns_path, const std::string& ifname,
                                  const std::vector<std::string>& ips);

}  // namespace berth::network
