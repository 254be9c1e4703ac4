// linux.seccomp compiled with libseccomp and loaded into the calling process.
#pragma once

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Loads the filter. Unknown syscall names are skipped (the profile may name syscalls
// newer than this libseccomp), as runc does. libseccomp does not set no_new_privs
// itself: without it the caller needs CAP_SYS_ADMIN.
Status LoadSeccomp(const Seccomp& seccomp);

// What LoadSeccomp understands, for the features document.
std::vector<std::string> SupportedSeccompActions();
std::vector<std::string> SupportedSeccompOperators();
std::vector<std::string> SupportedSeccompFlags();

}  // namespace berth::runtime
