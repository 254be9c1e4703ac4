#include "cdi/edits.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace berth::cdi {
namespace {

// Fills in what the spec left out from the host's node, as CDI asks: a spec may
// describe a node fully (then the host need not have it yet) or name only its path.
Status CompleteFromHost(DeviceNode& node) {
  const std::string host_path = node.host_path.empty() ? node.path : node.host_path;
  const bool fully_described = !node.type.empty() && (node.major.has_value() || node.type == "p");
  struct stat st;
  if (::lstat(host_path.c_str(), &st) != 0) {
    if (fully_described) return absl::OkStatus();
    return ErrnoError(absl::StrCat("CDI device node ", host_path, " on the host"));
  }
  std::string type;
  if (S_ISCHR(st.st_mode)) type = "c";
  if (S_ISBLK(st.st_mode)) type = "b";
  if (S_ISFIFO(st.st_mode)) type = "p";
  if (type.empty()) {
    if (fully_described) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("CDI device node ", host_path, " is not a device on the host"));
  }
  if (!node.file_mode) node.file_mode = st.st_mode & 07777;
  if (fully_described) return absl::OkStatus();
  if (node.type.empty()) node.type = type;
  if (node.type != type && !(node.type == "u" && type == "c")) {
    return absl::FailedPreconditionError(
        absl::StrCat("CDI device node ", node.path, " is of type ", node.type, " but ", host_path, " is ", type));
  }
  if (!node.major) node.major = major(st.st_rdev);
  if (!node.minor) node.minor = minor(st.st_rdev);
  return absl::OkStatus();
}

std::string EnvName(absl::string_view entry) { return std::string(entry.substr(0, entry.find('='))); }

std::vector<runtime::Hook>* HookList(runtime::Hooks& hooks, const std::string& kind) {
  if (kind == "prestart") return &hooks.prestart;
  if (kind == "createRuntime") return &hooks.create_runtime;
  if (kind == "createContainer") return &hooks.create_container;
  if (kind == "startContainer") return &hooks.start_container;
  if (kind == "poststart") return &hooks.poststart;
  if (kind == "poststop") return &hooks.poststop;
  return nullptr;
}

}  // namespace

Status ApplyEdits(const ContainerEdits& edits, runtime::Spec* spec) {
  if (edits.intel_rdt) return absl::FailedPreconditionError("the CDI device sets INTEL RDT, which berth does not");
  for (const NetDevice& device : edits.net_devices) {
    auto [it, added] = spec->net_devices.emplace(device.host_interface_name, runtime::NetDevice{device.name});
    if (!added && it->second.name != device.name) {
      return absl::FailedPreconditionError(absl::StrCat("network device ", device.host_interface_name,
                                                        " is asked for as ", it->second.name, " and as ", device.name));
    }
  }
  for (const std::string& entry : edits.env) {
    auto& env = spec->process.env;
    auto same =
        std::find_if(env.begin(), env.end(), [&](const std::string& e) { return EnvName(e) == EnvName(entry); });
    if (same != env.end()) {
      *same = entry;
    } else {
      env.push_back(entry);
    }
  }
  for (DeviceNode node : edits.device_nodes) {
    RETURN_IF_ERROR(CompleteFromHost(node));
    runtime::Device device;
    device.path = node.path;
    device.type = node.type[0];
    device.major = node.major.value_or(0);
    device.minor = node.minor.value_or(0);
    device.file_mode = node.file_mode;
    device.uid = node.uid;
    device.gid = node.gid;
    auto& devices = spec->devices;
    devices.erase(std::remove_if(devices.begin(), devices.end(),
                                 [&](const runtime::Device& d) { return d.path == device.path; }),
                  devices.end());
    devices.push_back(device);
    const std::string access = node.permissions.empty() ? "rwm" : node.permissions;
    if ((device.type == 'c' || device.type == 'u' || device.type == 'b') && access != "none") {
      if (!spec->resources) spec->resources.emplace();
      spec->resources->devices.push_back({true, device.type == 'b' ? 'b' : 'c', device.major, device.minor, access});
    }
  }
  for (const Mount& m : edits.mounts) {
    auto& mounts = spec->mounts;
    mounts.erase(std::remove_if(mounts.begin(), mounts.end(),
                                [&](const runtime::Mount& existing) {
                                  return existing.destination == m.container_path;
                                }),
                 mounts.end());
    mounts.push_back({m.container_path, m.type.empty() ? "bind" : m.type, m.host_path, m.options});
  }
  runtime::SortMountsByDepth(spec->mounts);
  for (const Hook& hook : edits.hooks) {
    std::vector<runtime::Hook>* list = HookList(spec->hooks, hook.hook_name);
    if (list == nullptr) return absl::InvalidArgumentError(absl::StrCat("no OCI hook is named ", hook.hook_name));
    list->push_back(hook.hook);
  }
  auto& gids = spec->process.user.additional_gids;
  for (uint32_t gid : edits.additional_gids) {
    if (gid != 0 && std::find(gids.begin(), gids.end(), gid) == gids.end()) gids.push_back(gid);
  }
  return absl::OkStatus();
}

}  // namespace berth::cdi
