// linux.seccomp compiled with libseccomp and loaded into the calling process.
#pragma once

#include "base/status.h"
#include "base/unique_fd.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Loads the filter. Unknown syscall names are skipped (the profile may name syscalls
// newer than this libseccomp), as runc does. libseccomp does not set no_new_privs
// itself: without it the caller needs CAP_SYS_ADMIN. A filter with SCMP_ACT_NOTIFY
// rules returns its notify fd, which goes to the seccomp agent (seccomp_listener.h);
// an empty fd otherwise.
StatusOr<UniqueFd> LoadSeccomp(const Seccomp& seccomp);

// Whether a rule's action is SCMP_ACT_NOTIFY: the filter then has a notify fd for
// linux.seccomp.listenerPath.
bool UsesNotify(const Seccomp& seccomp);
// Checked at create: a notify action needs a listener path (absolute), and is no
// default action (the runtime's own last steps would wait on the agent); metadata
// needs a path.
Status ValidateSeccompListener(const Seccomp& seccomp);

// What LoadSeccomp understands, for the features document.
std::vector<std::string> SupportedSeccompActions();
std::vector<std::string> SupportedSeccompOperators();
std::vector<std::string> SupportedSeccompFlags();

}  // namespace berth::runtime
