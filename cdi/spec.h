// A CDI spec file: the Container Device Interface (cncf-tags/container-device-interface,
// SPEC.md, up to 1.1.0) lets a device's vendor describe, in a JSON or YAML file under
// /etc/cdi or /var/run/cdi, what a container that uses the device needs: device
// nodes, mounts, environment, hooks, groups. A device is asked for by its fully
// qualified name, "vendor.com/class=name" (the spec's kind, "=", the device's name).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/hooks.h"

namespace berth::cdi {

struct DeviceNode {
  std::string path;       // in the container
  std::string host_path;  // empty: path
  std::string type;       // "c", "b", "u", "p"; empty: the host node's
  std::optional<int64_t> major, minor;
  std::optional<uint32_t> file_mode;
  std::string permissions;  // cgroup access; empty: "rwm"; "none": no rule at all
  std::optional<uint32_t> uid, gid;
};

struct Mount {
  std::string host_path;
  std::string container_path;
  std::string type;  // empty: a bind mount
  std::vector<std::string> options;
};

struct Hook {
  std::string hook_name;  // an OCI hook kind: "createRuntime", "poststop", ...
  runtime::Hook hook;
};

// What a device, or any device of a spec, changes in a container's OCI spec.
// A host link to move into the container's network namespace.
struct NetDevice {
  std::string host_interface_name;
  std::string name;  // in the container
};

struct ContainerEdits {
  std::vector<std::string> env;  // NAME=value
  std::vector<DeviceNode> device_nodes;
  std::vector<Mount> mounts;
  std::vector<Hook> hooks;
  std::vector<uint32_t> additional_gids;
  std::vector<NetDevice> net_devices;
  // An edit berth does not make (no resctrl here): kept only to refuse a device
  // that needs it, rather than hand out half of it.
  bool intel_rdt = false;
};

struct Device {
  std::string name;
  ContainerEdits edits;
};

struct Spec {
  std::string version;  // cdiVersion
  std::string kind;     // "vendor.com/class"
  std::vector<Device> devices;
  ContainerEdits edits;  // for a container given any of the devices
};

// Parses a spec file's text (JSON is YAML); source names it in errors. Checks what
// the spec requires: a version, a kind of vendor and class, at least one device,
// valid device names, absolute paths, known hook names.
StatusOr<Spec> ParseSpec(absl::string_view text, absl::string_view source);

// "vendor.com/class=name" into kind and name; INVALID_ARGUMENT for anything else.
struct QualifiedName {
  std::string kind;
  std::string name;
};
StatusOr<QualifiedName> ParseQualifiedName(absl::string_view qualified);

}  // namespace berth::cdi
