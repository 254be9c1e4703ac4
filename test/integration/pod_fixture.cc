#include "test/integration/pod_fixture.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "test/integration/test_images.h"

namespace berth::testing {

void PodFixture::StartWithImages(const std::vector<std::string>& berthd_flags) {
  auto registry = TestRegistry::Start();
  ASSERT_TRUE(registry.ok()) << registry.status();
  registry_ = std::move(*registry);
  auto busybox = BusyboxImage();
  ASSERT_TRUE(busybox.ok()) << busybox.status();
  RegistryClient push = registry_->Client();
  ASSERT_TRUE(PushTestImage(push, *busybox).ok());
  image_ = busybox->Reference(registry_->host_port());
  auto users = UserImages();
  ASSERT_TRUE(users.ok());
  for (const auto& user : *users) {
    ASSERT_TRUE(PushTestImage(push, user).ok());
    if (user.tag == "berth") user_image_ = user.Reference(registry_->host_port());
  }
  StartBerthd(berthd_flags);
  if (HasFatalFailure()) return;
  Pull(image_);
  Pull(user_image_);
  logs_ = dir_ + "/logs";
}

void PodFixture::StartOnHandler(const std::string& handler) {
  if (handler == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
  std::string config = dir_ + "/berth.yaml";
  ASSERT_TRUE(WriteFileAtomically(config, "default_runtime_handler: " + handler + "\n").ok());
  StartWithImages({"--config", config});
}

void PodFixture::TearDown() {
  if (berthd_pid_ > 0) {
    // Everything a test made goes through CRI, as kubelet would remove it.
    ::runtime::v1::ListPodSandboxResponse pods;
    if (client().runtime().ListPodSandbox(Ctx().get(), {}, &pods).ok()) {
      for (const auto& pod : pods.items()) {
        auto status = RemovePod(pod.id());
        EXPECT_TRUE(status.ok()) << status.error_message();
      }
    }
  }
  if (registry_) {
    EXPECT_TRUE(registry_->Stop().ok());
  }
  BerthdFixture::TearDown();
}

void PodFixture::Pull(const std::string& ref) {
  ::runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(ref);
  ::runtime::v1::PullImageResponse response;
  auto status = client().image().PullImage(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

void PodFixture::LinkCniPlugins() {
  constexpr char kPluginDir[] = "/usr/lib/cni";
  for (const char* plugin : {"bridge", "host-local", "portmap", "bandwidth", "loopback"}) {
    std::string installed = absl::StrCat(kPluginDir, "/", plugin);
    if (::access(installed.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "CNI plugin " << plugin << " is not installed (containernetworking-plugins)";
    }
    (void)::unlink((cni_bin_ + "/" + plugin).c_str());
    ASSERT_EQ(::symlink(installed.c_str(), (cni_bin_ + "/" + plugin).c_str()), 0);
  }
}

void PodFixture::UseShippedNetwork(const std::string& bridge) {
  auto shipped = nlohmann::json::parse(ReadFile(BERTH_SOURCE_DIR "/manifests/cni/10-berth.conflist").value_or("{}"),
                                       nullptr, false);
  ASSERT_TRUE(shipped.is_object());
  shipped["plugins"][0]["bridge"] = bridge;
  shipped["plugins"][0]["ipam"]["dataDir"] = dir_ + "/ipam";
  ASSERT_TRUE(WriteFileAtomically(cni_conf_ + "/10-test.conflist", shipped.dump()).ok());
}

::runtime::v1::PodSandboxConfig PodFixture::PodConfig(const std::string& name) {
  ::runtime::v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_uid("uid-" + name);
  config.mutable_metadata()->set_namespace_("berth-test");
  config.set_hostname(name + "-host");
  config.set_log_directory(logs_ + "/" + name);
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::CONTAINER);
  return config;
}

grpc::Status PodFixture::RunPod(const ::runtime::v1::PodSandboxConfig& config, std::string* id) {
  ::runtime::v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  ::runtime::v1::RunPodSandboxResponse response;
  auto status = client().runtime().RunPodSandbox(Ctx().get(), request, &response);
  *id = response.pod_sandbox_id();
  return status;
}

std::string PodFixture::RunPod(const ::runtime::v1::PodSandboxConfig& config) {
  std::string id;
  auto status = RunPod(config, &id);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return id;
}

::runtime::v1::PodSandboxStatus PodFixture::PodStatus(const std::string& id) {
  ::runtime::v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  ::runtime::v1::PodSandboxStatusResponse response;
  auto status = client().runtime().PodSandboxStatus(Ctx().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

grpc::Status PodFixture::StopPod(const std::string& id) {
  ::runtime::v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  ::runtime::v1::StopPodSandboxResponse response;
  return client().runtime().StopPodSandbox(Ctx().get(), request, &response);
}

grpc::Status PodFixture::Start(const std::string& id) {
  ::runtime::v1::StartContainerRequest request;
  request.set_container_id(id);
  ::runtime::v1::StartContainerResponse response;
  return client().runtime().StartContainer(Ctx().get(), request, &response);
}

grpc::Status PodFixture::StopContainer(const std::string& id, int64_t timeout) {
  ::runtime::v1::StopContainerRequest request;
  request.set_container_id(id);
  request.set_timeout(timeout);
  ::runtime::v1::StopContainerResponse response;
  return client().runtime().StopContainer(Ctx().get(), request, &response);
}

grpc::Status PodFixture::RemoveContainer(const std::string& id) {
  ::runtime::v1::RemoveContainerRequest request;
  request.set_container_id(id);
  ::runtime::v1::RemoveContainerResponse response;
  return client().runtime().RemoveContainer(Ctx().get(), request, &response);
}

grpc::Status PodFixture::RemovePod(const std::string& id) {
  ::runtime::v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  ::runtime::v1::RemovePodSandboxResponse response;
  return client().runtime().RemovePodSandbox(Ctx().get(), request, &response);
}

::runtime::v1::ContainerConfig PodFixture::ContainerConfig(const std::string& name, std::vector<std::string> command) {
  ::runtime::v1::ContainerConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_image()->set_image(image_);
  for (auto& arg : command) config.add_command(arg);
  config.set_log_path(name + ".log");
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::CONTAINER);
  return config;
}

grpc::Status PodFixture::Create(const std::string& pod, const ::runtime::v1::PodSandboxConfig& pod_config,
                                const ::runtime::v1::ContainerConfig& config, std::string* id) {
  ::runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod);
  *request.mutable_config() = config;
  *request.mutable_sandbox_config() = pod_config;
  ::runtime::v1::CreateContainerResponse response;
  auto status = client().runtime().CreateContainer(Ctx().get(), request, &response);
  *id = response.container_id();
  return status;
}

std::string PodFixture::CreateAndStart(const std::string& pod, const ::runtime::v1::PodSandboxConfig& pod_config,
                                       const ::runtime::v1::ContainerConfig& config) {
  std::string id;
  auto status = Create(pod, pod_config, config, &id);
  EXPECT_TRUE(status.ok()) << status.error_message();
  ::runtime::v1::StartContainerRequest start;
  start.set_container_id(id);
  ::runtime::v1::StartContainerResponse started;
  status = client().runtime().StartContainer(Ctx().get(), start, &started);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return id;
}

::runtime::v1::ContainerStatus PodFixture::StatusOf(const std::string& id) {
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  ::runtime::v1::ContainerStatusResponse response;
  auto status = client().runtime().ContainerStatus(Ctx().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

nlohmann::json PodFixture::VerboseContainerInfo(const std::string& id) {
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  ::runtime::v1::ContainerStatusResponse response;
  EXPECT_TRUE(client().runtime().ContainerStatus(Ctx().get(), request, &response).ok());
  auto it = response.info().find("info");
  return it == response.info().end() ? nlohmann::json::object() : nlohmann::json::parse(it->second, nullptr, false);
}

nlohmann::json PodFixture::VerbosePodInfo(const std::string& id) {
  ::runtime::v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  request.set_verbose(true);
  ::runtime::v1::PodSandboxStatusResponse response;
  EXPECT_TRUE(client().runtime().PodSandboxStatus(Ctx().get(), request, &response).ok());
  auto it = response.info().find("info");
  return it == response.info().end() ? nlohmann::json::object() : nlohmann::json::parse(it->second, nullptr, false);
}

::runtime::v1::ContainerStatus PodFixture::WaitForExit(const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto status = StatusOf(id);
    if (status.state() == ::runtime::v1::CONTAINER_EXITED || std::chrono::steady_clock::now() > deadline) {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

::runtime::v1::ExecSyncResponse PodFixture::Exec(const std::string& id, std::vector<std::string> cmd, int64_t timeout,
                                               grpc::Status* status_out) {
  ::runtime::v1::ExecSyncRequest request;
  request.set_container_id(id);
  for (auto& c : cmd) request.add_cmd(c);
  request.set_timeout(timeout);
  ::runtime::v1::ExecSyncResponse response;
  auto status = client().runtime().ExecSync(Ctx().get(), request, &response);
  if (status_out) {
    *status_out = status;
  } else {
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  return response;
}

}  // namespace berth::testing
