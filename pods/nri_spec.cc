#include "pods/nri_spec.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nri/adjustment.h"
#include "pods/nri_process_fields.h"
#include "runtime/net_devices.h"
#include "runtime/scheduling.h"
#include "runtime/seccomp.h"

namespace berth::pods {
namespace {

namespace api = nri::api;

api::ContainerState NriState(ContainerState state) {
  switch (state) {
    case ContainerState::kCreated:
      return api::CONTAINER_CREATED;
    case ContainerState::kRunning:
      return api::CONTAINER_RUNNING;
    case ContainerState::kExited:
      return api::CONTAINER_STOPPED;
    default:
      return api::CONTAINER_UNKNOWN;
  }
}

std::string EnvName(const std::string& entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

api::LinuxResources NriResources(const cgroups::Resources& r) {
  api::LinuxResources out;
  if (r.memory_limit) out.mutable_memory()->mutable_limit()->set_value(*r.memory_limit);
  if (r.memory_reservation) out.mutable_memory()->mutable_reservation()->set_value(*r.memory_reservation);
  if (r.memory_swap) out.mutable_memory()->mutable_swap()->set_value(*r.memory_swap);
  if (r.cpu_shares) out.mutable_cpu()->mutable_shares()->set_value(*r.cpu_shares);
  if (r.cpu_quota) out.mutable_cpu()->mutable_quota()->set_value(*r.cpu_quota);
  if (r.cpu_period) out.mutable_cpu()->mutable_period()->set_value(*r.cpu_period);
  if (r.cpuset_cpus) out.mutable_cpu()->set_cpus(*r.cpuset_cpus);
  if (r.cpuset_mems) out.mutable_cpu()->set_mems(*r.cpuset_mems);
  if (r.pids_limit) out.mutable_pids()->set_limit(*r.pids_limit);
  for (const auto& limit : r.hugepage_limits) {
    api::HugepageLimit* h = out.add_hugepage_limits();
    h->set_page_size(limit.page_size);
    h->set_limit(limit.limit);
  }
  for (const auto& [key, value] : r.unified) (*out.mutable_unified())[key] = value;
  return out;
}

cgroups::Resources CgroupResources(const api::LinuxResources& in) {
  cgroups::Resources r;
  const api::LinuxMemory& memory = in.memory();
  if (memory.has_limit()) r.memory_limit = memory.limit().value();
  if (memory.has_reservation()) r.memory_reservation = memory.reservation().value();
  if (memory.has_swap()) r.memory_swap = memory.swap().value();
  const api::LinuxCPU& cpu = in.cpu();
  if (cpu.has_shares()) r.cpu_shares = cpu.shares().value();
  if (cpu.has_quota()) r.cpu_quota = cpu.quota().value();
  if (cpu.has_period()) r.cpu_period = cpu.period().value();
  if (!cpu.cpus().empty()) r.cpuset_cpus = cpu.cpus();
  if (!cpu.mems().empty()) r.cpuset_mems = cpu.mems();
  if (in.has_pids()) r.pids_limit = in.pids().limit();
  for (const api::HugepageLimit& h : in.hugepage_limits()) r.hugepage_limits.push_back({h.page_size(), h.limit()});
  for (const auto& [key, value] : in.unified()) r.unified[key] = value;
  return r;
}

api::PodSandbox NriPod(const SandboxRecord& pod, const std::string& cgroup_parent) {
  api::PodSandbox out;
  out.set_id(pod.id);
  out.set_name(pod.spec.name);
  out.set_uid(pod.spec.uid);
  out.set_namespace_(pod.spec.namespace_name);
  out.mutable_labels()->insert(pod.spec.labels.begin(), pod.spec.labels.end());
  out.mutable_annotations()->insert(pod.spec.annotations.begin(), pod.spec.annotations.end());
  out.set_runtime_handler(pod.spec.runtime_handler);
  out.mutable_linux()->set_cgroup_parent(cgroup_parent);
  auto add_namespace = [&](const char* type, const std::string& path) {
    if (path.empty()) return;
    api::LinuxNamespace* ns = out.mutable_linux()->add_namespaces();
    ns->set_type(type);
    ns->set_path(path);
  };
  add_namespace("network", pod.netns_path);
  add_namespace("ipc", pod.ipcns_path);
  add_namespace("uts", pod.utsns_path);
  add_namespace("user", pod.userns_path);
  if (pod.init_pid > 0) out.set_pid(static_cast<uint32_t>(pod.init_pid));
  for (const std::string& ip : pod.ips) out.add_ips(ip);
  return out;
}

api::Container NriContainer(const ContainerRecord& container, const runtime::Spec* spec) {
  api::Container out;
  out.set_id(container.id);
  out.set_pod_sandbox_id(container.pod_id);
  out.set_name(container.spec.name);
  out.set_state(NriState(container.state));
  out.mutable_labels()->insert(container.spec.labels.begin(), container.spec.labels.end());
  out.mutable_annotations()->insert(container.spec.annotations.begin(), container.spec.annotations.end());
  if (container.pid > 0) out.set_pid(static_cast<uint32_t>(container.pid));
  out.set_created_at(container.created_at);
  out.set_started_at(container.started_at);
  out.set_finished_at(container.finished_at);
  out.set_exit_code(container.exit_code);
  out.set_status_reason(container.reason);
  out.set_status_message(container.message);
  out.mutable_user()->set_uid(container.uid);
  out.mutable_user()->set_gid(container.gid);
  for (auto gid : container.supplemental_groups) out.mutable_user()->add_additional_gids(gid);
  if (!spec) {
    for (const auto& arg : container.spec.command) out.add_args(arg);
    for (const auto& arg : container.spec.args) out.add_args(arg);
    for (const auto& [key, value] : container.spec.env) out.add_env(absl::StrCat(key, "=", value));
    for (const MountSpec& m : container.spec.mounts) {
      api::Mount* mount = out.add_mounts();
      mount->set_destination(m.container_path);
      mount->set_source(m.host_path);
      mount->set_type("bind");
      mount->add_options(m.readonly ? "ro" : "rw");
    }
    out.mutable_linux()->set_cgroups_path(container.cgroup_path);
    return out;
  }
  for (const auto& arg : spec->process.args) out.add_args(arg);
  for (const auto& env : spec->process.env) out.add_env(env);
  if (!spec->hooks.empty()) CopyOciHooks(spec->hooks, out.mutable_hooks());
  for (const runtime::Mount& m : spec->mounts) {
    api::Mount* mount = out.add_mounts();
    mount->set_destination(m.destination);
    mount->set_type(m.type);
    mount->set_source(m.source);
    for (const auto& option : m.options) mount->add_options(option);
  }
  for (const runtime::Rlimit& r : spec->process.rlimits) {
    api::POSIXRlimit* rlimit = out.add_rlimits();
    rlimit->set_type(r.type);
    rlimit->set_hard(r.hard);
    rlimit->set_soft(r.soft);
  }
  api::LinuxContainer* linux = out.mutable_linux();
  for (const runtime::Namespace& n : spec->namespaces) {
    api::LinuxNamespace* ns = linux->add_namespaces();
    ns->set_type(n.type);
    ns->set_path(n.path);
  }
  for (const runtime::Device& d : spec->devices) {
    api::LinuxDevice* device = linux->add_devices();
    device->set_path(d.path);
    device->set_type(std::string(1, d.type));
    device->set_major(d.major);
    device->set_minor(d.minor);
    if (d.file_mode) device->mutable_file_mode()->set_value(*d.file_mode);
    if (d.uid) device->mutable_uid()->set_value(*d.uid);
    if (d.gid) device->mutable_gid()->set_value(*d.gid);
  }
  if (spec->resources) *linux->mutable_resources() = NriResources(*spec->resources);
  if (spec->process.oom_score_adj) linux->mutable_oom_score_adj()->set_value(*spec->process.oom_score_adj);
  linux->set_cgroups_path(spec->cgroups_path);
  linux->mutable_sysctl()->insert(spec->sysctl.begin(), spec->sysctl.end());
  for (const auto& [host_name, device] : spec->net_devices) {
    (*linux->mutable_net_devices())[host_name].set_name(device.name);
  }
  return out;
}

Status ApplyNriAdjustment(const api::ContainerAdjustment& adjust, const RuntimeHandler::Features& handler,
                          runtime::Spec* spec) {
  auto refuse = [](const char* what) {
    return absl::FailedPreconditionError(absl::StrCat("an NRI plugin adjusts the container's ", what,
                                                      ", which berth does not apply yet"));
  };
  auto unsupported = [](absl::string_view what) {
    return absl::FailedPreconditionError(
        absl::StrCat("an NRI plugin adjusts the container's ", what, ", which its runtime handler does not support"));
  };
  const api::LinuxContainerAdjustment& linux = adjust.linux();
  if (linux.has_rdt() || linux.resources().has_rdt_class()) return refuse("RDT class");

  if (adjust.has_hooks()) {
    runtime::Hooks hooks;
    AppendNriHooks(adjust.hooks(), &hooks);
    RETURN_IF_ERROR(Annotate(runtime::ValidateHooks(hooks), "an NRI plugin's OCI hooks"));
    for (auto [kind, list] : {std::pair{"prestart", &hooks.prestart}, std::pair{"createRuntime", &hooks.create_runtime},
                              std::pair{"createContainer", &hooks.create_container},
                              std::pair{"startContainer", &hooks.start_container},
                              std::pair{"poststart", &hooks.poststart}, std::pair{"poststop", &hooks.poststop}}) {
      if (!list->empty() && !handler.RunsHook(kind)) return unsupported(absl::StrCat(kind, " hooks"));
    }
    AppendNriHooks(adjust.hooks(), &spec->hooks);
  }
  if (linux.has_io_priority()) {
    if (!handler.io_priority) return unsupported("I/O priority");
    ASSIGN_OR_RETURN(spec->process.io_priority, OciIoPriority(linux.io_priority()));
  }
  if (linux.has_scheduler()) {
    if (!handler.scheduler) return unsupported("scheduler");
    ASSIGN_OR_RETURN(spec->process.scheduler, OciScheduler(linux.scheduler()));
  }
  RETURN_IF_ERROR(Annotate(runtime::ValidateScheduling(spec->process), "an NRI plugin's adjustment"));
  if (linux.has_memory_policy()) {
    if (!handler.memory_policy) return unsupported("memory policy");
    ASSIGN_OR_RETURN(spec->memory_policy, OciMemoryPolicy(linux.memory_policy()));
    RETURN_IF_ERROR(Annotate(runtime::ValidateMemoryPolicy(*spec->memory_policy), "an NRI plugin's adjustment"));
  }
  // Host links to move into the pod's network namespace, keyed by their host name
  // ("-name" takes one a CDI device or an earlier plugin gave back out).
  for (const auto& [host_name, device] : linux.net_devices()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(host_name);
    if (k.removed) {
      spec->net_devices.erase(k.name);
      continue;
    }
    if (!handler.net_devices) return unsupported("network devices");
    spec->net_devices[k.name] = runtime::NetDevice{device.name()};
  }
  RETURN_IF_ERROR(Annotate(runtime::ValidateNetDevices(spec->net_devices), "an NRI plugin's adjustment"));

  for (const auto& [key, value] : adjust.annotations()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(key);
    if (k.removed) {
      spec->annotations.erase(k.name);
    } else {
      spec->annotations[k.name] = value;
    }
  }
  for (const api::KeyValue& variable : adjust.env()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(variable.key());
    auto& env = spec->process.env;
    auto it = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return EnvName(e) == k.name; });
    if (k.removed) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      *it = absl::StrCat(k.name, "=", variable.value());
    } else {
      env.push_back(absl::StrCat(k.name, "=", variable.value()));
    }
  }
  if (adjust.args_size() > 0) spec->process.args.assign(adjust.args().begin(), adjust.args().end());
  for (const api::Mount& mount : adjust.mounts()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(mount.destination());
    auto& mounts = spec->mounts;
    mounts.erase(std::remove_if(mounts.begin(), mounts.end(),
                                [&](const runtime::Mount& m) { return m.destination == k.name; }),
                 mounts.end());
    if (k.removed) continue;
    if (k.name.empty() || k.name[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("NRI mount destination \"", k.name, "\" is not absolute"));
    }
    mounts.push_back({k.name, mount.type(), mount.source(), {mount.options().begin(), mount.options().end()}});
  }
  runtime::SortMountsByDepth(spec->mounts);
  for (const api::LinuxDevice& device : linux.devices()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(device.path());
    auto& devices = spec->devices;
    devices.erase(std::remove_if(devices.begin(), devices.end(),
                                 [&](const runtime::Device& d) { return d.path == k.name; }),
                  devices.end());
    if (k.removed) continue;
    if (device.type().size() != 1 || std::string("cbup").find(device.type()[0]) == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("NRI device ", k.name, " has type \"", device.type(), "\""));
    }
    runtime::Device d;
    d.path = k.name;
    d.type = device.type()[0];
    d.major = device.major();
    d.minor = device.minor();
    if (device.has_file_mode()) d.file_mode = device.file_mode().value();
    if (device.has_uid()) d.uid = device.uid().value();
    if (device.has_gid()) d.gid = device.gid().value();
    devices.push_back(d);
    // The node is no use without the cgroup letting the container open it.
    if (d.type == 'c' || d.type == 'b') {
      if (!spec->resources) spec->resources.emplace();
      spec->resources->devices.push_back({true, d.type, d.major, d.minor, "rwm"});
    }
  }
  // A namespace of a type replaces the container's (a path joins one, none makes a
  // new one); "-type" leaves the container without one of that type.
  for (const api::LinuxNamespace& ns : linux.namespaces()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(ns.type());
    static const char* kTypes[] = {"pid", "network", "mount", "ipc", "uts", "cgroup", "user", "time"};
    if (std::find(std::begin(kTypes), std::end(kTypes), k.name) == std::end(kTypes)) {
      return absl::InvalidArgumentError(absl::StrCat("an NRI plugin adjusts a namespace of type \"", k.name, "\""));
    }
    if (!ns.path().empty() && ns.path()[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("NRI namespace path \"", ns.path(), "\" is not absolute"));
    }
    auto& namespaces = spec->namespaces;
    namespaces.erase(std::remove_if(namespaces.begin(), namespaces.end(),
                                    [&](const runtime::Namespace& n) { return n.type == k.name; }),
                     namespaces.end());
    if (!k.removed) namespaces.push_back({k.name, ns.path()});
  }
  for (const api::POSIXRlimit& rlimit : adjust.rlimits()) {
    auto& rlimits = spec->process.rlimits;
    rlimits.erase(std::remove_if(rlimits.begin(), rlimits.end(),
                                 [&](const runtime::Rlimit& r) { return r.type == rlimit.type(); }),
                  rlimits.end());
    rlimits.push_back({rlimit.type(), rlimit.hard(), rlimit.soft()});
  }
  if (linux.has_resources()) {
    cgroups::Resources wanted = CgroupResources(linux.resources());
    if (!spec->resources) spec->resources.emplace();
    cgroups::Resources& r = *spec->resources;
    auto set = [](auto& field, const auto& value) {
      if (value) field = value;
    };
    set(r.memory_limit, wanted.memory_limit);
    set(r.memory_reservation, wanted.memory_reservation);
    set(r.memory_swap, wanted.memory_swap);
    set(r.cpu_shares, wanted.cpu_shares);
    set(r.cpu_quota, wanted.cpu_quota);
    set(r.cpu_period, wanted.cpu_period);
    set(r.cpuset_cpus, wanted.cpuset_cpus);
    set(r.cpuset_mems, wanted.cpuset_mems);
    set(r.pids_limit, wanted.pids_limit);
    for (const auto& limit : wanted.hugepage_limits) {
      std::erase_if(r.hugepage_limits, [&](const cgroups::HugepageLimit& h) { return h.page_size == limit.page_size; });
      r.hugepage_limits.push_back(limit);
    }
    for (const auto& [key, value] : wanted.unified) r.unified[key] = value;
    for (const api::LinuxDeviceCgroup& rule : linux.resources().devices()) {
      r.devices.push_back({rule.allow(), rule.type().empty() ? 'a' : rule.type()[0],
                           rule.has_major() ? rule.major().value() : -1, rule.has_minor() ? rule.minor().value() : -1,
                           rule.access().empty() ? "rwm" : rule.access()});
    }
  }
  if (linux.has_seccomp_policy()) {
    // The plugin's policy replaces the container's whole, as in containerd.
    const api::LinuxSeccomp& policy = linux.seccomp_policy();
    runtime::Seccomp seccomp;
    seccomp.default_action = policy.default_action();
    if (policy.has_default_errno()) seccomp.default_errno_ret = policy.default_errno().value();
    seccomp.architectures.assign(policy.architectures().begin(), policy.architectures().end());
    seccomp.flags.assign(policy.flags().begin(), policy.flags().end());
    for (const api::LinuxSyscall& rule : policy.syscalls()) {
      runtime::SeccompSyscall syscall;
      syscall.names.assign(rule.names().begin(), rule.names().end());
      syscall.action = rule.action();
      if (rule.has_errno_ret()) syscall.errno_ret = rule.errno_ret().value();
      for (const api::LinuxSeccompArg& arg : rule.args()) {
        syscall.args.push_back({arg.index(), arg.value(), arg.value_two(), arg.op()});
      }
      seccomp.syscalls.push_back(std::move(syscall));
    }
    if (seccomp.default_action.empty()) {
      return absl::InvalidArgumentError("an NRI plugin's seccomp policy has no default action");
    }
    // A seccomp agent (listener_path) answers the calls of SCMP_ACT_NOTIFY rules.
    seccomp.listener_path = policy.listener_path();
    seccomp.listener_metadata = policy.listener_metadata();
    if (runtime::UsesNotify(seccomp) && !handler.seccomp_notify) return unsupported("seccomp notify action");
    RETURN_IF_ERROR(Annotate(runtime::ValidateSeccompListener(seccomp), "an NRI plugin's seccomp policy"));
    spec->seccomp = std::move(seccomp);
  }
  if (!linux.cgroups_path().empty()) spec->cgroups_path = linux.cgroups_path();
  if (linux.has_oom_score_adj()) spec->process.oom_score_adj = static_cast<int>(linux.oom_score_adj().value());
  for (const auto& [key, value] : linux.sysctl()) {
    nri::AdjustedKey k = nri::ParseAdjustedKey(key);
    if (k.removed) {
      spec->sysctl.erase(k.name);
    } else {
      spec->sysctl[k.name] = value;
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::pods
