#include "cmd/berthctl/cluster_nodes.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/random_id.h"
#include "image/digest.h"

namespace berth::ctl {

namespace {

void AddMount(::runtime::v1::ContainerConfig& config, const std::string& host, const std::string& container,
              bool readonly) {
  auto* mount = config.add_mounts();
  mount->set_host_path(host);
  mount->set_container_path(container);
  mount->set_readonly(readonly);
}

}  // namespace

ClusterNodes::ClusterNodes(const std::string& endpoint, std::chrono::milliseconds timeout, std::string state_dir)
    : client_(endpoint),
      timeout_(timeout),
      state_dir_(std::move(state_dir)),
      state_label_(image::Sha256Of(state_dir_).substr(7, 16)) {}

Status RpcError(const std::string& rpc, const grpc::Status& status) {
  return Status(static_cast<absl::StatusCode>(status.error_code()), absl::StrCat(rpc, ": ", status.error_message()));
}

Status ClusterNodes::Pull(const std::string& image) {
  ::runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(image);
  ::runtime::v1::PullImageResponse response;
  auto status = client_.image().PullImage(Context(std::chrono::minutes(10)).get(), request, &response);
  return status.ok() ? absl::OkStatus() : RpcError("PullImage " + image, status);
}

StatusOr<NodePod> ClusterNodes::RunPod(const cluster::ClusterRecord& record, const cluster::NodeRecord& node) {
  NodePod pod;
  pod.node = node.name;
  auto& config = pod.config;
  config.mutable_metadata()->set_name(node.name);
  config.mutable_metadata()->set_namespace_("berth-cluster");
  config.mutable_metadata()->set_uid(absl::StrCat(record.spec.name, "-", node.name, "-", RandomId().substr(0, 12)));
  config.set_hostname(node.name);
  const std::string dir = cluster::NodeDir(state_dir_, record.spec.name, node.name);
  config.set_log_directory(dir + "/logs");
  (*config.mutable_labels())[kClusterLabel] = record.spec.name;
  (*config.mutable_labels())[kNodeLabel] = node.name;
  (*config.mutable_labels())[kStateLabel] = state_label_;
  auto* security = config.mutable_linux()->mutable_security_context();
  security->set_privileged(true);
  security->mutable_namespace_options()->set_network(::runtime::v1::POD);
  security->mutable_namespace_options()->set_pid(::runtime::v1::CONTAINER);

  ::runtime::v1::RunPodSandboxRequest run;
  *run.mutable_config() = config;
  ::runtime::v1::RunPodSandboxResponse ran;
  auto status = client_.runtime().RunPodSandbox(Context(std::chrono::seconds(60)).get(), run, &ran);
  if (!status.ok()) return RpcError("RunPodSandbox " + node.name, status);
  pod.pod_id = ran.pod_sandbox_id();
  ::runtime::v1::PodSandboxStatusRequest ask;
  ask.set_pod_sandbox_id(pod.pod_id);
  ::runtime::v1::PodSandboxStatusResponse answer;
  status = client_.runtime().PodSandboxStatus(Context().get(), ask, &answer);
  if (!status.ok()) {
    (void)Remove(pod);
    return RpcError("PodSandboxStatus " + node.name, status);
  }
  pod.ip = answer.status().network().ip();
  pod.ready = true;
  if (pod.ip.empty()) {
    (void)Remove(pod);
    return absl::FailedPreconditionError(absl::StrCat(
        "node ", node.name, " got no address: the host's berthd has no pod network (see `berthctl info`)"));
  }
  return pod;
}

Status ClusterNodes::StartNode(const cluster::ClusterRecord& record, const cluster::NodeRecord& node,
                               const NodePod& pod) {
  ::runtime::v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(pod.pod_id);
  *create.mutable_sandbox_config() = pod.config;
  auto* config = create.mutable_config();
  config->mutable_metadata()->set_name("node");
  config->mutable_image()->set_image(record.node_image);
  config->add_command("/opt/berth/bin/berth-node");
  config->set_log_path("node.log");
  config->mutable_linux()->mutable_security_context()->set_privileged(true);
  config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      ::runtime::v1::CONTAINER);
  // The node's userland is the host's: its /usr (CNI plugins, iptables, mount...)
  // and the alternatives /usr/sbin/iptables points through.
  AddMount(*config, "/usr", "/usr", true);
  if (std::filesystem::exists("/etc/alternatives")) AddMount(*config, "/etc/alternatives", "/etc/alternatives", true);
  if (std::filesystem::exists("/lib/modules")) AddMount(*config, "/lib/modules", "/lib/modules", true);
  AddMount(*config, record.berth_dir, "/opt/berth/bin", true);
  AddMount(*config, record.kubernetes_dir, "/opt/kubernetes/bin", true);
  const std::string dir = cluster::NodeDir(state_dir_, record.spec.name, node.name);
  for (const auto& volume : cluster::NodeVolumes(node.control_plane)) {
    AddMount(*config, dir + "/" + volume.dir, volume.path, volume.readonly);
  }
  // The host's network namespace, for the registry forward: berthctl's own is the
  // host's, and the bind mount keeps it after berthctl exits.
  AddMount(*config, absl::StrCat("/proc/", ::getpid(), "/ns/net"), "/run/berth-node/host-netns", true);

  ::runtime::v1::CreateContainerResponse created;
  auto status = client_.runtime().CreateContainer(Context(std::chrono::seconds(60)).get(), create, &created);
  if (!status.ok()) return RpcError("CreateContainer " + node.name, status);
  ::runtime::v1::StartContainerRequest start;
  start.set_container_id(created.container_id());
  ::runtime::v1::StartContainerResponse started;
  status = client_.runtime().StartContainer(Context().get(), start, &started);
  if (!status.ok()) return RpcError("StartContainer " + node.name, status);
  return absl::OkStatus();
}

StatusOr<std::vector<NodePod>> ClusterNodes::List(const std::string& cluster) {
  ::runtime::v1::ListPodSandboxRequest request;
  (*request.mutable_filter()->mutable_label_selector())[kClusterLabel] = cluster;
  (*request.mutable_filter()->mutable_label_selector())[kStateLabel] = state_label_;
  ::runtime::v1::ListPodSandboxResponse response;
  auto status = client_.runtime().ListPodSandbox(Context().get(), request, &response);
  if (!status.ok()) return RpcError("ListPodSandbox", status);
  std::vector<NodePod> pods;
  for (const auto& item : response.items()) {
    NodePod pod;
    auto label = item.labels().find(kNodeLabel);
    pod.node = label == item.labels().end() ? "" : label->second;
    pod.pod_id = item.id();
    pod.ready = item.state() == ::runtime::v1::SANDBOX_READY;
    ::runtime::v1::ListContainersRequest list;
    list.mutable_filter()->set_pod_sandbox_id(pod.pod_id);
    ::runtime::v1::ListContainersResponse containers;
    status = client_.runtime().ListContainers(Context().get(), list, &containers);
    if (!status.ok()) return RpcError("ListContainers", status);
    for (const auto& container : containers.containers()) {
      pod.running = pod.running || container.state() == ::runtime::v1::CONTAINER_RUNNING;
    }
    pods.push_back(std::move(pod));
  }
  return pods;
}

Status ClusterNodes::Remove(const NodePod& pod) {
  ::runtime::v1::ListContainersRequest list;
  list.mutable_filter()->set_pod_sandbox_id(pod.pod_id);
  ::runtime::v1::ListContainersResponse containers;
  auto status = client_.runtime().ListContainers(Context().get(), list, &containers);
  if (!status.ok()) return RpcError("ListContainers", status);
  for (const auto& container : containers.containers()) {
    ::runtime::v1::StopContainerRequest stop;
    stop.set_container_id(container.id());
    // berth-node's orderly stop takes up to 30 s (kube-proxy, kubelet, berthd).
    stop.set_timeout(35);
    ::runtime::v1::StopContainerResponse stopped;
    status = client_.runtime().StopContainer(Context(std::chrono::seconds(50)).get(), stop, &stopped);
    if (!status.ok()) return RpcError("StopContainer " + pod.node, status);
  }
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(pod.pod_id);
  ::runtime::v1::StopPodSandboxResponse stopped;
  status = client_.runtime().StopPodSandbox(Context(std::chrono::seconds(30)).get(), stop, &stopped);
  if (!status.ok()) return RpcError("StopPodSandbox " + pod.node, status);
  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(pod.pod_id);
  ::runtime::v1::RemovePodSandboxResponse removed;
  status = client_.runtime().RemovePodSandbox(Context(std::chrono::seconds(30)).get(), remove, &removed);
  if (!status.ok()) return RpcError("RemovePodSandbox " + pod.node, status);
  return absl::OkStatus();
}

}  // namespace berth::ctl
