// Pods and containers end to end: real containers from the busybox test images, on
// berth's own runtime and on runc, through a real berthd.
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

class PodLifecycleTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }

  // The lines of a CRI log file, with their timestamps checked and removed.
  std::vector<std::string> LogLines(const std::string& path) {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(ReadFile(path).value_or(""), '\n', absl::SkipEmpty())) {
      size_t space = line.find(' ');
      EXPECT_NE(space, absl::string_view::npos) << line;
      absl::string_view stamp = line.substr(0, space);
      EXPECT_EQ(stamp.size(), 30u) << "RFC 3339 with nanoseconds: " << stamp;
      EXPECT_EQ(stamp.back(), 'Z') << stamp;
      lines.emplace_back(line.substr(space + 1));
    }
    return lines;
  }
};

TEST_P(PodLifecycleTest, RunsAContainerWithLogsAndExitCode) {
  auto pod_config = PodConfig("logs");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config,
                                  ContainerConfig("c", {"/bin/sh", "-c", "echo out; echo err >&2; printf tail; exit 3"}));
  auto status = WaitForExit(id);
  EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 3);
  EXPECT_EQ(status.reason(), "Error");
  EXPECT_GT(status.finished_at(), status.started_at());
  EXPECT_EQ(status.log_path(), logs_ + "/logs/c.log");
  auto lines = LogLines(status.log_path());
  EXPECT_EQ(lines, (std::vector<std::string>{"stdout F out", "stderr F err", "stdout P tail"}))
      << ReadFile(status.log_path()).value_or("");

  ::runtime::v1::ListContainersResponse list;
  ASSERT_TRUE(client().runtime().ListContainers(Ctx().get(), {}, &list).ok());
  ASSERT_EQ(list.containers_size(), 1);
  EXPECT_EQ(list.containers(0).pod_sandbox_id(), pod);
  EXPECT_EQ(list.containers(0).state(), ::runtime::v1::CONTAINER_EXITED);
}

// The process's user, groups and supplementary groups are exactly what the image and
// the security context give (CVE-2023-25173: containerd left supplementary groups
// the image's user did not have).
TEST_P(PodLifecycleTest, MergesCommandEnvAndUserLikeKubernetes) {
  auto pod_config = PodConfig("merge");
  std::string pod = RunPod(pod_config);
  // args alone: the image's entrypoint (none) and these args; env overrides the image's.
  auto config = ContainerConfig("c", {});
  config.add_args("/bin/sh");
  config.add_args("-c");
  config.add_args("echo $GREETING $PATH; pwd; hostname; id");
  auto* env = config.add_envs();
  env->set_key("GREETING");
  env->set_value("hi");
  config.set_working_dir("/tmp");
  auto* sec = config.mutable_linux()->mutable_security_context();
  sec->mutable_run_as_user()->set_value(1000);
  sec->mutable_run_as_group()->set_value(1000);
  sec->add_supplemental_groups(3000);
  std::string id = CreateAndStart(pod, pod_config, config);
  auto status = WaitForExit(id);
  EXPECT_EQ(status.exit_code(), 0);
  auto lines = LogLines(status.log_path());
  ASSERT_EQ(lines.size(), 4u) << ReadFile(status.log_path()).value_or("");
  EXPECT_EQ(lines[0], "stdout F hi /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_EQ(lines[1], "stdout F /tmp");
  EXPECT_EQ(lines[2], "stdout F merge-host");
  EXPECT_EQ(lines[3], "stdout F uid=1000(berth) gid=1000(berth) groups=1000(berth),2000(berthextra),3000");
  // ContainerStatus says who the process runs as.
  const auto& user = status.user().linux();
  EXPECT_EQ(user.uid(), 1000);
  EXPECT_EQ(user.gid(), 1000);
  EXPECT_EQ(std::vector<int64_t>(user.supplemental_groups().begin(), user.supplemental_groups().end()),
            (std::vector<int64_t>{1000, 2000, 3000}));

  // SupplementalGroupsPolicy Strict: the image's /etc/group adds nothing (Status
  // advertises the policy, so kubelet sends it).
  ::runtime::v1::StatusResponse runtime_status;
  ASSERT_TRUE(client().runtime().Status(Ctx().get(), ::runtime::v1::StatusRequest(), &runtime_status).ok());
  EXPECT_TRUE(runtime_status.features().supplemental_groups_policy());
  auto strict = ContainerConfig("strict", {"sleep", "3600"});
  auto* strict_sec = strict.mutable_linux()->mutable_security_context();
  strict_sec->mutable_run_as_user()->set_value(1000);
  strict_sec->add_supplemental_groups(3000);
  strict_sec->set_supplemental_groups_policy(::runtime::v1::SupplementalGroupsPolicy::Strict);
  std::string strict_id = CreateAndStart(pod, pod_config, strict);
  EXPECT_EQ(Exec(strict_id, {"id", "-G"}).stdout(), "1000 3000\n");
  auto strict_status = StatusOf(strict_id);
  const auto& strict_user = strict_status.user().linux();
  EXPECT_EQ(std::vector<int64_t>(strict_user.supplemental_groups().begin(), strict_user.supplemental_groups().end()),
            (std::vector<int64_t>{1000, 3000}));

  // The image's USER (berth) when the config names none.
  auto user_config = ContainerConfig("u", {"id", "-un"});
  user_config.mutable_image()->set_image(user_image_);
  std::string user_id = CreateAndStart(pod, pod_config, user_config);
  auto user_status = WaitForExit(user_id);
  EXPECT_EQ(LogLines(user_status.log_path()), std::vector<std::string>{"stdout F berth"});
}

TEST_P(PodLifecycleTest, SecurityContextCapabilitiesReadonlyRootfsAndSeccomp) {
  auto pod_config = PodConfig("sec");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("c", {"/bin/sh", "-c", "sleep 1000"});
  auto* sec = config.mutable_linux()->mutable_security_context();
  sec->mutable_capabilities()->add_drop_capabilities("ALL");
  sec->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  sec->mutable_capabilities()->add_add_capabilities("CHOWN");
  sec->set_readonly_rootfs(true);
  sec->mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::RuntimeDefault);
  std::string id = CreateAndStart(pod, pod_config, config);
  // CAP_CHOWN is bit 0, CAP_NET_ADMIN bit 12.
  auto caps = Exec(id, {"grep", "CapEff", "/proc/self/status"});
  EXPECT_EQ(caps.stdout(), "CapEff:\t0000000000001001\n");
  auto write = Exec(id, {"touch", "/newfile"});
  EXPECT_NE(write.exit_code(), 0);
  EXPECT_NE(write.stderr().find("Read-only file system"), std::string::npos) << write.stderr();
  // RuntimeDefault refuses new namespaces without CAP_SYS_ADMIN, even the user
  // namespace the kernel itself would give anyone.
  auto blocked = Exec(id, {"unshare", "-U", "true"});
  EXPECT_NE(blocked.exit_code(), 0);
  EXPECT_NE(blocked.stderr().find("Operation not permitted"), std::string::npos) << blocked.stderr();
  // but lets through what ordinary programs use, such as a 32-bit personality.
  EXPECT_EQ(Exec(id, {"linux32", "uname", "-m"}).stdout(), "i686\n");
  // Masked by default.
  auto keys = Exec(id, {"cat", "/proc/keys"});
  EXPECT_EQ(keys.stdout(), "");
}

TEST_P(PodLifecycleTest, MemoryLimitEndsInOomKilled) {
  auto pod_config = PodConfig("oom");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("c", {"/bin/sh", "-c", "tail /dev/zero"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
  std::string id = CreateAndStart(pod, pod_config, config);
  auto status = WaitForExit(id);
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_EQ(status.reason(), "OOMKilled");
}

TEST_P(PodLifecycleTest, PodsComeAndGoSideBySide) {
  // kubelet starts and removes pods concurrently; each pod and container is locked
  // on its own, so these overlap, and each ends up whole and then wholly gone.
  constexpr int kPods = 6;
  std::vector<::runtime::v1::PodSandboxConfig> configs;
  for (int i = 0; i < kPods; ++i) configs.push_back(PodConfig(absl::StrCat("parallel-", i)));
  std::vector<std::string> pods(kPods), containers(kPods);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      pods[i] = RunPod(configs[i]);
      containers[i] = CreateAndStart(pods[i], configs[i], ContainerConfig("c", {"sleep", "3600"}));
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  for (int i = 0; i < kPods; ++i) {
    EXPECT_EQ(Exec(containers[i], {"hostname"}).stdout(), configs[i].hostname() + "\n");
  }
  // Two removers per pod: one waits for the other's lock, then finds nothing to do.
  for (int i = 0; i < 2 * kPods; ++i) {
    threads.emplace_back([&, i] { EXPECT_TRUE(RemovePod(pods[i % kPods]).ok()); });
  }
  for (auto& t : threads) t.join();
  ::runtime::v1::ListPodSandboxResponse listed;
  ASSERT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), ::runtime::v1::ListPodSandboxRequest(), &listed).ok());
  EXPECT_EQ(listed.items_size(), 0);
  ::runtime::v1::ListContainersResponse containers_left;
  ASSERT_TRUE(
      client().runtime().ListContainers(Ctx().get(), ::runtime::v1::ListContainersRequest(), &containers_left).ok());
  EXPECT_EQ(containers_left.containers_size(), 0);
}

TEST_P(PodLifecycleTest, RemovedContainersAreGoneAndLeaveNothing) {
  auto pod_config = PodConfig("remove");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"sleep", "3600"}));
  std::string dir = root_ + "/containers/" + id;
  ASSERT_TRUE(fs::exists(dir));
  ::runtime::v1::RemoveContainerRequest remove;
  remove.set_container_id(id);
  ::runtime::v1::RemoveContainerResponse removed;
  // A running container is stopped first, then removed.
  ASSERT_TRUE(client().runtime().RemoveContainer(Ctx().get(), remove, &removed).ok());
  ::runtime::v1::ContainerStatusRequest status_request;
  status_request.set_container_id(id);
  ::runtime::v1::ContainerStatusResponse status_response;
  EXPECT_EQ(client().runtime().ContainerStatus(Ctx().get(), status_request, &status_response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(client().runtime().RemoveContainer(Ctx().get(), remove, &removed).ok()) << "removing twice";
  // Its name is free again at once.
  std::string again;
  EXPECT_TRUE(Create(pod, pod_config, ContainerConfig("c", {"true"}), &again).ok());
  // Its mount and files go right after the call (kubelet does not wait for them).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((fs::exists(dir) || ReadFile("/proc/self/mountinfo").value_or("").find(id) != std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(ReadFile("/proc/self/mountinfo").value_or("").find(id), std::string::npos);
  // Removing the pod at once afterwards leaves no cgroup behind (the leak check).
  EXPECT_TRUE(RemovePod(pod).ok());
}

TEST_P(PodLifecycleTest, StopEscalatesToSigkillAfterTheTimeout) {
  auto pod_config = PodConfig("stop");
  std::string pod = RunPod(pod_config);
  std::string polite = CreateAndStart(pod, pod_config, ContainerConfig("polite", {"/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"}));
  std::string stubborn = CreateAndStart(pod, pod_config, ContainerConfig("stubborn", {"/bin/sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"}));
  for (const auto& [id, expected] : {std::pair{polite, 0}, std::pair{stubborn, 137}}) {
    ::runtime::v1::StopContainerRequest stop;
    stop.set_container_id(id);
    stop.set_timeout(2);
    ::runtime::v1::StopContainerResponse stopped;
    auto status = client().runtime().StopContainer(Ctx().get(), stop, &stopped);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto after = StatusOf(id);
    EXPECT_EQ(after.state(), ::runtime::v1::CONTAINER_EXITED);
    EXPECT_EQ(after.exit_code(), expected);
    // Stopping again, or removing twice, is not an error.
    EXPECT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  }
}

TEST_P(PodLifecycleTest, ContainersOfAPodShareIpcAndTheNetworkNamespace) {
  auto pod_config = PodConfig("share");
  std::string pod = RunPod(pod_config);
  std::string a = CreateAndStart(pod, pod_config, ContainerConfig("a", {"/bin/sh", "-c", "sleep 1000"}));
  std::string b = CreateAndStart(pod, pod_config, ContainerConfig("b", {"/bin/sh", "-c", "sleep 1000"}));
  EXPECT_EQ(Exec(a, {"/bin/sh", "-c", "echo shared > /dev/shm/x"}).exit_code(), 0);
  EXPECT_EQ(Exec(b, {"cat", "/dev/shm/x"}).stdout(), "shared\n");
  EXPECT_EQ(Exec(a, {"readlink", "/proc/self/ns/net"}).stdout(), Exec(b, {"readlink", "/proc/self/ns/net"}).stdout());
  EXPECT_EQ(Exec(a, {"readlink", "/proc/self/ns/ipc"}).stdout(), Exec(b, {"readlink", "/proc/self/ns/ipc"}).stdout());
  // Separate PID namespaces (CONTAINER mode): each sees its own command as pid 1.
  EXPECT_NE(Exec(a, {"cat", "/proc/1/cmdline"}).stdout().find("sleep"), std::string::npos);
  EXPECT_NE(Exec(a, {"readlink", "/proc/self/ns/pid"}).stdout(), Exec(b, {"readlink", "/proc/self/ns/pid"}).stdout());
  // Stats come from the container's cgroup and writable layer.
  ::runtime::v1::ContainerStatsRequest stats_request;
  stats_request.set_container_id(a);
  ::runtime::v1::ContainerStatsResponse stats;
  ASSERT_TRUE(client().runtime().ContainerStats(Ctx().get(), stats_request, &stats).ok());
  EXPECT_EQ(stats.stats().attributes().id(), a);
  EXPECT_GT(stats.stats().cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(stats.stats().memory().working_set_bytes().value(), 0u);
  EXPECT_GT(stats.stats().writable_layer().inodes_used().value(), 0u);
  // Loopback is up in the pod's network namespace.
  EXPECT_NE(Exec(a, {"cat", "/sys/class/net/lo/operstate"}).stdout().find("unknown"), std::string::npos);
}

TEST_P(PodLifecycleTest, ExecSyncReturnsOutputExitCodeAndTimesOut) {
  auto pod_config = PodConfig("exec");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sh", "-c", "sleep 1000"}));
  auto result = Exec(id, {"/bin/sh", "-c", "echo out; echo err >&2; exit 7"});
  EXPECT_EQ(result.exit_code(), 7);
  EXPECT_EQ(result.stdout(), "out\n");
  EXPECT_EQ(result.stderr(), "err\n");
  grpc::Status status;
  Exec(id, {"sleep", "30"}, /*timeout=*/1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  // The timed-out command is gone, not left running in the container.
  // Not even as a zombie: no process named sleep but the container's own (pid 1).
  EXPECT_EQ(Exec(id, {"/bin/sh", "-c", "grep -l '^sleep$' /proc/[0-9]*/comm | grep -v '^/proc/1/' | wc -l"}).stdout(),
            "0\n");
}

// A container's program and an exec'd one start with no signal blocked or ignored,
// as a new program expects: berth-shim blocks SIGCHLD for its monitor and berthd
// ignores SIGPIPE, and a shell that inherited the blocked SIGCHLD never returned from
// `wait` (Kubernetes' container-lifecycle pods hung in their first init container).
TEST_P(PodLifecycleTest, ProgramsStartWithNoSignalBlockedOrIgnored) {
  auto pod_config = PodConfig("signals");
  std::string pod = RunPod(pod_config);
  const std::string clean = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n";
  std::string grep = CreateAndStart(pod, pod_config,
                                    ContainerConfig("grep", {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
  auto status = WaitForExit(grep);
  EXPECT_EQ(LogLines(status.log_path()),
            (std::vector<std::string>{"stdout F SigBlk:\t0000000000000000", "stdout F SigIgn:\t0000000000000000"}));
  std::string shell = CreateAndStart(
      pod, pod_config,
      ContainerConfig("shell", {"/bin/sh", "-c", "sleep 0.1 & wait $!; echo waited; yes | head -n 1"}));
  status = WaitForExit(shell);
  EXPECT_EQ(status.exit_code(), 0);
  EXPECT_EQ(LogLines(status.log_path()), (std::vector<std::string>{"stdout F waited", "stdout F y"}))
      << "(no \"write error: Broken pipe\" from yes either)";
  std::string running = CreateAndStart(pod, pod_config, ContainerConfig("e", {"sleep", "1000"}));
  EXPECT_EQ(Exec(running, {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}).stdout(), clean);
}

TEST_P(PodLifecycleTest, UpdatedResourcesAreAppliedLive) {
  auto pod_config = PodConfig("resources");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("busy", {"sleep", "3600"}));
  ::runtime::v1::UpdateContainerResourcesRequest update;
  update.set_container_id(id);
  update.mutable_linux()->set_memory_limit_in_bytes(64 << 20);
  update.mutable_linux()->set_cpu_period(100000);
  update.mutable_linux()->set_cpu_quota(50000);
  ::runtime::v1::UpdateContainerResourcesResponse updated;
  auto status = client().runtime().UpdateContainerResources(Ctx().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Read back where the container itself sees its limits (cgroup v1 or v2).
  EXPECT_EQ(Exec(id, {"/bin/sh", "-c",
                      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"})
                .stdout(),
            "67108864\n");
  EXPECT_EQ(Exec(id, {"/bin/sh", "-c",
                      "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max"})
                .stdout(),
            "50000\n");
}

TEST_P(PodLifecycleTest, ReopenedLogContinuesInANewFileAfterRotation) {
  auto pod_config = PodConfig("rotation");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(
      pod, pod_config,
      ContainerConfig("writer", {"/bin/sh", "-c",
                                 "echo before; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after; exec sleep 3600"}));
  std::string log = logs_ + "/rotation/writer.log";
  auto wait_for = [](const std::string& path, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string data;
    while (data.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      data = ReadFile(path).value_or("");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return data;
  };
  EXPECT_NE(wait_for(log, "stdout F before").find("before"), std::string::npos);
  // kubelet rotates: rename, then ask the runtime to reopen.
  ASSERT_EQ(::rename(log.c_str(), (log + ".1").c_str()), 0);
  ::runtime::v1::ReopenContainerLogRequest reopen;
  reopen.set_container_id(id);
  ::runtime::v1::ReopenContainerLogResponse reopened;
  ASSERT_TRUE(client().runtime().ReopenContainerLog(Ctx().get(), reopen, &reopened).ok());
  // The new file is there when the call returns, as kubelet expects.
  EXPECT_TRUE(fs::exists(log));
  Exec(id, {"touch", "/tmp/go"});
  std::string fresh = wait_for(log, "stdout F after");
  EXPECT_NE(fresh.find("after"), std::string::npos) << fresh;
  EXPECT_EQ(fresh.find("before"), std::string::npos) << fresh;
  EXPECT_EQ(ReadFile(log + ".1").value_or("").find("after"), std::string::npos);
}

TEST_P(PodLifecycleTest, TargetPidModeSharesAnotherContainersProcesses) {
  auto pod_config = PodConfig("target");
  std::string pod = RunPod(pod_config);
  std::string main_id = CreateAndStart(pod, pod_config, ContainerConfig("main", {"sleep", "3600"}));
  auto debug = ContainerConfig("debug", {"sleep", "3601"});
  auto* ns = debug.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_pid(::runtime::v1::TARGET);
  ns->set_target_id(main_id);
  std::string debug_id = CreateAndStart(pod, pod_config, debug);
  // pid 1 of the debug container's namespace is the target's sleep.
  EXPECT_EQ(Exec(debug_id, {"cat", "/proc/1/cmdline"}).stdout(), std::string("sleep\0" "3600\0", 11));
}

TEST_P(PodLifecycleTest, RunAsUsernameResolvesInTheImage) {
  auto pod_config = PodConfig("username");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("named", {"id"});
  config.mutable_image()->set_image(user_image_);
  config.mutable_linux()->mutable_security_context()->set_run_as_username("berth");
  std::string id = CreateAndStart(pod, pod_config, config);
  EXPECT_EQ(WaitForExit(id).exit_code(), 0);
  std::string log = ReadFile(logs_ + "/username/named.log").value_or("");
  EXPECT_NE(log.find("uid=1000(berth) gid=1000(berth)"), std::string::npos) << log;
}

TEST_P(PodLifecycleTest, TtyAndStdinAreWhatTheContainerAskedFor) {
  auto pod_config = PodConfig("terminals");
  std::string pod = RunPod(pod_config);
  // A terminal: its output reaches the log as stdout, and fd 1 is the terminal.
  auto tty = ContainerConfig("tty", {"/bin/sh", "-c", "[ -t 1 ] && echo on-a-terminal; exec sleep 3600"});
  tty.set_tty(true);
  std::string tty_id = CreateAndStart(pod, pod_config, tty);
  EXPECT_EQ(Exec(tty_id, {"readlink", "/proc/1/fd/1"}).stdout(), "/dev/pts/0\n");
  // Stdin: a pipe the shim holds open, so a reader waits instead of seeing end-of-file.
  auto reader = ContainerConfig("reader", {"/bin/sh", "-c", "read line; echo got-eof"});
  reader.set_stdin(true);
  std::string reader_id = CreateAndStart(pod, pod_config, reader);
  EXPECT_TRUE(absl::StartsWith(Exec(reader_id, {"readlink", "/proc/1/fd/0"}).stdout(), "pipe:"));
  EXPECT_EQ(StatusOf(reader_id).state(), ::runtime::v1::CONTAINER_RUNNING);
  // Without either: /dev/null, and the same reader ends at once.
  std::string plain_id = CreateAndStart(pod, pod_config, ContainerConfig("plain", {"/bin/sh", "-c", "read line; echo got-eof"}));
  EXPECT_EQ(WaitForExit(plain_id).exit_code(), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string tty_log;
  while (tty_log.find("on-a-terminal") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    tty_log = ReadFile(logs_ + "/terminals/tty.log").value_or("");
    if (tty_log.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(tty_log.find(" stdout F on-a-terminal"), std::string::npos) << tty_log;
}

INSTANTIATE_TEST_SUITE_P(Handlers, PodLifecycleTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing

namespace berth::testing {
namespace {

TEST_P(PodLifecycleTest, BerthctlPlaysAPodManifestAndManagesIt) {
  std::string manifest = dir_ + "/pod.yaml";
  ASSERT_TRUE(WriteFileAtomically(manifest, absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata:
  name: played
  namespace: demo
  uid: 11111111-2222-4333-8444-555555555555
spec:
  containers:
  - name: main
    image: )", image_, R"(
    command: ["/bin/sh", "-c", "echo started as $MODE; sleep 1000"]
    env:
    - name: MODE
      value: demo
)")).ok());
  ExitResult played = RunBerthctl({"play", manifest});
  ASSERT_EQ(played.exit_code, 0) << played.log;
  EXPECT_NE(played.log.find("pod demo/played "), std::string::npos) << played.log;
  ExitResult pods = RunBerthctl({"pods"});
  EXPECT_NE(pods.log.find("played   demo"), std::string::npos) << pods.log;
  ExitResult ids = RunBerthctl({"ps", "-q"});
  std::string id = ids.log.substr(0, ids.log.find('\n'));
  ASSERT_EQ(id.size(), 64u) << ids.log;
  ExitResult exec = RunBerthctl({"exec", id, "--", "sh", "-c", "echo $MODE; exit 4"});
  EXPECT_EQ(exec.exit_code, 4) << exec.log;
  EXPECT_EQ(exec.log, "demo\n");
  // The log is written as the container runs; wait for the line, as a user would.
  ExitResult logs;
  for (int i = 0; i < 250; ++i) {
    logs = RunBerthctl({"logs", id});
    if (logs.log.find("started as demo") != std::string::npos) break;
  }
  EXPECT_EQ(logs.log, "started as demo\n");
  std::string pod_id = pods.log.substr(pods.log.find('\n') + 1, 13);
  EXPECT_EQ(RunBerthctl({"stopp", pod_id}).exit_code, 0);
  EXPECT_EQ(RunBerthctl({"rmp", pod_id}).exit_code, 0);
  EXPECT_EQ(RunBerthctl({"pods", "-q"}).log, "");
  (void)RemoveAll("/var/log/pods/demo_played_11111111-2222-4333-8444-555555555555");
}

}  // namespace
}  // namespace berth::testing
