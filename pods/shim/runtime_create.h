// The OCI runtime's `create`, run by the shim so that it is the container init's
// parent (and, after the runtime exits, its reaper).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"
#include "pods/shim/protocol.h"

namespace berth::pods::shim {

// The container's stdio as the runtime is to give it: stdin_read may be -1 (then
// /dev/null); console_socket is empty unless the container has a terminal.
struct CreateStdio {
  int stdin_read = -1;
  int stdout_write = -1;
  int stderr_write = -1;
  std::string console_socket;
};

// Runs `RUNTIME --root R create --bundle B --pid-file B/init.pid [--console-socket S] ID`
// and returns the init's pid; with options.restore_images, the runtime's
// `restore --detach` from those images instead, whose init already runs (CRIU makes
// it the runtime's child; the shim, a subreaper, inherits it when the runtime
// exits). On failure the message is the last line of the runtime's own log, when it
// kept one.
StatusOr<pid_t> CreateWithRuntime(const ShimOptions& options, const CreateStdio& stdio);

}  // namespace berth::pods::shim
