// OCI hooks: programs the runtime runs at fixed points of a container's life, each
// given the container's state on stdin (runtime-spec config.md, "POSIX-platform
// Hooks"). Where they run:
//
//   prestart, createRuntime  by create, in the runtime's namespaces, once the init
//                            has its namespaces and mounts and before pivot_root
//   createContainer          by the init, in the container's namespaces, at the same
//                            point (the host's root is still its root)
//   startContainer           by the init, in the container, just before it execs
//   poststart                by start, once the process runs (a failure is a warning)
//   poststop                 by delete, once the container is gone (a warning too)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace berth::runtime {

struct Hook {
  std::string path;               // absolute, resolved in the namespace it runs in
  std::vector<std::string> args;  // argv, args[0] included; empty: just the path
  std::vector<std::string> env;   // the hook's whole environment
  std::optional<int> timeout;     // seconds; none: no limit
};

struct Hooks {
  std::vector<Hook> prestart;  // deprecated by the spec, still run (as runc does)
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;

  bool empty() const;
  // Any hook that must run before pivot_root (create's extra step).
  bool BeforePivot() const;
};

// The hook kinds as config.json names them, for `berth-runtime features`.
std::vector<std::string> HookKinds();

// Paths must be absolute and timeouts positive.
Status ValidateHooks(const Hooks& hooks);

// Runs the hooks in order, each with state_json on stdin; the first that fails (exits
// non-zero, is killed, or outlives its timeout) stops the rest, and its error names
// the kind (`what`, "createRuntime") and carries what it wrote.
Status RunHooks(const std::vector<Hook>& hooks, absl::string_view what, const std::string& state_json);

}  // namespace berth::runtime
