// berthctl play: runs a Kubernetes Pod manifest end to end, the way kubelet would:
// pull the images that are missing, run the pod sandbox, create and start each
// container. Supports the fields a hand-written pod uses (see README).
#include <sys/random.h>
#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cri/client.h"

namespace po = boost::program_options;

namespace berth::ctl {
namespace {

std::string RandomUid() {
  unsigned char b[16];
  if (::getrandom(b, sizeof b, 0) != sizeof b) return "00000000-0000-4000-8000-000000000000";
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

std::string Str(const YAML::Node& node, const char* key, const std::string& fallback = "") {
  return node[key] && node[key].IsScalar() ? node[key].as<std::string>() : fallback;
}

void FillContainerSecurity(const YAML::Node& sc, ::runtime::v1::LinuxContainerSecurityContext* out) {
  if (!sc) return;
  if (sc["runAsUser"]) out->mutable_run_as_user()->set_value(sc["runAsUser"].as<int64_t>());
  if (sc["runAsGroup"]) out->mutable_run_as_group()->set_value(sc["runAsGroup"].as<int64_t>());
  if (sc["privileged"]) out->set_privileged(sc["privileged"].as<bool>());
  if (sc["readOnlyRootFilesystem"]) out->set_readonly_rootfs(sc["readOnlyRootFilesystem"].as<bool>());
  if (sc["allowPrivilegeEscalation"]) out->set_no_new_privs(!sc["allowPrivilegeEscalation"].as<bool>());
  if (const auto caps = sc["capabilities"]) {
    for (const auto& c : caps["add"]) out->mutable_capabilities()->add_add_capabilities(c.as<std::string>());
    for (const auto& c : caps["drop"]) out->mutable_capabilities()->add_drop_capabilities(c.as<std::string>());
  }
}

}  // namespace

int RunPlay(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"play", "play POD.yaml",
                             "Runs a Kubernetes Pod manifest: pulls, runs the pod, creates and starts its containers", 1,
                             1},
                            args, po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  YAML::Node pod;
  try {
    pod = YAML::LoadFile(line.positional[0]);
  } catch (const YAML::Exception& e) {
    std::cerr << "berthctl play: " << e.what() << "\n";
    return 2;
  }
  if (Str(pod, "kind") != "Pod" || !pod["spec"] || !pod["spec"]["containers"] || !pod["spec"]["containers"].IsSequence()) {
    std::cerr << "berthctl play: not a Pod manifest with spec.containers\n";
    return 2;
  }
  const YAML::Node meta = pod["metadata"];
  const YAML::Node spec = pod["spec"];
  ::runtime::v1::PodSandboxConfig sandbox;
  auto* md = sandbox.mutable_metadata();
  md->set_name(Str(meta, "name", "pod"));
  md->set_namespace_(Str(meta, "namespace", "default"));
  md->set_uid(Str(meta, "uid", RandomUid()));
  sandbox.set_hostname(Str(spec, "hostname", md->name()));
  sandbox.set_log_directory(absl::StrCat("/var/log/pods/", md->namespace_(), "_", md->name(), "_", md->uid()));
  if (meta && meta["labels"]) {
    for (const auto& l : meta["labels"]) (*sandbox.mutable_labels())[l.first.as<std::string>()] = l.second.as<std::string>();
  }
  auto* ns = sandbox.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  bool host_network = spec["hostNetwork"] && spec["hostNetwork"].as<bool>();
  bool share_pid = spec["shareProcessNamespace"] && spec["shareProcessNamespace"].as<bool>();
  ns->set_network(host_network ? ::runtime::v1::NODE : ::runtime::v1::POD);
  ns->set_pid(share_pid ? ::runtime::v1::POD : ::runtime::v1::CONTAINER);
  ns->set_ipc(spec["hostIPC"] && spec["hostIPC"].as<bool>() ? ::runtime::v1::NODE : ::runtime::v1::POD);

  cri::CriClient client(global.endpoint);
  // Images first, as kubelet pulls before it runs the pod.
  for (const auto& c : spec["containers"]) {
    ::runtime::v1::ImageStatusRequest lookup;
    lookup.mutable_image()->set_image(Str(c, "image"));
    ::runtime::v1::ImageStatusResponse found;
    auto status = client.image().ImageStatus(cri::CriClient::Context(global.timeout).get(), lookup, &found);
    if (!status.ok()) return ReportRpcError("ImageStatus", status);
    if (found.has_image()) continue;
    ::runtime::v1::PullImageRequest pull;
    pull.mutable_image()->set_image(Str(c, "image"));
    ::runtime::v1::PullImageResponse pulled;
    std::cout << "pulling " << Str(c, "image") << "\n";
    status = client.image().PullImage(cri::CriClient::Context(std::chrono::hours(1)).get(), pull, &pulled);
    if (!status.ok()) return ReportRpcError("PullImage", status);
  }
  ::runtime::v1::RunPodSandboxRequest run;
  *run.mutable_config() = sandbox;
  if (spec["runtimeClassName"]) run.set_runtime_handler(spec["runtimeClassName"].as<std::string>());
  ::runtime::v1::RunPodSandboxResponse ran;
  auto status = client.runtime().RunPodSandbox(cri::CriClient::Context(global.timeout).get(), run, &ran);
  if (!status.ok()) return ReportRpcError("RunPodSandbox", status);
  std::cout << "pod " << md->namespace_() << "/" << md->name() << " " << ran.pod_sandbox_id() << "\n";
  for (const auto& c : spec["containers"]) {
    ::runtime::v1::CreateContainerRequest create;
    create.set_pod_sandbox_id(ran.pod_sandbox_id());
    *create.mutable_sandbox_config() = sandbox;
    auto* config = create.mutable_config();
    config->mutable_metadata()->set_name(Str(c, "name"));
    config->mutable_image()->set_image(Str(c, "image"));
    for (const auto& a : c["command"]) config->add_command(a.as<std::string>());
    for (const auto& a : c["args"]) config->add_args(a.as<std::string>());
    for (const auto& e : c["env"]) {
      auto* kv = config->add_envs();
      kv->set_key(Str(e, "name"));
      kv->set_value(Str(e, "value"));
    }
    config->set_working_dir(Str(c, "workingDir"));
    config->set_log_path(Str(c, "name") + "/0.log");
    config->set_tty(c["tty"] && c["tty"].as<bool>());
    auto* sec = config->mutable_linux()->mutable_security_context();
    sec->mutable_namespace_options()->set_pid(share_pid ? ::runtime::v1::POD : ::runtime::v1::CONTAINER);
    FillContainerSecurity(c["securityContext"], sec);
    ::runtime::v1::CreateContainerResponse created;
    status = client.runtime().CreateContainer(cri::CriClient::Context(global.timeout).get(), create, &created);
    if (!status.ok()) return ReportRpcError("CreateContainer", status);
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(created.container_id());
    ::runtime::v1::StartContainerResponse started;
    status = client.runtime().StartContainer(cri::CriClient::Context(global.timeout).get(), start, &started);
    if (!status.ok()) return ReportRpcError("StartContainer", status);
    std::cout << "container " << Str(c, "name") << " " << created.container_id() << "\n";
  }
  return 0;
}

}  // namespace berth::ctl
