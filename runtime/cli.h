// berth-runtime's command line: runc's global flags and the verbs berth's shim and
// berthd use, each mapped onto Runtime (container.h).
#pragma once

namespace berth::runtime {

// Runs the command line; returns the process's exit code.
int RunCommandLine(int argc, char** argv);

}  // namespace berth::runtime
