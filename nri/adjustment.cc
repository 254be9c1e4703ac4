#include "nri/adjustment.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::nri {
namespace {

// "NAME=value" -> NAME.
std::string EnvName(const std::string& entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

AdjustedKey ParseAdjustedKey(const std::string& key) {
  if (absl::StartsWith(key, "-")) return {key.substr(1), true};
  return {key, false};
}

Status AdjustmentMerger::Claim(const std::string& what, const std::string& plugin) {
  auto [it, fresh] = owners_.emplace(what, plugin);
  if (!fresh && it->second != plugin) {
    return absl::FailedPreconditionError(
        absl::StrCat("NRI plugins ", it->second, " and ", plugin, " both adjust ", what, " of the container"));
  }
  return absl::OkStatus();
}

Status AdjustmentMerger::Add(const std::string& plugin, const api::ContainerAdjustment& adjust) {
  for (const auto& [key, value] : adjust.annotations()) {
    AdjustedKey k = ParseAdjustedKey(key);
    RETURN_IF_ERROR(Claim(absl::StrCat("annotation ", k.name), plugin));
    (*merged_.mutable_annotations())[key] = value;
    if (k.removed) {
      container_->mutable_annotations()->erase(k.name);
    } else {
      (*container_->mutable_annotations())[k.name] = value;
    }
  }
  for (const api::KeyValue& variable : adjust.env()) {
    AdjustedKey k = ParseAdjustedKey(variable.key());
    RETURN_IF_ERROR(Claim(absl::StrCat("environment variable ", k.name), plugin));
    *merged_.add_env() = variable;
    auto* env = container_->mutable_env();
    env->erase(std::remove_if(env->begin(), env->end(), [&](const std::string& e) { return EnvName(e) == k.name; }),
               env->end());
    if (!k.removed) container_->add_env(absl::StrCat(k.name, "=", variable.value()));
  }
  for (const api::Mount& mount : adjust.mounts()) {
    AdjustedKey k = ParseAdjustedKey(mount.destination());
    RETURN_IF_ERROR(Claim(absl::StrCat("mount on ", k.name), plugin));
    *merged_.add_mounts() = mount;
    auto* mounts = container_->mutable_mounts();
    mounts->erase(std::remove_if(mounts->begin(), mounts->end(),
                                 [&](const api::Mount& m) { return m.destination() == k.name; }),
                  mounts->end());
    if (!k.removed) *container_->add_mounts() = mount;
  }
  if (adjust.has_hooks()) {
    // Hooks add up: each plugin's run after the ones before.
    merged_.mutable_hooks()->MergeFrom(adjust.hooks());
    container_->mutable_hooks()->MergeFrom(adjust.hooks());
  }
  for (const api::POSIXRlimit& rlimit : adjust.rlimits()) {
    RETURN_IF_ERROR(Claim(absl::StrCat("rlimit ", rlimit.type()), plugin));
    *merged_.add_rlimits() = rlimit;
    *container_->add_rlimits() = rlimit;
  }
  for (const api::CDIDevice& device : adjust.cdi_devices()) {
    RETURN_IF_ERROR(Claim(absl::StrCat("CDI device ", device.name()), plugin));
    *merged_.add_cdi_devices() = device;
    *container_->add_cdi_devices() = device;
  }
  if (adjust.args_size() > 0) {
    RETURN_IF_ERROR(Claim("args", plugin));
    *merged_.mutable_args() = adjust.args();
    *container_->mutable_args() = adjust.args();
  }
  if (!adjust.has_linux()) return absl::OkStatus();
  const api::LinuxContainerAdjustment& linux = adjust.linux();
  api::LinuxContainerAdjustment* merged_linux = merged_.mutable_linux();
  api::LinuxContainer* container_linux = container_->mutable_linux();
  for (const api::LinuxDevice& device : linux.devices()) {
    AdjustedKey k = ParseAdjustedKey(device.path());
    RETURN_IF_ERROR(Claim(absl::StrCat("device ", k.name), plugin));
    *merged_linux->add_devices() = device;
    if (!k.removed) *container_linux->add_devices() = device;
  }
  if (linux.has_resources()) RETURN_IF_ERROR(AddResources(plugin, linux.resources()));
  if (!linux.cgroups_path().empty()) {
    RETURN_IF_ERROR(Claim("cgroups path", plugin));
    merged_linux->set_cgroups_path(linux.cgroups_path());
    container_linux->set_cgroups_path(linux.cgroups_path());
  }
  if (linux.has_oom_score_adj()) {
    RETURN_IF_ERROR(Claim("OOM score", plugin));
    *merged_linux->mutable_oom_score_adj() = linux.oom_score_adj();
    *container_linux->mutable_oom_score_adj() = linux.oom_score_adj();
  }
  if (linux.has_io_priority()) {
    RETURN_IF_ERROR(Claim("I/O priority", plugin));
    *merged_linux->mutable_io_priority() = linux.io_priority();
    *container_linux->mutable_io_priority() = linux.io_priority();
  }
  if (linux.has_seccomp_policy()) {
    RETURN_IF_ERROR(Claim("seccomp policy", plugin));
    *merged_linux->mutable_seccomp_policy() = linux.seccomp_policy();
    *container_linux->mutable_seccomp_policy() = linux.seccomp_policy();
  }
  for (const api::LinuxNamespace& ns : linux.namespaces()) {
    AdjustedKey k = ParseAdjustedKey(ns.type());
    RETURN_IF_ERROR(Claim(absl::StrCat(k.name, " namespace"), plugin));
    *merged_linux->add_namespaces() = ns;
  }
  for (const auto& [key, value] : linux.sysctl()) {
    AdjustedKey k = ParseAdjustedKey(key);
    RETURN_IF_ERROR(Claim(absl::StrCat("sysctl ", k.name), plugin));
    (*merged_linux->mutable_sysctl())[key] = value;
    if (k.removed) {
      container_linux->mutable_sysctl()->erase(k.name);
    } else {
      (*container_linux->mutable_sysctl())[k.name] = value;
    }
  }
  for (const auto& [host_name, device] : linux.net_devices()) {
    RETURN_IF_ERROR(Claim(absl::StrCat("network device ", ParseAdjustedKey(host_name).name), plugin));
    (*merged_linux->mutable_net_devices())[host_name] = device;
  }
  if (linux.has_scheduler()) {
    RETURN_IF_ERROR(Claim("scheduler", plugin));
    *merged_linux->mutable_scheduler() = linux.scheduler();
    *container_linux->mutable_scheduler() = linux.scheduler();
  }
  if (linux.has_rdt()) {
    RETURN_IF_ERROR(Claim("RDT", plugin));
    *merged_linux->mutable_rdt() = linux.rdt();
  }
  if (linux.has_memory_policy()) {
    RETURN_IF_ERROR(Claim("memory policy", plugin));
    *merged_linux->mutable_memory_policy() = linux.memory_policy();
  }
  return absl::OkStatus();
}

Status AdjustmentMerger::AddResources(const std::string& plugin, const api::LinuxResources& resources) {
  api::LinuxResources* merged = merged_.mutable_linux()->mutable_resources();
  api::LinuxResources* seen = container_->mutable_linux()->mutable_resources();
  // Each optional field is claimed on its own: one plugin may set the memory limit
  // and another the CPU shares.
  auto take = [&](const char* what, bool set, auto&& copy) -> Status {
    if (!set) return absl::OkStatus();
    RETURN_IF_ERROR(Claim(what, plugin));
    copy(merged);
    copy(seen);
    return absl::OkStatus();
  };
  const api::LinuxMemory& memory = resources.memory();
  const api::LinuxCPU& cpu = resources.cpu();
  // One optional field of memory or cpu: LinuxMemory's and LinuxCPU's are all
  // messages (OptionalInt64, ...), set or not.
#define BERTH_NRI_TAKE(what, owner, field)                                                                      \
  RETURN_IF_ERROR(take(what, resources.has_##owner() && owner.has_##field(), [&](api::LinuxResources* r) { \
    *r->mutable_##owner()->mutable_##field() = owner.field();                                                  \
  }))
  BERTH_NRI_TAKE("memory limit", memory, limit);
  BERTH_NRI_TAKE("memory reservation", memory, reservation);
  BERTH_NRI_TAKE("memory+swap limit", memory, swap);
  BERTH_NRI_TAKE("kernel memory limit", memory, kernel);
  BERTH_NRI_TAKE("kernel TCP memory limit", memory, kernel_tcp);
  BERTH_NRI_TAKE("memory swappiness", memory, swappiness);
  BERTH_NRI_TAKE("OOM killer", memory, disable_oom_killer);
  BERTH_NRI_TAKE("memory hierarchy", memory, use_hierarchy);
  BERTH_NRI_TAKE("CPU shares", cpu, shares);
  BERTH_NRI_TAKE("CPU quota", cpu, quota);
  BERTH_NRI_TAKE("CPU period", cpu, period);
  BERTH_NRI_TAKE("CPU realtime runtime", cpu, realtime_runtime);
  BERTH_NRI_TAKE("CPU realtime period", cpu, realtime_period);
#undef BERTH_NRI_TAKE
  RETURN_IF_ERROR(take("cpuset CPUs", resources.has_cpu() && !cpu.cpus().empty(),
                       [&](api::LinuxResources* r) { r->mutable_cpu()->set_cpus(cpu.cpus()); }));
  RETURN_IF_ERROR(take("cpuset memory nodes", resources.has_cpu() && !cpu.mems().empty(),
                       [&](api::LinuxResources* r) { r->mutable_cpu()->set_mems(cpu.mems()); }));
  for (const api::HugepageLimit& limit : resources.hugepage_limits()) {
    RETURN_IF_ERROR(Claim(absl::StrCat("hugepage limit ", limit.page_size()), plugin));
    *merged->add_hugepage_limits() = limit;
    *seen->add_hugepage_limits() = limit;
  }
  RETURN_IF_ERROR(take("block I/O class", resources.has_blockio_class(),
                       [&](api::LinuxResources* r) { *r->mutable_blockio_class() = resources.blockio_class(); }));
  RETURN_IF_ERROR(take("RDT class", resources.has_rdt_class(),
                       [&](api::LinuxResources* r) { *r->mutable_rdt_class() = resources.rdt_class(); }));
  RETURN_IF_ERROR(take("pids limit", resources.has_pids(),
                       [&](api::LinuxResources* r) { *r->mutable_pids() = resources.pids(); }));
  for (const auto& [key, value] : resources.unified()) {
    RETURN_IF_ERROR(Claim(absl::StrCat("cgroup v2 file ", key), plugin));
    (*merged->mutable_unified())[key] = value;
    (*seen->mutable_unified())[key] = value;
  }
  for (const api::LinuxDeviceCgroup& rule : resources.devices()) {
    *merged->add_devices() = rule;
    *seen->add_devices() = rule;
  }
  return absl::OkStatus();
}

}  // namespace berth::nri
