// NRI adjustments seen inside the container, on berth-runtime and on runc: the
// environment, mounts, limits, hooks, scheduling, block I/O classes, namespaces and
// network devices; refused, saying why, where the handler would drop them.
#include "absl/cleanup/cleanup.h"
#include "test/integration/nri_fixture.h"

namespace berth::testing {
namespace {

class NriAdjustmentTest : public NriTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(NriAdjustmentTest, AdjustmentsAreSeenInsideTheContainer) {
  StartWithNri(GetParam());
  auto plugin = Plugin("adjuster");
  ASSERT_TRUE(plugin);
  const std::string shared = dir_ + "/nri-shared";
  ASSERT_TRUE(MakeDirs(shared, 0755).ok());
  ASSERT_TRUE(WriteFileAtomically(shared + "/hello", "from the plugin\n").ok());
  nri::api::ContainerAdjustment adjust;
  nri::api::KeyValue* env = adjust.add_env();
  env->set_key("NRI_ADJUSTED");
  env->set_value("yes");
  nri::api::Mount* mount = adjust.add_mounts();
  mount->set_destination("/nri");
  mount->set_type("bind");
  mount->set_source(shared);
  mount->add_options("rbind");
  mount->add_options("ro");
  adjust.mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(48 << 20);
  plugin->AdjustCreatedContainers(adjust);

  auto pod_config = PodConfig("nri-adjusted");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("adjusted", {"sleep", "3600"}));
  auto seen = Exec(container, {"sh", "-c", "echo $NRI_ADJUSTED; cat /nri/hello"});
  EXPECT_EQ(seen.stdout(), "yes\nfrom the plugin\n") << seen.stderr();
  // The limit, read where the handler set it: the container's cgroup.
  EXPECT_EQ(MemoryLimit(VerboseContainerInfo(container)), absl::StrCat(48 << 20, "\n"));
}

// OCI hooks on both handlers; I/O priority, scheduler and memory policy where the
// handler honours them (berth-runtime), refused where it would drop them (runc 1.1).
TEST_P(NriAdjustmentTest, HooksAndSchedulingReachTheContainer) {
  StartWithNri(GetParam());
  auto plugin = Plugin("scheduler");
  ASSERT_TRUE(plugin);
  const std::string seen_by_hook = dir_ + "/hook-state.json";
  // A FIFO: the removal's runtime delete runs after RemoveContainer returns, and
  // the test waits for the hook's line.
  const std::string stopped = dir_ + "/poststop";
  ASSERT_EQ(::mkfifo(stopped.c_str(), 0600), 0);
  UniqueFd stopped_reader(::open(stopped.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(stopped_reader);
  auto hook = [](const std::string& script) {
    nri::api::Hook hook;
    hook.set_path("/bin/sh");
    hook.add_args("sh");
    hook.add_args("-c");
    hook.add_args(script);
    hook.mutable_timeout()->set_value(10);
    return hook;
  };
  nri::api::ContainerAdjustment hooks_only;
  *hooks_only.mutable_hooks()->add_create_runtime() = hook("cat > " + seen_by_hook);
  *hooks_only.mutable_hooks()->add_poststop() = hook("echo stopped >> " + stopped);
  nri::api::ContainerAdjustment adjust = hooks_only;
  nri::api::LinuxContainerAdjustment* linux = adjust.mutable_linux();
  linux->mutable_io_priority()->set_class_(nri::api::NRI_IOPRIO_CLASS_BE);
  linux->mutable_io_priority()->set_priority(6);
  linux->mutable_scheduler()->set_policy(nri::api::NRI_SCHED_BATCH);
  linux->mutable_scheduler()->set_nice(5);
  linux->mutable_memory_policy()->set_mode(nri::api::NRI_MPOL_BIND);
  linux->mutable_memory_policy()->set_nodes("0");
  plugin->AdjustCreatedContainers(adjust);

  auto pod_config = PodConfig("nri-sched");
  const std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("sched", {"sleep", "3600"});
  std::string container;
  grpc::Status created = Create(pod, pod_config, config, &container);
  if (GetParam() == "runc") {
    ASSERT_EQ(created.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << created.error_message();
    EXPECT_NE(created.error_message().find("which its runtime handler does not support"), std::string::npos)
        << created.error_message();
    EXPECT_TRUE(ListedContainerNames().empty());
    plugin->AdjustCreatedContainers(hooks_only);
    ASSERT_TRUE(Create(pod, pod_config, config, &container).ok());
  } else {
    ASSERT_TRUE(created.ok()) << created.error_message();
  }
  ASSERT_TRUE(Start(container).ok());
  auto state = nlohmann::json::parse(ReadFile(seen_by_hook).value_or("{}"), nullptr, false);
  EXPECT_EQ(state.value("id", ""), container) << "createRuntime's stdin is the container's state";
  EXPECT_EQ(state.value("status", ""), "creating");
  if (GetParam() == "berth") {
    // Read from the host, off the container's process.
    const int pid = VerboseContainerInfo(container).value("pid", 0);
    ASSERT_GT(pid, 0);
    const long io_priority = ::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
    EXPECT_EQ(io_priority >> 13, 2) << "the best-effort class";
    EXPECT_EQ(io_priority & 0xff, 6);
    // nice is field 19 of /proc/PID/stat and the policy field 41 (3: SCHED_BATCH).
    std::vector<std::string> stat = absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/stat")).value_or(""), ' ');
    ASSERT_GT(stat.size(), 41u);
    EXPECT_EQ(stat[18], "5");
    EXPECT_EQ(stat[40], "3");
    EXPECT_NE(ReadFile(absl::StrCat("/proc/", pid, "/numa_maps")).value_or("").find(" bind:0 "), std::string::npos);
  }
  ASSERT_TRUE(StopContainer(container).ok());
  ASSERT_TRUE(RemoveContainer(container).ok());
  pollfd readable = {stopped_reader.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 60000), 1) << "poststop ran when the container was deleted";
  char line[16] = {};
  EXPECT_EQ(::read(stopped_reader.get(), line, sizeof line - 1), 8);
  EXPECT_STREQ(line, "stopped\n");
}

// A plugin gives a container a block I/O class, which the operator's file maps to
// throttles of the node's disk.
TEST_P(NriAdjustmentTest, ABlockIoClassBecomesTheContainersThrottles) {
  struct stat disk;
  if (::stat("/dev/vda", &disk) != 0 || !S_ISBLK(disk.st_mode)) GTEST_SKIP() << "no /dev/vda to throttle";
  if (::access("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", F_OK) != 0) {
    GTEST_SKIP() << "no cgroup v1 blkio controller here";
  }
  const std::string classes = dir_ + "/blockio.yaml";
  ASSERT_TRUE(WriteFileAtomically(classes, "Classes:\n  slowreader:\n    - Devices: [/dev/vd*]\n"
                                           "      ThrottleReadBps: 10Mi\n").ok());
  StartWithNri(GetParam(), 5000, "blockio_config_file: " + classes + "\n");
  auto plugin = Plugin("classifier");
  ASSERT_TRUE(plugin);
  nri::api::ContainerAdjustment adjust;
  adjust.mutable_linux()->mutable_resources()->mutable_blockio_class()->set_value("slowreader");
  plugin->AdjustCreatedContainers(adjust);
  auto pod_config = PodConfig("nri-blockio");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("slow", {"sleep", "3600"}));
  const std::string cgroup = VerboseContainerInfo(container).value("cgroupPath", "");
  EXPECT_EQ(ReadFile("/sys/fs/cgroup/blkio" + cgroup + "/blkio.throttle.read_bps_device").value_or(""),
            absl::StrCat(major(disk.st_rdev), ":", minor(disk.st_rdev), " ", 10 << 20, "\n"));

  nri::api::ContainerAdjustment unknown;
  unknown.mutable_linux()->mutable_resources()->mutable_blockio_class()->set_value("fastwriter");
  plugin->AdjustCreatedContainers(unknown);
  std::string id;
  grpc::Status refused = Create(pod, pod_config, ContainerConfig("unknown-class", {"sleep", "3600"}), &id);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_NE(refused.error_message().find("block I/O class \"fastwriter\" is not in"), std::string::npos)
      << refused.error_message();
}

// A plugin gives a container an IPC namespace of its own instead of its pod's.
TEST_P(NriAdjustmentTest, ANamespaceOfItsOwn) {
  StartWithNri(GetParam());
  auto plugin = Plugin("isolator");
  ASSERT_TRUE(plugin);
  nri::api::ContainerAdjustment adjust;
  adjust.mutable_linux()->add_namespaces()->set_type("ipc");
  plugin->AdjustCreatedContainers(adjust);
  auto pod_config = PodConfig("nri-ns");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("own-ipc", {"sleep", "3600"}));
  const int pid = VerboseContainerInfo(container).value("pid", 0);
  ASSERT_GT(pid, 0);
  struct stat pods, own, net, pods_net;
  ASSERT_EQ(::stat(VerbosePodInfo(pod).value("ipcns", "").c_str(), &pods), 0);
  ASSERT_EQ(::stat(absl::StrCat("/proc/", pid, "/ns/ipc").c_str(), &own), 0);
  EXPECT_NE(own.st_ino, pods.st_ino) << "a new IPC namespace, not the pod's";
  ASSERT_EQ(::stat(VerbosePodInfo(pod).value("netns", "").c_str(), &pods_net), 0);
  ASSERT_EQ(::stat(absl::StrCat("/proc/", pid, "/ns/net").c_str(), &net), 0);
  EXPECT_EQ(net.st_ino, pods_net.st_ino) << "the rest is still the pod's";
}

// A plugin moves a host link into the pod's network namespace under a name of its
// choosing, with its address (linux.netDevices); runc 1.1, which would drop the
// field, is refused. The link is a veth pair of the test's: both ends go with the
// pod's namespace.
TEST_P(NriAdjustmentTest, AHostLinkMovesIntoThePodsNetworkNamespace) {
  StartWithNri(GetParam());
  auto plugin = Plugin("nic-injector");
  ASSERT_TRUE(plugin);
  const std::string link = "brtnri0";
  auto ip = [](std::vector<std::string> args) {
    args.insert(args.begin(), "/bin/ip");
    auto result = RunProcess(args, {});
    return result.ok() ? result->exit_code : -1;
  };
  absl::Cleanup remove_link = [&] {
    if (::access(("/sys/class/net/" + link + "p").c_str(), F_OK) == 0) (void)ip({"link", "del", link + "p"});
  };
  ASSERT_EQ(ip({"link", "add", link, "type", "veth", "peer", "name", link + "p"}), 0);
  ASSERT_EQ(ip({"addr", "add", "10.213.9.2/24", "dev", link}), 0);
  nri::api::ContainerAdjustment adjust;
  (*adjust.mutable_linux()->mutable_net_devices())[link].set_name("net1");
  plugin->AdjustCreatedContainers(adjust);

  auto pod_config = PodConfig("nri-netdev");
  const std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("nic", {"sleep", "3600"});
  if (GetParam() == "runc") {
    std::string id;
    grpc::Status refused = Create(pod, pod_config, config, &id);
    ASSERT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
    EXPECT_NE(refused.error_message().find("network devices, which its runtime handler does not support"),
              std::string::npos)
        << refused.error_message();
    EXPECT_EQ(::access(("/sys/class/net/" + link).c_str(), F_OK), 0) << "still the host's";
    return;
  }
  const std::string container = CreateAndStart(pod, pod_config, config);
  EXPECT_NE(::access(("/sys/class/net/" + link).c_str(), F_OK), 0) << "no longer the host's";
  auto seen =
      Exec(container, {"sh", "-c", "ip -o addr show dev net1 scope global | sed 's/.* inet/inet/; s/ scope.*//'"});
  EXPECT_EQ(seen.stdout(), "inet 10.213.9.2/24\n") << seen.stderr();
  // The pod's other containers share the namespace, and so the link.
  plugin->AdjustCreatedContainers(nri::api::ContainerAdjustment());
  const std::string sidecar = CreateAndStart(pod, pod_config, ContainerConfig("sidecar", {"sleep", "3600"}));
  EXPECT_NE(Exec(sidecar, {"cat", "/sys/class/net/net1/operstate"}).stdout(), "");
}

INSTANTIATE_TEST_SUITE_P(Handlers, NriAdjustmentTest, ::testing::Values("berth", "runc"));

}  // namespace
}  // namespace berth::testing
