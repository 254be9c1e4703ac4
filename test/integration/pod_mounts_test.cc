// Mounts of pods' containers end to end, on berth's own runtime and on runc: devices
// and their permissions, recursive read-only mounts, bidirectional propagation.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/sqlite.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
using ::runtime::v1::ContainerState;

class PodMountsTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }
};

TEST_P(PodMountsTest, DevicesKeepTheirPermissionsAndPrivilegedContainersSeeTheHosts) {
  for (const char* node : {"/dev/kmsg", "/dev/loop-control"}) {
    if (::access(node, F_OK) != 0) GTEST_SKIP() << node << " is not on this host";
  }
  auto pod_config = PodConfig("devices");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("mapped", {"sleep", "1000"});
  // Neither is among a container's default devices: only their own rules let them in.
  auto* kmsg = config.add_devices();
  kmsg->set_host_path("/dev/kmsg");
  kmsg->set_container_path("/dev/host-kmsg");
  kmsg->set_permissions("r");
  auto* loop = config.add_devices();
  loop->set_host_path("/dev/loop-control");
  loop->set_container_path("/dev/loop-control");
  loop->set_permissions("rw");
  // No hugetlb controller on some hosts (this VM's among them): the limit is then
  // skipped, as containerd does, instead of failing the container.
  auto* pages = config.mutable_linux()->mutable_resources()->add_hugepage_limits();
  pages->set_page_size("2MB");
  pages->set_limit(4 << 20);
  std::string mapped = CreateAndStart(pod, pod_config, config);
  EXPECT_EQ(Exec(mapped, {"stat", "-c", "%t:%T %F", "/dev/host-kmsg"}).stdout(), "1:b character special file\n");
  auto write = Exec(mapped, {"/bin/sh", "-c", "exec 3<>/dev/host-kmsg"});
  EXPECT_NE(write.exit_code(), 0) << "opened a read-only device for writing";
  EXPECT_NE(write.stderr().find("Operation not permitted"), std::string::npos) << write.stderr();
  EXPECT_EQ(Exec(mapped, {"/bin/sh", "-c", "exec 3<>/dev/loop-control && echo opened"}).stdout(), "opened\n");
  if (::access("/sys/fs/cgroup/hugetlb", F_OK) == 0) {
    EXPECT_EQ(Exec(mapped, {"cat", "/sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes"}).stdout(), "4194304\n");
  }

  std::string plain = CreateAndStart(pod, pod_config, ContainerConfig("plain", {"sleep", "1000"}));
  EXPECT_NE(Exec(plain, {"test", "-e", "/dev/kmsg"}).exit_code(), 0) << "a device nobody asked for";
  // Even with CAP_MKNOD a node it makes itself stays closed to it.
  auto made = Exec(plain, {"/bin/sh", "-c", "mknod /tmp/lc c 10 237 && exec 3<>/tmp/lc"});
  EXPECT_NE(made.exit_code(), 0);
  EXPECT_NE(made.stderr().find("Operation not permitted"), std::string::npos) << made.stderr();

  auto privileged_config = ContainerConfig("privileged", {"sleep", "1000"});
  privileged_config.mutable_linux()->mutable_security_context()->set_privileged(true);
  std::string privileged = CreateAndStart(pod, pod_config, privileged_config);
  EXPECT_EQ(Exec(privileged, {"stat", "-c", "%t:%T", "/dev/kmsg"}).stdout(), "1:b\n");
  EXPECT_EQ(Exec(privileged, {"/bin/sh", "-c", "exec 3<>/dev/loop-control && echo opened"}).stdout(), "opened\n");
  // Its terminal devices are still its own.
  EXPECT_EQ(Exec(privileged, {"readlink", "/dev/ptmx"}).stdout(), "pts/ptmx\n");
}

TEST_P(PodMountsTest, RecursiveReadOnlyMountsReachSubmounts) {
  // Status says the handler can; kubelet asks before it sends recursive_read_only.
  ::runtime::v1::StatusResponse status_response;
  ASSERT_TRUE(client().runtime().Status(Ctx().get(), ::runtime::v1::StatusRequest(), &status_response).ok());
  bool advertised = false;
  for (const auto& handler : status_response.runtime_handlers()) {
    if (handler.name() == GetParam() || handler.name().empty()) {
      EXPECT_TRUE(handler.features().recursive_read_only_mounts()) << "handler \"" << handler.name() << "\"";
      advertised = true;
    }
  }
  EXPECT_TRUE(advertised);

  // A volume whose host directory has a mount of its own inside.
  std::string source = dir_ + "/rro-volume";
  ASSERT_TRUE(MakeDirs(source + "/inner").ok());
  ASSERT_EQ(::mount("inner", (source + "/inner").c_str(), "tmpfs", 0, nullptr), 0);
  absl::Cleanup unmount = [&] { ::umount2((source + "/inner").c_str(), MNT_DETACH); };

  auto pod_config = PodConfig("rro");
  std::string pod = RunPod(pod_config);
  auto with_volume = [&](const std::string& name, bool readonly, bool recursive, ::runtime::v1::MountPropagation p) {
    auto config = ContainerConfig(name, {"sleep", "3600"});
    auto* mount = config.add_mounts();
    mount->set_container_path("/data");
    mount->set_host_path(source);
    mount->set_readonly(readonly);
    mount->set_recursive_read_only(recursive);
    mount->set_propagation(p);
    return config;
  };
  std::string plain = CreateAndStart(pod, pod_config, with_volume("plain", true, false, ::runtime::v1::PROPAGATION_PRIVATE));
  std::string recursive = CreateAndStart(pod, pod_config, with_volume("recursive", true, true, ::runtime::v1::PROPAGATION_PRIVATE));
  // Read-only alone covers the volume's own mount, not the one inside it.
  EXPECT_NE(Exec(plain, {"touch", "/data/top"}).exit_code(), 0);
  EXPECT_EQ(Exec(plain, {"touch", "/data/inner/plain"}).exit_code(), 0);
  auto refused = Exec(recursive, {"touch", "/data/inner/recursive"});
  EXPECT_NE(refused.exit_code(), 0);
  EXPECT_NE(refused.stderr().find("Read-only file system"), std::string::npos) << refused.stderr();

  // What cannot be recursively read-only is refused at create.
  std::string id;
  for (auto [readonly, propagation] : {std::pair{false, ::runtime::v1::PROPAGATION_PRIVATE},
                                       std::pair{true, ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER},
                                       std::pair{true, ::runtime::v1::PROPAGATION_BIDIRECTIONAL}}) {
    auto status = Create(pod, pod_config, with_volume("bad", readonly, true, propagation), &id);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  }
}

TEST_P(PodMountsTest, BidirectionalMountPropagatesToTheHost) {
  // kubelet's host path for a Bidirectional volume is a shared mount of its own.
  std::string source = dir_ + "/shared-volume";
  ASSERT_TRUE(MakeDirs(source).ok());
  ASSERT_EQ(::mount(source.c_str(), source.c_str(), nullptr, MS_BIND, nullptr), 0);
  absl::Cleanup unmount = [&] {
    ::umount2((source + "/inner").c_str(), MNT_DETACH);
    ::umount2(source.c_str(), MNT_DETACH);
  };
  ASSERT_EQ(::mount(nullptr, source.c_str(), nullptr, MS_SHARED, nullptr), 0);

  auto pod_config = PodConfig("propagation");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("mounter", {"/bin/sh", "-c",
                                           "mkdir -p /data/inner && mount -t tmpfs inner /data/inner && "
                                           "touch /data/inner/from-container && exec sleep 3600"});
  config.mutable_linux()->mutable_security_context()->set_privileged(true);
  auto* mount = config.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path(source);
  mount->set_propagation(::runtime::v1::PROPAGATION_BIDIRECTIONAL);
  std::string id = CreateAndStart(pod, pod_config, config);

  // What the container mounts under the volume appears on the host...
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(source + "/inner/from-container") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(fs::exists(source + "/inner/from-container"));
  // ...and nothing of the runtime's own set-up does.
  std::string mountinfo = ReadFile("/proc/self/mountinfo").value_or("");
  EXPECT_EQ(mountinfo.find(id + "/bundle/rootfs/"), std::string::npos) << mountinfo;
}

INSTANTIATE_TEST_SUITE_P(Handlers, PodMountsTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
