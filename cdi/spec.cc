#include "cdi/spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <stdexcept>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::cdi {
namespace {

// Names a spec may give (the spec's grammar): letters and digits at both ends,
// '-', '_' and '.' between.
bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (!absl::ascii_isalnum(name.front()) || !absl::ascii_isalnum(name.back())) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// A DNS subdomain: labels of letters, digits and '-', joined by dots.
bool ValidVendor(absl::string_view vendor) {
  if (vendor.empty() || vendor.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(vendor, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (!absl::ascii_isalnum(label.front()) || !absl::ascii_isalnum(label.back())) return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-') return false;
    }
  }
  return true;
}

Status ValidateKind(absl::string_view kind) {
  std::vector<absl::string_view> parts = absl::StrSplit(kind, '/');
  if (parts.size() != 2 || !ValidVendor(parts[0]) || !ValidName(parts[1]) || parts[1].size() > 63) {
    return absl::InvalidArgumentError(absl::StrCat("kind \"", kind, "\" is not vendor.com/class"));
  }
  return absl::OkStatus();
}

// Field readers that say which field was wrong; yaml-cpp's own errors do not.
std::string Field(const std::string& where, const char* key) {
  return where.empty() ? std::string(key) : absl::StrCat(where, ".", key);
}

template <typename T>
T Scalar(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) throw std::invalid_argument(absl::StrCat(where, " is not a single value"));
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(absl::StrCat(where, " has the wrong type: \"", node.Scalar(), "\""));
  }
}

template <typename T>
std::optional<T> Optional(const YAML::Node& parent, const char* key, const std::string& where) {
  const YAML::Node node = parent[key];
  if (!node || node.IsNull()) return std::nullopt;
  return Scalar<T>(node, Field(where, key));
}

std::string String(const YAML::Node& parent, const char* key, const std::string& where) {
  return Optional<std::string>(parent, key, where).value_or("");
}

template <typename F>
void EachOf(const YAML::Node& parent, const char* key, const std::string& where, F each) {
  const YAML::Node list = parent[key];
  if (!list || list.IsNull()) return;
  if (!list.IsSequence()) throw std::invalid_argument(absl::StrCat(Field(where, key), " is not a list"));
  for (size_t i = 0; i < list.size(); ++i) each(list[i], absl::StrCat(Field(where, key), "[", i, "]"));
}

std::vector<std::string> Strings(const YAML::Node& parent, const char* key, const std::string& where) {
  std::vector<std::string> out;
  EachOf(parent, key, where,
         [&](const YAML::Node& node, const std::string& at) { out.push_back(Scalar<std::string>(node, at)); });
  return out;
}

void RequireAbsolute(const std::string& path, const std::string& where) {
  if (!absl::StartsWith(path, "/")) throw std::invalid_argument(absl::StrCat(where, " \"", path, "\" is not absolute"));
}

ContainerEdits ParseEdits(const YAML::Node& node, const std::string& where) {
  ContainerEdits edits;
  if (!node || node.IsNull()) return edits;
  if (!node.IsMap()) throw std::invalid_argument(absl::StrCat(where, " is not a mapping"));
  edits.env = Strings(node, "env", where);
  for (const std::string& entry : edits.env) {
    if (entry.find('=') == std::string::npos || entry.front() == '=') {
      throw std::invalid_argument(absl::StrCat(where, ".env: \"", entry, "\" is not NAME=value"));
    }
  }
  EachOf(node, "deviceNodes", where, [&](const YAML::Node& d, const std::string& at) {
    DeviceNode device;
    device.path = String(d, "path", at);
    RequireAbsolute(device.path, at + ".path");
    device.host_path = String(d, "hostPath", at);
    if (!device.host_path.empty()) RequireAbsolute(device.host_path, at + ".hostPath");
    device.type = String(d, "type", at);
    if (!device.type.empty() && device.type != "c" && device.type != "b" && device.type != "u" && device.type != "p") {
      throw std::invalid_argument(absl::StrCat(at, ".type \"", device.type, "\" is not c, b, u or p"));
    }
    device.major = Optional<int64_t>(d, "major", at);
    device.minor = Optional<int64_t>(d, "minor", at);
    device.file_mode = Optional<uint32_t>(d, "fileMode", at);
    device.permissions = String(d, "permissions", at);
    if (device.permissions != "none" &&
        device.permissions.find_first_not_of("rwm") != std::string::npos) {
      throw std::invalid_argument(absl::StrCat(at, ".permissions \"", device.permissions, "\" is not of r, w, m"));
    }
    device.uid = Optional<uint32_t>(d, "uid", at);
    device.gid = Optional<uint32_t>(d, "gid", at);
    edits.device_nodes.push_back(std::move(device));
  });
  EachOf(node, "mounts", where, [&](const YAML::Node& m, const std::string& at) {
    Mount mount{String(m, "hostPath", at), String(m, "containerPath", at), String(m, "type", at),
                Strings(m, "options", at)};
    RequireAbsolute(mount.container_path, at + ".containerPath");
    if (mount.host_path.empty()) throw std::invalid_argument(absl::StrCat(at, ".hostPath is missing"));
    edits.mounts.push_back(std::move(mount));
  });
  EachOf(node, "hooks", where, [&](const YAML::Node& h, const std::string& at) {
    Hook hook;
    hook.hook_name = String(h, "hookName", at);
    const std::vector<std::string> kinds = runtime::HookKinds();
    if (std::find(kinds.begin(), kinds.end(), hook.hook_name) == kinds.end()) {
      throw std::invalid_argument(absl::StrCat(at, ".hookName \"", hook.hook_name, "\" is no OCI hook"));
    }
    hook.hook.path = String(h, "path", at);
    RequireAbsolute(hook.hook.path, at + ".path");
    hook.hook.args = Strings(h, "args", at);
    hook.hook.env = Strings(h, "env", at);
    hook.hook.timeout = Optional<int>(h, "timeout", at);
    if (hook.hook.timeout && *hook.hook.timeout <= 0) {
      throw std::invalid_argument(absl::StrCat(at, ".timeout must be positive"));
    }
    edits.hooks.push_back(std::move(hook));
  });
  EachOf(node, "additionalGids", where, [&](const YAML::Node& g, const std::string& at) {
    edits.additional_gids.push_back(Scalar<uint32_t>(g, at));
  });
  // The spec's JSON schema spells it both ways over its versions.
  EachOf(node, "additionalGIDs", where, [&](const YAML::Node& g, const std::string& at) {
    edits.additional_gids.push_back(Scalar<uint32_t>(g, at));
  });
  edits.intel_rdt = node["intelRdt"] && !node["intelRdt"].IsNull();
  EachOf(node, "netDevices", where, [&](const YAML::Node& n, const std::string& at) {
    NetDevice device;
    device.host_interface_name = String(n, "hostInterfaceName", at);
    device.name = String(n, "name", at);
    if (device.host_interface_name.empty() || device.name.empty()) {
      throw std::invalid_argument(absl::StrCat(at, " needs both hostInterfaceName and name"));
    }
    edits.net_devices.push_back(std::move(device));
  });
  return edits;
}

}  // namespace

StatusOr<QualifiedName> ParseQualifiedName(absl::string_view qualified) {
  size_t equals = qualified.find('=');
  if (equals == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("CDI device \"", qualified, "\" is not vendor.com/class=name"));
  }
  QualifiedName name{std::string(qualified.substr(0, equals)), std::string(qualified.substr(equals + 1))};
  Status kind = ValidateKind(name.kind);
  if (!kind.ok() || !ValidName(name.name)) {
    return absl::InvalidArgumentError(absl::StrCat("CDI device \"", qualified, "\" is not vendor.com/class=name"));
  }
  return name;
}

StatusOr<Spec> ParseSpec(absl::string_view text, absl::string_view source) {
  Spec spec;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(source, ": not a CDI spec (a mapping)"));
    spec.version = String(root, "cdiVersion", "");
    if (spec.version.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": cdiVersion is missing"));
    spec.kind = String(root, "kind", "");
    RETURN_IF_ERROR(Annotate(ValidateKind(spec.kind), source));
    EachOf(root, "devices", "", [&](const YAML::Node& d, const std::string& at) {
      Device device;
      device.name = String(d, "name", at);
      if (!ValidName(device.name)) {
        throw std::invalid_argument(absl::StrCat(at, ".name \"", device.name, "\" is invalid"));
      }
      device.edits = ParseEdits(d["containerEdits"], at + ".containerEdits");
      spec.devices.push_back(std::move(device));
    });
    spec.edits = ParseEdits(root["containerEdits"], "containerEdits");
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid YAML or JSON: ", e.what()));
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
  }
  if (spec.devices.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": describes no devices"));
  return spec;
}

}  // namespace berth::cdi
