// pid 1 of a pod's shared PID namespace: it reaps whatever the pod's containers
// orphan, and exits on SIGTERM or SIGINT.
#pragma once

#include <string>

namespace berth::pods::shim {

// Detaches from the caller, unshares a PID namespace and forks its pid 1, which
// writes its (host) pid to PodInitPidFile(pod_dir) and reports it on kReadyFd.
// Never returns.
[[noreturn]] void RunPodInit(const std::string& pod_dir, const std::string& userns_path);

}  // namespace berth::pods::shim
