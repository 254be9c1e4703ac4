// Which kernel namespace a sysctl belongs to, and where it lives under /proc/sys.
//
// Most sysctls are global to the host: a container that could write
// kernel.core_pattern would make the kernel run a program of its choosing as root
// on the host at the next crash (CRI-O's CVE-2022-0811). So a sysctl is written only
// when it belongs to a namespace the container has of its own, and refused
// otherwise. Shared by berthd (RunPodSandbox refuses such pods) and berth-runtime
// (which takes bundles from any caller, as runc does).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::runtime {

enum class SysctlNamespace {
  kNone,     // global to the host: never allowed
  kIpc,      // kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*
  kNetwork,  // net.*
  kUts,      // kernel.hostname, kernel.domainname
};

// The path of key below /proc/sys: dots separate levels, and a '/' stands for a dot
// inside a level (kubelet's form for "net.ipv4.conf.eth0/100.forwarding"). Refuses
// keys with empty, "." or ".." levels.
StatusOr<std::string> SysctlPath(absl::string_view key);

// The namespace key belongs to; key must have passed SysctlPath.
SysctlNamespace SysctlNamespaceOf(absl::string_view key);

// The namespaces a container has apart from the host's.
struct PrivateNamespaces {
  bool ipc = false;
  bool network = false;
  bool uts = false;
};

// OK when key names a valid sysctl of a namespace in owned; INVALID_ARGUMENT naming
// the sysctl and the reason otherwise.
Status CheckSysctl(absl::string_view key, const PrivateNamespaces& owned);

}  // namespace berth::runtime
