// In-place resize, on berth's runtime and on runc, through a real berthd: a running
// container's CPU and memory changed without a restart and read back from
// ContainerStatus and from its cgroup; a memory limit below what it uses refused
// rather than OOM-killing it; pod-level resources (UpdatePodSandboxResources) on
// the pod's cgroup.
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

class ResizeTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }

  grpc::Status Update(const std::string& id, int64_t quota, int64_t memory) {
    ::runtime::v1::UpdateContainerResourcesRequest request;
    request.set_container_id(id);
    auto* linux = request.mutable_linux();
    linux->set_cpu_period(100000);
    linux->set_cpu_quota(quota);
    linux->set_cpu_shares(512);
    linux->set_memory_limit_in_bytes(memory);
    ::runtime::v1::UpdateContainerResourcesResponse response;
    return client().runtime().UpdateContainerResources(Ctx().get(), request, &response);
  }

  // What the container's own cgroup says, v1 or v2: CPU quota and memory limit.
  std::pair<int64_t, int64_t> CgroupLimits(const std::string& id) {
    auto read = [&](const char* script) {
      auto out = Exec(id, {"/bin/sh", "-c", script});
      int64_t value = -1;
      std::string first(absl::StripAsciiWhitespace(out.stdout()));
      first = first.substr(0, first.find(' '));
      (void)absl::SimpleAtoi(first, &value);
      return value;
    };
    return {read("cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max"),
            read("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")};
  }

  std::string StartLimited(const std::string& pod, const ::runtime::v1::PodSandboxConfig& pod_config,
                           const std::string& name, const std::string& script) {
    auto config = ContainerConfig(name, {"/bin/sh", "-c", script});
    auto* resources = config.mutable_linux()->mutable_resources();
    resources->set_cpu_period(100000);
    resources->set_cpu_quota(20000);
    resources->set_cpu_shares(256);
    resources->set_memory_limit_in_bytes(64 * kMiB);
    return CreateAndStart(pod, pod_config, config);
  }
};

TEST_P(ResizeTest, CpuAndMemoryChangeInPlace) {
  auto pod_config = PodConfig("resize");
  std::string pod = RunPod(pod_config);
  std::string id = StartLimited(pod, pod_config, "c", "sleep 3600");
  auto before = StatusOf(id);
  int pid_before = VerboseContainerInfo(id).value("pid", 0);
  EXPECT_EQ(CgroupLimits(id), std::make_pair(int64_t{20000}, 64 * kMiB));

  auto status = Update(id, 50000, 128 * kMiB);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto after = StatusOf(id);
  EXPECT_EQ(after.resources().linux().cpu_quota(), 50000);
  EXPECT_EQ(after.resources().linux().cpu_shares(), 512);
  EXPECT_EQ(after.resources().linux().memory_limit_in_bytes(), 128 * kMiB);
  EXPECT_EQ(CgroupLimits(id), std::make_pair(int64_t{50000}, 128 * kMiB));
  // The same process, never restarted.
  EXPECT_EQ(after.state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(after.started_at(), before.started_at());
  EXPECT_EQ(VerboseContainerInfo(id).value("pid", -1), pid_before);

  // Down again, below the first values.
  ASSERT_TRUE(Update(id, 10000, 32 * kMiB).ok());
  EXPECT_EQ(CgroupLimits(id), std::make_pair(int64_t{10000}, 32 * kMiB));
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(ResizeTest, MemoryBelowWhatTheContainerUsesIsRefused) {
  auto pod_config = PodConfig("shrink");
  std::string pod = RunPod(pod_config);
  // 40 MiB in the pod's /dev/shm: memory the kernel cannot reclaim without swap.
  std::string id = StartLimited(pod, pod_config, "c",
                                "dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null; echo filled; "
                                "sleep 3600");
  auto filled = Exec(id, {"/bin/sh", "-c", "while [ $(stat -c %s /dev/shm/fill 2>/dev/null || echo 0) -lt "
                                           "41943040 ]; do sleep 0.1; done; echo ok"});
  ASSERT_EQ(filled.stdout(), "ok\n");
  auto status = Update(id, 20000, 16 * kMiB);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("below what container"), std::string::npos) << status.error_message();
  // Nothing changed, nothing killed.
  auto after = StatusOf(id);
  EXPECT_EQ(after.state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(after.resources().linux().memory_limit_in_bytes(), 64 * kMiB);
  EXPECT_EQ(CgroupLimits(id).second, 64 * kMiB);
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(ResizeTest, PodLevelResourcesReachThePodsCgroup) {
  auto pod_config = PodConfig("podlevel");
  std::string pod = RunPod(pod_config);
  std::string id = StartLimited(pod, pod_config, "c", "sleep 3600");
  ::runtime::v1::UpdatePodSandboxResourcesRequest request;
  request.set_pod_sandbox_id(pod);
  request.mutable_resources()->set_memory_limit_in_bytes(256 * kMiB);
  request.mutable_resources()->set_cpu_period(100000);
  request.mutable_resources()->set_cpu_quota(100000);
  request.mutable_overhead()->set_memory_limit_in_bytes(16 * kMiB);
  request.mutable_overhead()->set_cpu_quota(10000);
  ::runtime::v1::UpdatePodSandboxResourcesResponse response;
  auto status = client().runtime().UpdatePodSandboxResources(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The pod's cgroup is berth's own (no cgroup_parent): it holds the sum.
  std::string v1 = "/sys/fs/cgroup/memory/berth/" + pod + "/memory.limit_in_bytes";
  std::string v2 = "/sys/fs/cgroup/berth/" + pod + "/memory.max";
  std::string limit = ReadFile(v1).value_or(ReadFile(v2).value_or("?"));
  EXPECT_EQ(absl::StripAsciiWhitespace(limit), absl::StrCat(272 * kMiB));
  std::string quota = ReadFile("/sys/fs/cgroup/cpu/berth/" + pod + "/cpu.cfs_quota_us")
                          .value_or(ReadFile("/sys/fs/cgroup/berth/" + pod + "/cpu.max").value_or("?"));
  EXPECT_EQ(std::string(absl::StripAsciiWhitespace(quota)).substr(0, 6), "110000");

  // Its container is untouched.
  EXPECT_EQ(StatusOf(id).state(), ::runtime::v1::CONTAINER_RUNNING);
  request.set_pod_sandbox_id("0123456789abcdef");
  status = client().runtime().UpdatePodSandboxResources(Ctx().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  request.clear_pod_sandbox_id();
  status = client().runtime().UpdatePodSandboxResources(Ctx().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  ASSERT_TRUE(RemovePod(pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Handlers, ResizeTest, ::testing::Values("berth", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
