// A berthd with the busybox test images pulled, and the CRI calls pod tests make,
// the way kubelet makes them. Teardown removes every pod through CRI before the
// base fixture's leak check runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/berthd_fixture.h"
#include "test/integration/test_registry.h"

namespace berth::testing {

class PodFixture : public BerthdFixture {
 protected:
  void TearDown() override;

  // Starts a registry holding the busybox images, starts berthd with the given
  // extra flags and pulls both images.
  void StartWithImages(const std::vector<std::string>& berthd_flags);
  // StartWithImages with handler ("berth", "runc") as berthd's default runtime
  // handler; skips the test when that handler's binary is not installed.
  void StartOnHandler(const std::string& handler);
  void Pull(const std::string& ref);

  // Links Debian's CNI plugins (bridge, host-local, portmap, bandwidth, loopback)
  // into the test's plugin dir; skips the test when one is not installed.
  void LinkCniPlugins();
  // The network ./dev.sh run installs (manifests/cni), on a bridge and a lease dir
  // (DIR/ipam) of the test's own.
  void UseShippedNetwork(const std::string& bridge);

  ::runtime::v1::PodSandboxConfig PodConfig(const std::string& name);
  std::string RunPod(const ::runtime::v1::PodSandboxConfig& config);
  grpc::Status RunPod(const ::runtime::v1::PodSandboxConfig& config, std::string* id);
  ::runtime::v1::PodSandboxStatus PodStatus(const std::string& id);
  grpc::Status StopPod(const std::string& id);
  grpc::Status RemovePod(const std::string& id);

  ::runtime::v1::ContainerConfig ContainerConfig(const std::string& name, std::vector<std::string> command);
  grpc::Status Create(const std::string& pod, const ::runtime::v1::PodSandboxConfig& pod_config,
                      const ::runtime::v1::ContainerConfig& config, std::string* id);
  std::string CreateAndStart(const std::string& pod, const ::runtime::v1::PodSandboxConfig& pod_config,
                             const ::runtime::v1::ContainerConfig& config);
  grpc::Status Start(const std::string& id);
  // timeout: StopContainer's grace period, in seconds.
  grpc::Status StopContainer(const std::string& id, int64_t timeout = 0);
  grpc::Status RemoveContainer(const std::string& id);
  ::runtime::v1::ContainerStatus StatusOf(const std::string& id);
  // The "info" of a verbose status, parsed; an empty object when there is none.
  nlohmann::json VerboseContainerInfo(const std::string& id);
  nlohmann::json VerbosePodInfo(const std::string& id);
  // Asks for the container's status until it has exited, as kubelet does.
  ::runtime::v1::ContainerStatus WaitForExit(const std::string& id);
  ::runtime::v1::ExecSyncResponse Exec(const std::string& id, std::vector<std::string> cmd, int64_t timeout = 30,
                                     grpc::Status* status_out = nullptr);

  std::unique_ptr<TestRegistry> registry_;
  std::string image_;       // busybox
  std::string user_image_;  // busybox with users and a USER line
  std::string logs_;
};

}  // namespace berth::testing
