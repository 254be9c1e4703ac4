// Builds the OCI runtime spec of a container (typed; written as config.json by
// runtime::SpecJson) from its pod, its CRI config and its image, following Kubernetes' rules (command and args against the
// image's entrypoint and cmd, env merged, users resolved in the image) and
// containerd's defaults (capabilities, masked paths, device rules).
#pragma once

#include <set>
#include <string>

#include "base/status.h"
#include "image/manifest.h"
#include "pods/records.h"
#include "runtime/spec.h"

namespace berth::pods {

struct SpecInputs {
  const SandboxRecord* pod = nullptr;
  const ContainerSpec* container = nullptr;
  const image::ImageConfig* image = nullptr;
  std::string container_id;
  std::string rootfs;          // the mounted rootfs on the host, for /etc/passwd lookups
  std::string cgroup_path;     // linux.cgroupsPath
  std::set<std::string> cgroup_controllers;  // what the host has; limits of others are skipped
  bool cgroup_v2 = false;
  std::string target_pid_ns;   // for NamespaceMode::kTarget: /proc/<pid>/ns/pid
};

StatusOr<runtime::Spec> BuildOciSpec(const SpecInputs& in);

// The process of an exec: args, with the container's env, user and capabilities,
// and a terminal of its own when tty.
runtime::Process ProcessForExec(const runtime::Spec& container_spec, const std::vector<std::string>& args,
                                bool tty = false);

// The argv Kubernetes runs: command/args against the image's entrypoint/cmd.
StatusOr<std::vector<std::string>> ResolveArgs(const ContainerSpec& container, const image::ImageConfig& image);

// The capabilities a container gets: containerd's default set with adds and drops
// ("ALL" included) applied; names in CAP_X form.
std::vector<std::string> ContainerCapabilities(const SecuritySpec& security);

}  // namespace berth::pods
