// The typed spec written back as OCI JSON: config.json for a bundle, a lone process
// for `exec --process`, lone resources for `update --resources`. Fields left unset
// (empty, nullopt) are left out, so that the runtime applies its own default.
#include <nlohmann/json.hpp>

#include "runtime/spec.h"

namespace berth::runtime {
namespace {

using nlohmann::json;

template <typename T>
void SetIf(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}

void SetIfAny(json& j, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) j[key] = values;
}

json ProcessObject(const Process& p) {
  json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  SetIf(user, "umask", p.user.umask);
  json j = {{"terminal", p.terminal}, {"user", user}, {"args", p.args}, {"env", p.env}, {"cwd", p.cwd}};
  if (p.capabilities) {
    j["capabilities"] = {{"bounding", p.capabilities->bounding},
                         {"effective", p.capabilities->effective},
                         {"inheritable", p.capabilities->inheritable},
                         {"permitted", p.capabilities->permitted},
                         {"ambient", p.capabilities->ambient}};
  }
  if (!p.rlimits.empty()) {
    json rlimits = json::array();
    for (const Rlimit& r : p.rlimits) rlimits.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    j["rlimits"] = rlimits;
  }
  j["noNewPrivileges"] = p.no_new_privileges;
  SetIf(j, "oomScoreAdj", p.oom_score_adj);
  if (!p.apparmor_profile.empty()) j["apparmorProfile"] = p.apparmor_profile;
  if (p.io_priority) j["ioPriority"] = {{"class", p.io_priority->io_class}, {"priority", p.io_priority->priority}};
  if (p.scheduler) {
    const Scheduler& s = *p.scheduler;
    json sched = {{"policy", s.policy}};
    if (s.nice != 0) sched["nice"] = s.nice;
    if (s.priority != 0) sched["priority"] = s.priority;
    SetIfAny(sched, "flags", s.flags);
    if (s.runtime != 0) sched["runtime"] = s.runtime;
    if (s.deadline != 0) sched["deadline"] = s.deadline;
    if (s.period != 0) sched["period"] = s.period;
    j["scheduler"] = sched;
  }
  return j;
}

json Throttle(const std::vector<cgroups::BlockIoThrottleDevice>& devices) {
  json out = json::array();
  for (const auto& d : devices) out.push_back({{"major", d.major}, {"minor", d.minor}, {"rate", d.rate}});
  return out;
}

json ResourcesObject(const cgroups::Resources& r) {
  json j = json::object();
  json memory = json::object();
  SetIf(memory, "limit", r.memory_limit);
  SetIf(memory, "reservation", r.memory_reservation);
  SetIf(memory, "swap", r.memory_swap);
  if (!memory.empty()) j["memory"] = memory;
  json cpu = json::object();
  SetIf(cpu, "shares", r.cpu_shares);
  SetIf(cpu, "quota", r.cpu_quota);
  SetIf(cpu, "period", r.cpu_period);
  SetIf(cpu, "cpus", r.cpuset_cpus);
  SetIf(cpu, "mems", r.cpuset_mems);
  if (!cpu.empty()) j["cpu"] = cpu;
  if (r.pids_limit) j["pids"] = {{"limit", *r.pids_limit}};
  if (!r.hugepage_limits.empty()) {
    json pages = json::array();
    for (const auto& h : r.hugepage_limits) pages.push_back({{"pageSize", h.page_size}, {"limit", h.limit}});
    j["hugepageLimits"] = pages;
  }
  json block_io = json::object();
  SetIf(block_io, "weight", r.blkio_weight);
  if (!r.blkio_weight_devices.empty()) {
    json devices = json::array();
    for (const auto& d : r.blkio_weight_devices) {
      json device = {{"major", d.major}, {"minor", d.minor}};
      SetIf(device, "weight", d.weight);
      devices.push_back(device);
    }
    block_io["weightDevice"] = devices;
  }
  if (!r.throttle_read_bps.empty()) block_io["throttleReadBpsDevice"] = Throttle(r.throttle_read_bps);
  if (!r.throttle_write_bps.empty()) block_io["throttleWriteBpsDevice"] = Throttle(r.throttle_write_bps);
  if (!r.throttle_read_iops.empty()) block_io["throttleReadIOPSDevice"] = Throttle(r.throttle_read_iops);
  if (!r.throttle_write_iops.empty()) block_io["throttleWriteIOPSDevice"] = Throttle(r.throttle_write_iops);
  if (!block_io.empty()) j["blockIO"] = block_io;
  if (!r.devices.empty()) {
    json devices = json::array();
    for (const auto& rule : r.devices) {
      json device = {{"allow", rule.allow}, {"access", rule.access}};
      // 'a' with no numbers is the OCI default: every device.
      if (rule.type != 'a') device["type"] = std::string(1, rule.type);
      if (rule.major >= 0) device["major"] = rule.major;
      if (rule.minor >= 0) device["minor"] = rule.minor;
      devices.push_back(device);
    }
    j["devices"] = devices;
  }
  if (!r.unified.empty()) j["unified"] = r.unified;
  return j;
}

json SeccompObject(const Seccomp& s) {
  json j = {{"defaultAction", s.default_action}};
  SetIf(j, "defaultErrnoRet", s.default_errno_ret);
  SetIfAny(j, "architectures", s.architectures);
  SetIfAny(j, "flags", s.flags);
  json syscalls = json::array();
  for (const auto& call : s.syscalls) {
    json rule = {{"names", call.names}, {"action", call.action}};
    SetIf(rule, "errnoRet", call.errno_ret);
    if (!call.args.empty()) {
      json args = json::array();
      for (const auto& a : call.args) {
        args.push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
      }
      rule["args"] = args;
    }
    syscalls.push_back(rule);
  }
  if (!syscalls.empty()) j["syscalls"] = syscalls;
  if (!s.listener_path.empty()) j["listenerPath"] = s.listener_path;
  if (!s.listener_metadata.empty()) j["listenerMetadata"] = s.listener_metadata;
  return j;
}

json HookList(const std::vector<Hook>& hooks) {
  json list = json::array();
  for (const Hook& h : hooks) {
    json hook = {{"path", h.path}};
    SetIfAny(hook, "args", h.args);
    SetIfAny(hook, "env", h.env);
    SetIf(hook, "timeout", h.timeout);
    list.push_back(hook);
  }
  return list;
}

json HooksObject(const Hooks& hooks) {
  json j = json::object();
  for (auto [key, list] : {std::pair{"prestart", &hooks.prestart}, std::pair{"createRuntime", &hooks.create_runtime},
                           std::pair{"createContainer", &hooks.create_container},
                           std::pair{"startContainer", &hooks.start_container},
                           std::pair{"poststart", &hooks.poststart}, std::pair{"poststop", &hooks.poststop}}) {
    if (!list->empty()) j[key] = HookList(*list);
  }
  return j;
}

json DeviceObject(const Device& d) {
  json j = {{"path", d.path}, {"type", std::string(1, d.type)}, {"major", d.major}, {"minor", d.minor}};
  SetIf(j, "fileMode", d.file_mode);
  SetIf(j, "uid", d.uid);
  SetIf(j, "gid", d.gid);
  return j;
}

json LinuxObject(const Spec& spec) {
  json namespaces = json::array();
  for (const auto& ns : spec.namespaces) {
    json entry = {{"type", ns.type}};
    if (!ns.path.empty()) entry["path"] = ns.path;
    namespaces.push_back(entry);
  }
  json j = {{"namespaces", namespaces}};
  for (auto [key, mappings] :
       {std::pair{"uidMappings", &spec.uid_mappings}, std::pair{"gidMappings", &spec.gid_mappings}}) {
    if (mappings->empty()) continue;
    json list = json::array();
    for (const auto& m : *mappings) {
      list.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.length}});
    }
    j[key] = list;
  }
  if (!spec.cgroups_path.empty()) j["cgroupsPath"] = spec.cgroups_path;
  if (spec.resources) j["resources"] = ResourcesObject(*spec.resources);
  if (!spec.sysctl.empty()) j["sysctl"] = spec.sysctl;
  SetIfAny(j, "maskedPaths", spec.masked_paths);
  SetIfAny(j, "readonlyPaths", spec.readonly_paths);
  if (!spec.rootfs_propagation.empty()) j["rootfsPropagation"] = spec.rootfs_propagation;
  if (spec.seccomp) j["seccomp"] = SeccompObject(*spec.seccomp);
  if (spec.memory_policy) {
    json policy = {{"mode", spec.memory_policy->mode}};
    if (!spec.memory_policy->nodes.empty()) policy["nodes"] = spec.memory_policy->nodes;
    SetIfAny(policy, "flags", spec.memory_policy->flags);
    j["memoryPolicy"] = policy;
  }
  if (!spec.net_devices.empty()) {
    json devices = json::object();
    for (const auto& [host_name, device] : spec.net_devices) {
      devices[host_name] = device.name.empty() ? json::object() : json{{"name", device.name}};
    }
    j["netDevices"] = devices;
  }
  if (!spec.devices.empty()) {
    json devices = json::array();
    for (const auto& d : spec.devices) devices.push_back(DeviceObject(d));
    j["devices"] = devices;
  }
  return j;
}

}  // namespace

std::string SpecJson(const Spec& spec) {
  json mounts = json::array();
  for (const auto& m : spec.mounts) {
    json mount = {{"destination", m.destination}, {"type", m.type}, {"source", m.source}};
    if (!m.options.empty()) mount["options"] = m.options;
    mounts.push_back(mount);
  }
  json j = {{"ociVersion", spec.oci_version.empty() ? kOciVersion : spec.oci_version},
            {"process", ProcessObject(spec.process)},
            {"root", {{"path", spec.root_path}, {"readonly", spec.root_readonly}}},
            {"mounts", mounts},
            {"linux", LinuxObject(spec)}};
  if (!spec.hostname.empty()) j["hostname"] = spec.hostname;
  if (!spec.domainname.empty()) j["domainname"] = spec.domainname;
  if (!spec.annotations.empty()) j["annotations"] = spec.annotations;
  if (!spec.hooks.empty()) j["hooks"] = HooksObject(spec.hooks);
  return j.dump(2);
}

std::string ProcessJson(const Process& process) { return ProcessObject(process).dump(); }

std::string ResourcesJson(const cgroups::Resources& resources) { return ResourcesObject(resources).dump(); }

}  // namespace berth::runtime
