#include "runtime/spec.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "absl/strings/match.h"

namespace berth::runtime {

namespace {

using nlohmann::json;

// Parsing throws nlohmann exceptions internally; the public functions turn them into
// INVALID_ARGUMENT.

template <typename T>
std::optional<T> Opt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

std::vector<std::string> Strings(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->get<std::vector<std::string>>();
}

Process ParseProcessJson(const json& j) {
  Process p;
  p.terminal = j.value("terminal", false);
  if (auto it = j.find("user"); it != j.end()) {
    p.user.uid = it->value("uid", 0u);
    p.user.gid = it->value("gid", 0u);
    if (auto m = Opt<uint32_t>(*it, "umask")) p.user.umask = *m;
    if (auto g = it->find("additionalGids"); g != it->end() && !g->is_null()) {
      p.user.additional_gids = g->get<std::vector<gid_t>>();
    }
  }
  p.args = Strings(j, "args");
  p.env = Strings(j, "env");
  p.cwd = j.value("cwd", std::string("/"));
  if (auto it = j.find("capabilities"); it != j.end() && !it->is_null()) {
    Capabilities caps;
    caps.bounding = Strings(*it, "bounding");
    caps.effective = Strings(*it, "effective");
    caps.inheritable = Strings(*it, "inheritable");
    caps.permitted = Strings(*it, "permitted");
    caps.ambient = Strings(*it, "ambient");
    p.capabilities = std::move(caps);
  }
  if (auto it = j.find("rlimits"); it != j.end() && !it->is_null()) {
    for (const auto& r : *it) {
      p.rlimits.push_back({r.at("type").get<std::string>(), r.at("hard").get<uint64_t>(),
                           r.at("soft").get<uint64_t>()});
    }
  }
  p.no_new_privileges = j.value("noNewPrivileges", false);
  p.oom_score_adj = Opt<int>(j, "oomScoreAdj");
  p.apparmor_profile = j.value("apparmorProfile", "");
  if (auto it = j.find("ioPriority"); it != j.end() && !it->is_null()) {
    p.io_priority = IoPriority{it->at("class").get<std::string>(), it->value("priority", 0)};
  }
  if (auto it = j.find("scheduler"); it != j.end() && !it->is_null()) {
    Scheduler sched;
    sched.policy = it->at("policy").get<std::string>();
    sched.nice = it->value("nice", 0);
    sched.priority = it->value("priority", 0);
    sched.flags = Strings(*it, "flags");
    sched.runtime = it->value("runtime", uint64_t{0});
    sched.deadline = it->value("deadline", uint64_t{0});
    sched.period = it->value("period", uint64_t{0});
    p.scheduler = std::move(sched);
  }
  return p;
}

std::vector<cgroups::BlockIoThrottleDevice> Throttle(const json& j, const char* key) {
  std::vector<cgroups::BlockIoThrottleDevice> out;
  if (auto it = j.find(key); it != j.end() && !it->is_null()) {
    for (const auto& d : *it) {
      out.push_back({d.at("major").get<int64_t>(), d.at("minor").get<int64_t>(),
                     d.at("rate").get<uint64_t>()});
    }
  }
  return out;
}

cgroups::Resources ParseResourcesJson(const json& j) {
  cgroups::Resources r;
  if (auto it = j.find("memory"); it != j.end() && !it->is_null()) {
    r.memory_limit = Opt<int64_t>(*it, "limit");
    r.memory_reservation = Opt<int64_t>(*it, "reservation");
    r.memory_swap = Opt<int64_t>(*it, "swap");
  }
  if (auto it = j.find("cpu"); it != j.end() && !it->is_null()) {
    r.cpu_shares = Opt<uint64_t>(*it, "shares");
    r.cpu_quota = Opt<int64_t>(*it, "quota");
    r.cpu_period = Opt<uint64_t>(*it, "period");
    r.cpuset_cpus = Opt<std::string>(*it, "cpus");
    r.cpuset_mems = Opt<std::string>(*it, "mems");
  }
  if (auto it = j.find("pids"); it != j.end() && !it->is_null()) {
    r.pids_limit = Opt<int64_t>(*it, "limit");
  }
  if (auto it = j.find("hugepageLimits"); it != j.end() && !it->is_null()) {
    for (const auto& h : *it) {
      r.hugepage_limits.push_back({h.at("pageSize").get<std::string>(), h.at("limit").get<uint64_t>()});
    }
  }
  if (auto it = j.find("blockIO"); it != j.end() && !it->is_null()) {
    r.blkio_weight = Opt<uint16_t>(*it, "weight");
    if (auto w = it->find("weightDevice"); w != it->end() && !w->is_null()) {
      for (const auto& d : *w) {
        r.blkio_weight_devices.push_back({d.at("major").get<int64_t>(), d.at("minor").get<int64_t>(),
                                          Opt<uint16_t>(d, "weight")});
      }
    }
    r.throttle_read_bps = Throttle(*it, "throttleReadBpsDevice");
    r.throttle_write_bps = Throttle(*it, "throttleWriteBpsDevice");
    r.throttle_read_iops = Throttle(*it, "throttleReadIOPSDevice");
    r.throttle_write_iops = Throttle(*it, "throttleWriteIOPSDevice");
  }
  if (auto it = j.find("devices"); it != j.end() && !it->is_null()) {
    for (const auto& d : *it) {
      cgroups::DeviceRule rule;
      rule.allow = d.at("allow").get<bool>();
      std::string type = d.value("type", std::string("a"));
      rule.type = type.empty() ? 'a' : type[0];
      rule.major = Opt<int64_t>(d, "major").value_or(-1);
      rule.minor = Opt<int64_t>(d, "minor").value_or(-1);
      rule.access = d.value("access", std::string("rwm"));
      r.devices.push_back(rule);
    }
  }
  if (auto it = j.find("unified"); it != j.end() && !it->is_null()) {
    r.unified = it->get<std::map<std::string, std::string>>();
  }
  return r;
}

Seccomp ParseSeccompJson(const json& j) {
  Seccomp s;
  s.default_action = j.at("defaultAction").get<std::string>();
  s.default_errno_ret = Opt<uint32_t>(j, "defaultErrnoRet");
  s.architectures = Strings(j, "architectures");
  s.flags = Strings(j, "flags");
  s.listener_path = j.value("listenerPath", std::string());
  s.listener_metadata = j.value("listenerMetadata", std::string());
  if (auto it = j.find("syscalls"); it != j.end() && !it->is_null()) {
    for (const auto& sc : *it) {
      SeccompSyscall call;
      call.names = Strings(sc, "names");
      call.action = sc.at("action").get<std::string>();
      call.errno_ret = Opt<uint32_t>(sc, "errnoRet");
      if (auto a = sc.find("args"); a != sc.end() && !a->is_null()) {
        for (const auto& arg : *a) {
          call.args.push_back({arg.at("index").get<unsigned>(), arg.value("value", uint64_t{0}),
                               arg.value("valueTwo", uint64_t{0}), arg.at("op").get<std::string>()});
        }
      }
      s.syscalls.push_back(std::move(call));
    }
  }
  return s;
}

std::vector<Hook> ParseHookList(const json& hooks, const char* key) {
  std::vector<Hook> list;
  auto it = hooks.find(key);
  if (it == hooks.end() || it->is_null()) return list;
  for (const auto& h : *it) {
    list.push_back({h.at("path").get<std::string>(), Strings(h, "args"), Strings(h, "env"), Opt<int>(h, "timeout")});
  }
  return list;
}

Hooks ParseHooksJson(const json& j) {
  Hooks hooks;
  hooks.prestart = ParseHookList(j, "prestart");
  hooks.create_runtime = ParseHookList(j, "createRuntime");
  hooks.create_container = ParseHookList(j, "createContainer");
  hooks.start_container = ParseHookList(j, "startContainer");
  hooks.poststart = ParseHookList(j, "poststart");
  hooks.poststop = ParseHookList(j, "poststop");
  return hooks;
}

std::string Absolute(const std::string& path, const std::string& bundle) {
  if (absl::StartsWith(path, "/")) return path;
  return absl::StrCat(bundle, "/", path);
}

Spec ParseSpecJson(const json& j, const std::string& bundle) {
  Spec spec;
  spec.oci_version = j.value("ociVersion", std::string());
  const json& root = j.at("root");
  spec.root_path = Absolute(root.at("path").get<std::string>(), bundle);
  spec.root_readonly = root.value("readonly", false);
  spec.process = ParseProcessJson(j.at("process"));
  spec.hostname = j.value("hostname", std::string());
  spec.domainname = j.value("domainname", std::string());
  if (auto it = j.find("mounts"); it != j.end() && !it->is_null()) {
    for (const auto& m : *it) {
      Mount mount;
      mount.destination = m.at("destination").get<std::string>();
      mount.type = m.value("type", std::string());
      mount.source = m.value("source", std::string());
      mount.options = Strings(m, "options");
      bool bind = mount.type == "bind" || mount.type.empty();
      for (const auto& o : mount.options) bind |= (o == "bind" || o == "rbind");
      if (bind && !mount.source.empty()) mount.source = Absolute(mount.source, bundle);
      spec.mounts.push_back(std::move(mount));
    }
  }
  spec.annotations = j.value("annotations", std::map<std::string, std::string>());
  if (auto h = j.find("hooks"); h != j.end() && !h->is_null()) spec.hooks = ParseHooksJson(*h);
  auto it = j.find("linux");
  if (it == j.end() || it->is_null()) return spec;
  const json& linux = *it;
  if (auto n = linux.find("namespaces"); n != linux.end() && !n->is_null()) {
    for (const auto& ns : *n) {
      spec.namespaces.push_back({ns.at("type").get<std::string>(), ns.value("path", std::string())});
    }
  }
  for (auto [key, out] :
       {std::pair{"uidMappings", &spec.uid_mappings}, std::pair{"gidMappings", &spec.gid_mappings}}) {
    auto m = linux.find(key);
    if (m == linux.end() || m->is_null()) continue;
    for (const auto& entry : *m) {
      out->push_back({entry.at("containerID").get<uint32_t>(), entry.at("hostID").get<uint32_t>(),
                      entry.at("size").get<uint32_t>()});
    }
  }
  if (auto d = linux.find("devices"); d != linux.end() && !d->is_null()) {
    for (const auto& dev : *d) {
      Device device;
      device.path = dev.at("path").get<std::string>();
      std::string type = dev.at("type").get<std::string>();
      device.type = type.empty() ? 'c' : type[0];
      device.major = dev.value("major", int64_t{0});
      device.minor = dev.value("minor", int64_t{0});
      if (auto m = Opt<uint32_t>(dev, "fileMode")) device.file_mode = *m;
      if (auto u = Opt<uint32_t>(dev, "uid")) device.uid = *u;
      if (auto g = Opt<uint32_t>(dev, "gid")) device.gid = *g;
      spec.devices.push_back(device);
    }
  }
  spec.cgroups_path = linux.value("cgroupsPath", std::string());
  if (auto r = linux.find("resources"); r != linux.end() && !r->is_null()) {
    spec.resources = ParseResourcesJson(*r);
  }
  spec.sysctl = linux.value("sysctl", std::map<std::string, std::string>());
  spec.masked_paths = Strings(linux, "maskedPaths");
  spec.readonly_paths = Strings(linux, "readonlyPaths");
  spec.rootfs_propagation = linux.value("rootfsPropagation", std::string());
  if (auto s = linux.find("seccomp"); s != linux.end() && !s->is_null()) {
    spec.seccomp = ParseSeccompJson(*s);
  }
  if (auto m = linux.find("memoryPolicy"); m != linux.end() && !m->is_null()) {
    spec.memory_policy = MemoryPolicy{m->at("mode").get<std::string>(), m->value("nodes", std::string()),
                                      Strings(*m, "flags")};
  }
  if (auto n = linux.find("netDevices"); n != linux.end() && !n->is_null()) {
    for (const auto& entry : n->items()) {
      const json& device = entry.value();
      spec.net_devices[entry.key()] = NetDevice{device.is_object() ? device.value("name", std::string()) : ""};
    }
  }
  return spec;
}

template <typename T, typename F>
StatusOr<T> ParseWith(absl::string_view text, absl::string_view what, F parse) {
  try {
    json j = json::parse(text.begin(), text.end());
    return parse(j);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("parse ", what, ": ", e.what()));
  }
}

}  // namespace

void SortMountsByDepth(std::vector<Mount>& mounts) {
  std::stable_sort(mounts.begin(), mounts.end(), [](const Mount& a, const Mount& b) {
    return std::count(a.destination.begin(), a.destination.end(), '/') <
           std::count(b.destination.begin(), b.destination.end(), '/');
  });
}

const Namespace* Spec::FindNamespace(absl::string_view type) const {
  for (const auto& ns : namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

StatusOr<Spec> ParseSpec(absl::string_view text, const std::string& bundle) {
  ASSIGN_OR_RETURN(Spec spec, ParseWith<Spec>(text, "config.json",
                                              [&](const json& j) { return ParseSpecJson(j, bundle); }));
  if (spec.process.args.empty()) {
    return absl::InvalidArgumentError("config.json: process.args must not be empty");
  }
  for (const auto& ns : spec.namespaces) {
    static const char* kKnown[] = {"pid", "network", "mount", "ipc", "uts", "cgroup", "user", "time"};
    bool known = false;
    for (const char* k : kKnown) known |= ns.type == k;
    if (!known) return absl::InvalidArgumentError(absl::StrCat("config.json: unknown namespace type ", ns.type));
  }
  RETURN_IF_ERROR(Annotate(ValidateHooks(spec.hooks), "config.json"));
  return spec;
}

StatusOr<Process> ParseProcess(absl::string_view text) {
  ASSIGN_OR_RETURN(Process p, ParseWith<Process>(text, "process.json", ParseProcessJson));
  if (p.args.empty()) return absl::InvalidArgumentError("process.json: args must not be empty");
  return p;
}

StatusOr<cgroups::Resources> ParseResources(absl::string_view text) {
  return ParseWith<cgroups::Resources>(text, "resources", ParseResourcesJson);
}

StatusOr<Seccomp> ParseSeccomp(absl::string_view text) {
  return ParseWith<Seccomp>(text, "seccomp profile", ParseSeccompJson);
}

}  // namespace berth::runtime
