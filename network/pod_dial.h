// A TCP connection to a port on a pod's loopback, for port-forward: made inside the
// pod's network namespace by a short-lived thread (setns changes only the calling
// thread, and a thread that has been in a pod's namespace is never reused), then
// handed back; the socket stays in the pod's namespace.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth::network {

// netns_path empty: the host's namespace (a host-network pod). 127.0.0.1 first,
// then ::1, as containerd and CRI-O dial. UNAVAILABLE when nothing listens.
StatusOr<UniqueFd> DialPodPort(const std::string& netns_path, int32_t port);

}  // namespace berth::network
