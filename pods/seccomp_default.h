// berth's RuntimeDefault seccomp profile.
#pragma once

#include <string>
#include <vector>

#include "runtime/spec.h"

namespace berth::pods {

// The OCI linux.seccomp for a container holding capabilities ("CAP_SYS_ADMIN", ...).
//
// An allowlist, as containerd's and CRI-O's defaults are: the system calls an
// ordinary program uses are allowed; those that reach past the container (kernel
// modules, the clock, mounts, keyrings, new namespaces, io_uring...) only come with
// the capability that the kernel would ask for anyway, or not at all. A call berth
// knows and refuses fails with EPERM; a call newer than this list fails with ENOSYS,
// so that a C library probing for it falls back to an older one (as runc arranges).
runtime::Seccomp RuntimeDefaultSeccompProfile(const std::vector<std::string>& capabilities);

}  // namespace berth::pods
