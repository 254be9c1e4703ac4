// The parent of an exec that runc or crun runs detached. They hand a terminal's
// master over only when they detach (their foreground exec relays its own stdio),
// and a detached process is left to whoever reaps orphans: this reaper, a child
// subreaper between berthd and the runtime, as containerd's shim is. berthd sees it
// as the exec itself: it lives while the exec's process does and exits with its
// code.
#pragma once

#include <string>
#include <vector>

namespace berth::pods::shim {

// Runs runtime_argv (an `exec --detach ... --pid-file pid_file`), then waits for
// the process named in pid_file and exits with its exit code (128+n for a signal);
// if the runtime fails, exits with the runtime's code (its stderr is this one's).
// SIGTERM, SIGHUP and SIGINT are passed on to the process. Never returns.
[[noreturn]] void RunExecReaper(const std::string& pid_file, const std::vector<std::string>& runtime_argv);

}  // namespace berth::pods::shim
