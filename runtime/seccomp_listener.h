// The seccomp agent protocol of the runtime spec: a filter with SCMP_ACT_NOTIFY
// rules has a notify fd, which the runtime hands to the agent listening on
// linux.seccomp.listenerPath, with the "container process state" (a JSON object
// naming the fd, the process's pid, the listener metadata and the container's
// state), over one connection per fd. The agent then answers the filtered calls.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// The container process state for pid, given the container's state JSON (as hooks
// get it, runtime/hooks.h).
std::string ContainerProcessStateJson(const Seccomp& seccomp, pid_t pid, const std::string& oci_version,
                                      const std::string& state_json);

// Connects to seccomp.listener_path and sends the process state with notify_fd
// (SCM_RIGHTS, on the first sendmsg); FAILED_PRECONDITION, naming the path, when no
// agent takes it.
Status SendToSeccompAgent(const Seccomp& seccomp, int notify_fd, const std::string& process_state_json);

}  // namespace berth::runtime
