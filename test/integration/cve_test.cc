// Regression tests for classes of vulnerability that have hit container runtimes,
// one test per class, each on berth's runtime and runc. Each test names the CVE
// that made the class known; other tests cover more classes and say so where they
// do (sysctls: PodLifecycleTest.SysctlsReachOnlyThePodsOwnNamespaces, CVE-2022-0811;
// supplementary groups: PodLifecycleTest.MergesCommandEnvAndUserLikeKubernetes,
// CVE-2023-25173; image volume sub paths: ImageVolumeTest, CVE-2022-23648; hostile
// layer entries: the layer unpacker's unit tests and fuzz/layer_fuzz, CVE-2021-32760).
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

class CveTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }
};

// CVE-2024-21626 (runc "Leaky Vessels"): a file descriptor of the runtime's, left
// open into the container, let a working directory of /proc/self/fd/N reach the
// host. The container's processes hold only their stdio, and a working directory
// through /proc/self/fd is not the host's.
TEST_P(CveTest, NoRuntimeFdReachesTheContainer_CVE_2024_21626) {
  if (IsSkipped() || HasFatalFailure()) return;
  auto pod_config = PodConfig("fds");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("sleeper", {"/bin/sleep", "3600"}));
  auto init_fds = Exec(id, {"/bin/ls", "/proc/1/fd"});
  EXPECT_EQ(init_fds.stdout(), "0\n1\n2\n") << "the init holds more than its stdio";
  // An exec'd ls holds its stdio and the directory it lists.
  auto exec_fds = Exec(id, {"/bin/ls", "/proc/self/fd"});
  EXPECT_EQ(exec_fds.stdout(), "0\n1\n2\n3\n") << "an exec holds more than its stdio";

  for (int fd = 3; fd <= 8; ++fd) {
    auto config = ContainerConfig("cwd" + std::to_string(fd), {"/bin/sleep", "3600"});
    config.set_working_dir("/proc/self/fd/" + std::to_string(fd));
    std::string cwd_id;
    grpc::Status created = Create(pod, pod_config, config, &cwd_id);
    if (!created.ok()) continue;  // refused: nothing to reach
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(cwd_id);
    ::runtime::v1::StartContainerResponse started;
    if (!client().runtime().StartContainer(Ctx().get(), start, &started).ok()) continue;
    // Started: its working directory must be inside its own root.
    int pid = VerboseContainerInfo(cwd_id).value("pid", 0);
    ASSERT_GT(pid, 0);
    std::error_code ec;
    std::string cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec).string();
    std::string root = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/root", ec).string();
    EXPECT_TRUE(absl::StartsWith(cwd, root)) << "fd " << fd << ": cwd " << cwd << " is outside the root " << root;
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2022-31030 (containerd): ExecSync kept all a process wrote, so a process in
// the container that writes without end exhausted the daemon's memory. berthd keeps
// a bounded part, answers, and lives on.
TEST_P(CveTest, ExecOutputIsBounded_CVE_2022_31030) {
  if (IsSkipped() || HasFatalFailure()) return;
  auto pod_config = PodConfig("flood");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sleep", "3600"}));
  grpc::Status status;
  auto flood = Exec(id, {"/bin/sh", "-c", "head -c 100000000 /dev/zero; head -c 100000000 /dev/zero >&2"}, 60,
                    &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(flood.exit_code(), 0);
  EXPECT_EQ(flood.stdout().size(), 4u << 20);
  EXPECT_EQ(flood.stderr().size(), 4u << 20);
  EXPECT_EQ(Exec(id, {"/bin/echo", "alive"}).stdout(), "alive\n");
  ASSERT_TRUE(RemovePod(pod).ok());
}

// CVE-2020-15257 (containerd): shims listened on abstract unix sockets, which a
// container on the host's network namespace could reach. berth's shims and daemon
// listen on no abstract socket: a host-network container sees none of berth's.
TEST_P(CveTest, HostNetworkContainersReachNoAbstractSocketOfBerths_CVE_2020_15257) {
  if (IsSkipped() || HasFatalFailure()) return;
  auto pod_config = PodConfig("hostnet");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sleep", "3600"}));
  // /proc/net/unix of the host's network namespace: every abstract name starts "@".
  auto sockets = Exec(id, {"/bin/cat", "/proc/net/unix"});
  ASSERT_EQ(sockets.exit_code(), 0);
  for (absl::string_view line : absl::StrSplit(sockets.stdout(), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 8 || !absl::StartsWith(fields.back(), "@")) continue;
    EXPECT_FALSE(absl::StrContains(fields.back(), "berth")) << "abstract socket " << fields.back();
    EXPECT_FALSE(absl::StrContains(fields.back(), dir_)) << "abstract socket " << fields.back();
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Handlers, CveTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
