// Credentials of the container process: rlimits, user and groups, capabilities,
// no_new_privs, oom_score_adj, AppArmor label. Runs in the process about to exec, still as root.
#pragma once

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Writes /proc/self/oom_score_adj. A negative value the host does not let us set
// (no CAP_SYS_RESOURCE) is clamped to the current value instead of failing.
Status SetOomScoreAdj(int value);

Status SetRlimits(const std::vector<Rlimit>& rlimits);

// Drops the bounding set, switches to user.uid/gid/additionalGids (keeping caps), then
// sets effective/permitted/inheritable and ambient. Capabilities the host's bounding
// set lacks, or that this libcap does not know, are left out rather than refused.
// Without process.capabilities the caller's capabilities are kept.
Status ApplyUserAndCapabilities(const Process& process);

Status SetNoNewPrivileges();

// Puts the next execve under the AppArmor profile (nothing for ""), as runc does.
// Fails when the host has no AppArmor, rather than run the process unconfined.
Status SetAppArmorExecProfile(const std::string& profile);

}  // namespace berth::runtime
