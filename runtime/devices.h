// /dev inside the container: the default character devices (null, zero, full,
// random, urandom, tty), linux.devices from the spec, and the usual symlinks
// (/dev/fd, stdin, stdout, stderr, ptmx -> pts/ptmx).
#pragma once

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// root_fd is the rootfs, before pivot_root.
Status CreateDevices(int root_fd, const Spec& spec);
Status CreateDevSymlinks(int root_fd);

}  // namespace berth::runtime
