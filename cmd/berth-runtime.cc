// berth-runtime: berth's OCI runtime, command-line compatible with the runc verbs
// berth's shim uses, so a bundle runs the same on runc, crun or berth-runtime.
//
//   berth-runtime [--root DIR] create --bundle B [--pid-file F] [--preserve-fds N] ID
//   berth-runtime [--root DIR] start ID
//   berth-runtime [--root DIR] state ID
//   berth-runtime [--root DIR] kill [--all] ID [SIGNAL]
//   berth-runtime [--root DIR] delete [--force] ID
//   berth-runtime [--root DIR] exec (--process P | [--env K=V] [--cwd D] [--user U[:G]])
//                                   [--pid-file F] [--detach] [--preserve-fds N] ID [CMD...]
//   berth-runtime [--root DIR] update --resources R ID
#include "runtime/cli.h"

int main(int argc, char** argv) { return berth::runtime::RunCommandLine(argc, argv); }
