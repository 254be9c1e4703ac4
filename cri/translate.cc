#include "cri/translate.h"

#include "absl/strings/match.h"

namespace berth::cri {
namespace {

using ::runtime::v1::NamespaceMode;

pods::NamespaceMode ToMode(NamespaceMode mode) { return static_cast<pods::NamespaceMode>(mode); }

// what: "seccomp" or "AppArmor", for messages. An empty legacy string stays empty
// (no profile named): what that means differs between the two.
StatusOr<pods::SecurityProfileSpec> ToProfile(absl::string_view what, bool has_profile,
                                              const ::runtime::v1::SecurityProfile& profile,
                                              const std::string& legacy) {
  pods::SecurityProfileSpec out;
  if (has_profile) {
    switch (profile.profile_type()) {
      case ::runtime::v1::SecurityProfile::RuntimeDefault: out.type = "runtime/default"; break;
      case ::runtime::v1::SecurityProfile::Unconfined: out.type = "unconfined"; break;
      case ::runtime::v1::SecurityProfile::Localhost:
        out.type = "localhost";
        out.localhost_ref = profile.localhost_ref();
        if (out.localhost_ref.empty()) {
          return absl::InvalidArgumentError(absl::StrCat(what, " profile type Localhost needs a localhost_ref"));
        }
        break;
      default: return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " profile type"));
    }
    return out;
  }
  // The deprecated string form: "", "unconfined", "runtime/default", "docker/default", "localhost/<ref>".
  if (legacy.empty()) return out;
  if (legacy == "unconfined") {
    out.type = "unconfined";
  } else if (legacy == "runtime/default" || legacy == "docker/default") {
    out.type = "runtime/default";
  } else if (absl::StartsWith(legacy, "localhost/")) {
    out.type = "localhost";
    out.localhost_ref = legacy.substr(10);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " profile \"", legacy, "\""));
  }
  return out;
}

std::vector<runtime::IdMapping> ToIdMappings(
    const google::protobuf::RepeatedPtrField<::runtime::v1::IDMapping>& mappings) {
  std::vector<runtime::IdMapping> out;
  for (const auto& m : mappings) out.push_back({m.container_id(), m.host_id(), m.length()});
  return out;
}

// An absent UserNamespace is the host's, as containerd and CRI-O read it.
pods::UserNamespaceSpec ToUserNamespace(const ::runtime::v1::NamespaceOption& ns) {
  pods::UserNamespaceSpec out;
  if (!ns.has_userns_options()) return out;
  out.mode = ToMode(ns.userns_options().mode());
  out.uids = ToIdMappings(ns.userns_options().uids());
  out.gids = ToIdMappings(ns.userns_options().gids());
  return out;
}

void FillIdMappings(const std::vector<runtime::IdMapping>& mappings,
                    google::protobuf::RepeatedPtrField<::runtime::v1::IDMapping>* out) {
  for (const auto& m : mappings) {
    auto* entry = out->Add();
    entry->set_container_id(m.container_id);
    entry->set_host_id(m.host_id);
    entry->set_length(m.length);
  }
}

std::string SignalName(::runtime::v1::Signal signal) {
  if (signal == ::runtime::v1::SIGNAL_RUNTIME_DEFAULT) return "";
  std::string name = ::runtime::v1::Signal_Name(signal);
  return absl::StartsWith(name, "SIGNAL_") ? name.substr(7) : name;
}

}  // namespace

pods::ResourcesSpec ToResources(const ::runtime::v1::LinuxContainerResources& r) {
  pods::ResourcesSpec out;
  out.cpu_period = r.cpu_period();
  out.cpu_quota = r.cpu_quota();
  out.cpu_shares = r.cpu_shares();
  out.memory_limit = r.memory_limit_in_bytes();
  out.memory_swap_limit = r.memory_swap_limit_in_bytes();
  out.oom_score_adj = r.oom_score_adj();
  out.cpuset_cpus = r.cpuset_cpus();
  out.cpuset_mems = r.cpuset_mems();
  for (const auto& page : r.hugepage_limits()) out.hugepage_limits[page.page_size()] = page.limit();
  for (const auto& [k, v] : r.unified()) out.unified[k] = v;
  return out;
}

StatusOr<pods::PodSpec> ToPodSpec(const ::runtime::v1::PodSandboxConfig& config, const std::string& runtime_handler) {
  if (!config.has_metadata()) return absl::InvalidArgumentError("PodSandboxConfig.metadata is missing");
  pods::PodSpec spec;
  spec.name = config.metadata().name();
  spec.uid = config.metadata().uid();
  spec.namespace_name = config.metadata().namespace_();
  spec.attempt = config.metadata().attempt();
  spec.hostname = config.hostname();
  spec.log_directory = config.log_directory();
  if (!spec.log_directory.empty() && spec.log_directory[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("log_directory \"", spec.log_directory, "\" must be absolute"));
  }
  spec.runtime_handler = runtime_handler;
  spec.labels.insert(config.labels().begin(), config.labels().end());
  spec.annotations.insert(config.annotations().begin(), config.annotations().end());
  if (config.has_dns_config()) {
    pods::DnsSpec dns;
    dns.servers.assign(config.dns_config().servers().begin(), config.dns_config().servers().end());
    dns.searches.assign(config.dns_config().searches().begin(), config.dns_config().searches().end());
    dns.options.assign(config.dns_config().options().begin(), config.dns_config().options().end());
    spec.dns = dns;
  }
  for (const auto& port : config.port_mappings()) {
    if (port.container_port() < 1 || port.container_port() > 65535 || port.host_port() < 0 ||
        port.host_port() > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("port mapping ", port.host_port(), ":", port.container_port(),
                                                     " is out of range (ports are 1..65535)"));
    }
    spec.ports.push_back({::runtime::v1::Protocol_Name(port.protocol()), port.container_port(), port.host_port(),
                          port.host_ip()});
  }
  const auto& linux = config.linux();
  spec.cgroup_parent = linux.cgroup_parent();
  spec.sysctls.insert(linux.sysctls().begin(), linux.sysctls().end());
  const auto& sec = linux.security_context();
  const auto& ns = sec.namespace_options();
  spec.network = ToMode(ns.network());
  spec.pid = ToMode(ns.pid());
  spec.ipc = ToMode(ns.ipc());
  spec.userns = ToUserNamespace(ns);
  spec.privileged = sec.privileged();
  if (sec.has_run_as_user()) spec.run_as_user = sec.run_as_user().value();
  if (sec.has_run_as_group()) spec.run_as_group = sec.run_as_group().value();
  spec.supplemental_groups.assign(sec.supplemental_groups().begin(), sec.supplemental_groups().end());
  spec.strict_supplemental_groups = sec.supplemental_groups_policy() == ::runtime::v1::SupplementalGroupsPolicy::Strict;
  spec.readonly_rootfs = sec.readonly_rootfs();
  return spec;
}

StatusOr<pods::ContainerSpec> ToContainerSpec(const ::runtime::v1::ContainerConfig& config) {
  if (!config.has_metadata()) return absl::InvalidArgumentError("ContainerConfig.metadata is missing");
  pods::ContainerSpec spec;
  spec.name = config.metadata().name();
  spec.attempt = config.metadata().attempt();
  spec.image = config.image().image();
  spec.command.assign(config.command().begin(), config.command().end());
  spec.args.assign(config.args().begin(), config.args().end());
  spec.working_dir = config.working_dir();
  for (const auto& kv : config.envs()) spec.env.emplace_back(kv.key(), kv.value());
  for (const auto& m : config.mounts()) {
    pods::MountSpec mount = pods::MountSpec::Bind(m.container_path(), m.host_path(), m.readonly(),
                                                  static_cast<int>(m.propagation()), m.recursive_read_only());
    mount.uid_mappings = ToIdMappings(m.uidmappings());
    mount.gid_mappings = ToIdMappings(m.gidmappings());
    if (m.has_image()) mount.image = m.image().image();
    mount.image_sub_path = m.image_sub_path();
    if (mount.image.empty() && !mount.image_sub_path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("mount on ", m.container_path(), " has an image_sub_path but no image"));
    }
    spec.mounts.push_back(std::move(mount));
  }
  for (const auto& d : config.devices()) spec.devices.push_back({d.container_path(), d.host_path(), d.permissions()});
  for (const auto& d : config.cdi_devices()) spec.cdi_devices.push_back(d.name());
  spec.labels.insert(config.labels().begin(), config.labels().end());
  spec.annotations.insert(config.annotations().begin(), config.annotations().end());
  spec.log_path = config.log_path();
  spec.stdin = config.stdin();
  spec.stdin_once = config.stdin_once();
  spec.tty = config.tty();
  spec.stop_signal = SignalName(config.stop_signal());
  const auto& linux = config.linux();
  spec.resources = ToResources(linux.resources());
  const auto& sec = linux.security_context();
  pods::SecuritySpec& s = spec.security;
  s.privileged = sec.privileged();
  s.add_capabilities.assign(sec.capabilities().add_capabilities().begin(), sec.capabilities().add_capabilities().end());
  s.drop_capabilities.assign(sec.capabilities().drop_capabilities().begin(),
                             sec.capabilities().drop_capabilities().end());
  if (sec.has_run_as_user()) s.run_as_user = sec.run_as_user().value();
  if (sec.has_run_as_group()) {
    if (!sec.has_run_as_user() && sec.run_as_username().empty()) {
      return absl::InvalidArgumentError("run_as_group is set without run_as_user or run_as_username");
    }
    s.run_as_group = sec.run_as_group().value();
  }
  s.run_as_username = sec.run_as_username();
  s.supplemental_groups.assign(sec.supplemental_groups().begin(), sec.supplemental_groups().end());
  s.strict_supplemental_groups = sec.supplemental_groups_policy() == ::runtime::v1::SupplementalGroupsPolicy::Strict;
  s.readonly_rootfs = sec.readonly_rootfs();
  s.no_new_privs = sec.no_new_privs();
  s.masked_paths.assign(sec.masked_paths().begin(), sec.masked_paths().end());
  s.readonly_paths.assign(sec.readonly_paths().begin(), sec.readonly_paths().end());
  // Older kubelets still send the deprecated string form.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const std::string& legacy_seccomp = sec.seccomp_profile_path();
  const std::string& legacy_apparmor = sec.apparmor_profile();
#pragma GCC diagnostic pop
  ASSIGN_OR_RETURN(s.seccomp, ToProfile("seccomp", sec.has_seccomp(), sec.seccomp(), legacy_seccomp));
  ASSIGN_OR_RETURN(s.apparmor, ToProfile("AppArmor", sec.has_apparmor(), sec.apparmor(), legacy_apparmor));
  s.pid = ToMode(sec.namespace_options().pid());
  s.target_container_id = sec.namespace_options().target_id();
  if (sec.namespace_options().has_userns_options()) s.userns = ToUserNamespace(sec.namespace_options());
  if (s.pid == pods::NamespaceMode::kTarget && s.target_container_id.empty()) {
    return absl::InvalidArgumentError("PID namespace mode TARGET needs a target_id");
  }
  return spec;
}

static void FillPodMetadata(const pods::PodSpec& spec, ::runtime::v1::PodSandboxMetadata* md) {
  md->set_name(spec.name);
  md->set_uid(spec.uid);
  md->set_namespace_(spec.namespace_name);
  md->set_attempt(spec.attempt);
}

static ::runtime::v1::PodSandboxState CriState(pods::SandboxState state) {
  return state == pods::SandboxState::kReady ? ::runtime::v1::SANDBOX_READY : ::runtime::v1::SANDBOX_NOTREADY;
}

void FillPodSandbox(const pods::SandboxRecord& r, ::runtime::v1::PodSandbox* out) {
  out->set_id(r.id);
  FillPodMetadata(r.spec, out->mutable_metadata());
  out->set_state(CriState(r.state));
  out->set_created_at(r.created_at);
  out->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  out->mutable_annotations()->insert(r.spec.annotations.begin(), r.spec.annotations.end());
  out->set_runtime_handler(r.spec.runtime_handler);
}

void FillPodSandboxStatus(const pods::SandboxRecord& r, ::runtime::v1::PodSandboxStatus* out) {
  out->set_id(r.id);
  FillPodMetadata(r.spec, out->mutable_metadata());
  out->set_state(CriState(r.state));
  out->set_created_at(r.created_at);
  if (!r.ips.empty()) {
    out->mutable_network()->set_ip(r.ips[0]);
    for (size_t i = 1; i < r.ips.size(); ++i) out->mutable_network()->add_additional_ips()->set_ip(r.ips[i]);
  }
  auto* ns = out->mutable_linux()->mutable_namespaces()->mutable_options();
  ns->set_network(static_cast<::runtime::v1::NamespaceMode>(r.spec.network));
  ns->set_pid(static_cast<::runtime::v1::NamespaceMode>(r.spec.pid));
  ns->set_ipc(static_cast<::runtime::v1::NamespaceMode>(r.spec.ipc));
  if (r.spec.userns.mode != pods::NamespaceMode::kNode) {
    auto* userns = ns->mutable_userns_options();
    userns->set_mode(static_cast<::runtime::v1::NamespaceMode>(r.spec.userns.mode));
    FillIdMappings(r.spec.userns.uids, userns->mutable_uids());
    FillIdMappings(r.spec.userns.gids, userns->mutable_gids());
  }
  out->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  out->mutable_annotations()->insert(r.spec.annotations.begin(), r.spec.annotations.end());
  out->set_runtime_handler(r.spec.runtime_handler);
}

void FillContainer(const pods::ContainerRecord& r, ::runtime::v1::Container* out) {
  out->set_id(r.id);
  out->set_pod_sandbox_id(r.pod_id);
  out->mutable_metadata()->set_name(r.spec.name);
  out->mutable_metadata()->set_attempt(r.spec.attempt);
  out->mutable_image()->set_image(r.spec.image);
  out->set_image_ref(r.image_id);
  out->set_image_id(r.image_id);
  out->set_state(static_cast<::runtime::v1::ContainerState>(r.state));
  out->set_created_at(r.created_at);
  out->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  out->mutable_annotations()->insert(r.spec.annotations.begin(), r.spec.annotations.end());
}

void FillContainerStatus(const pods::ContainerRecord& r, ::runtime::v1::ContainerStatus* out) {
  out->set_id(r.id);
  out->mutable_metadata()->set_name(r.spec.name);
  out->mutable_metadata()->set_attempt(r.spec.attempt);
  out->set_state(static_cast<::runtime::v1::ContainerState>(r.state));
  out->set_created_at(r.created_at);
  out->set_started_at(r.started_at);
  out->set_finished_at(r.finished_at);
  out->set_exit_code(r.exit_code);
  out->mutable_image()->set_image(r.spec.image);
  out->set_image_ref(r.image_id);
  out->set_image_id(r.image_id);
  out->set_reason(r.reason);
  out->set_message(r.message);
  auto* user = out->mutable_user()->mutable_linux();
  user->set_uid(r.uid);
  user->set_gid(r.gid);
  user->mutable_supplemental_groups()->Add(r.supplemental_groups.begin(), r.supplemental_groups.end());
  out->mutable_labels()->insert(r.spec.labels.begin(), r.spec.labels.end());
  out->mutable_annotations()->insert(r.spec.annotations.begin(), r.spec.annotations.end());
  for (const auto& m : r.spec.mounts) {
    auto* mount = out->add_mounts();
    mount->set_container_path(m.container_path);
    mount->set_host_path(m.host_path);
    mount->set_readonly(m.readonly);
    mount->set_propagation(static_cast<::runtime::v1::MountPropagation>(m.propagation));
    mount->set_recursive_read_only(m.recursive_readonly);
    if (!m.image.empty()) {
      mount->mutable_image()->set_image(m.image);
      mount->mutable_image()->set_image_ref(m.image_ref);
      mount->set_image_sub_path(m.image_sub_path);
    }
  }
  out->set_log_path(r.log_path);
  auto* res = out->mutable_resources()->mutable_linux();
  res->set_cpu_period(r.spec.resources.cpu_period);
  res->set_cpu_quota(r.spec.resources.cpu_quota);
  res->set_cpu_shares(r.spec.resources.cpu_shares);
  res->set_memory_limit_in_bytes(r.spec.resources.memory_limit);
  res->set_oom_score_adj(r.spec.resources.oom_score_adj);
  res->set_cpuset_cpus(r.spec.resources.cpuset_cpus);
  res->set_cpuset_mems(r.spec.resources.cpuset_mems);
}

}  // namespace berth::cri
