// Crash at every step: berthd dies by SIGKILL at each named fault point
// (base/fault_point.h) inside the lifecycle calls and its own start-up sweep, is
// started again, and must then show
// - no half-made object through CRI: what a crash cut short before its record is not
//   listed, what it cut short after is listed whole and usable;
// - the same call, retried, doing what it was asked;
// - once everything is removed, nothing left: no process, mount, netns, link, cgroup
//   or iptables rule (the fixture's leak check), no IPAM lease, and no file under
//   the state root and directory that no object owns.
// Deaths that no fault point can place (a container's init, a CNI plugin mid-ADD,
// berthd mid-ExecSync) are killed from here; a killed shim is
// PodLifecycleTest.AnExitNobodyRecordedIsUnknownUntilStopped.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "base/process.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kBridge[] = "berthfault0";

// The call a fault point sits in.
enum class Call {
  kRunPod,
  kStopPod,
  kRemovePod,
  kCreateContainer,
  kStartContainer,
  kStopContainer,
  kKillContainer,  // StopContainer with no grace period: straight to SIGKILL
  kRemoveContainer,
  kPullImage,
  kStartUp,  // berthd's start-up sweep, with orphans of an earlier crash to remove
};

struct FaultCase {
  const char* point;
  Call call;
  // Whether the crash comes after the call's record was written: the object is then
  // listed (or, for removals, gone from the list).
  bool recorded;
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.point; }

// Every fault point berthd has, each in the call that reaches it.
const FaultCase kCases[] = {
    {"run-pod/namespaces-pinned", Call::kRunPod, false},
    {"run-pod/network-attached", Call::kRunPod, false},
    {"run-pod/shm-mounted", Call::kRunPod, false},
    {"run-pod/init-started", Call::kRunPod, false},
    {"run-pod/files-written", Call::kRunPod, false},
    {"run-pod/recorded", Call::kRunPod, true},
    {"stop-pod/containers-stopped", Call::kStopPod, false},
    {"stop-pod/network-detached", Call::kStopPod, false},
    {"remove-pod/containers-removed", Call::kRemovePod, false},
    {"remove-pod/network-detached", Call::kRemovePod, false},
    {"remove-pod/torn-down", Call::kRemovePod, false},
    {"create-container/rootfs-mounted", Call::kCreateContainer, false},
    {"create-container/runtime-created", Call::kCreateContainer, false},
    {"create-container/recorded", Call::kCreateContainer, true},
    {"start-container/started", Call::kStartContainer, false},
    {"start-container/recorded", Call::kStartContainer, true},
    {"stop-container/signalled", Call::kStopContainer, false},
    {"stop-container/killed", Call::kKillContainer, false},
    {"remove-container/stopped", Call::kRemoveContainer, false},
    {"remove-container/unrecorded", Call::kRemoveContainer, true},
    {"remove-container/runtime-deleted", Call::kRemoveContainer, true},
    {"pull-image/blob-partly-written", Call::kPullImage, false},
    {"pull-image/blob-fetched", Call::kPullImage, false},
    {"pull-image/layer-unpacked", Call::kPullImage, false},
    {"pull-image/before-record", Call::kPullImage, false},
    {"pull-image/recorded", Call::kPullImage, true},
    {"recover/records-loaded", Call::kStartUp, false},
    {"recover/networks-recovered", Call::kStartUp, false},
    {"recover/orphan-container-stopped", Call::kStartUp, false},
    {"recover/orphan-pod-found", Call::kStartUp, false},
};

class FaultPointFixture : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    LinkCniPlugins();
    if (IsSkipped()) return;
    // A bridge and a lease directory of the test's own, no masquerading: every rule
    // and lease the test sees is a pod's.
    nlohmann::json list = {
        {"cniVersion", "1.0.0"},
        {"name", "berth-fault"},
        {"plugins",
         {{{"type", "bridge"},
           {"bridge", kBridge},
           {"isGateway", true},
           {"ipam",
            {{"type", "host-local"}, {"dataDir", dir_ + "/ipam"}, {"ranges", {{{{"subnet", "10.231.9.0/24"}}}}}}}},
          {{"type", "loopback"}}}}};
    ASSERT_TRUE(WriteFileAtomically(cni_conf_ + "/10-fault.conflist", list.dump()).ok());
    StartWithImages({});
  }

  void CleanUpHost() override { (void)RunProcess({"/usr/bin/ip", "link", "del", kBridge}, {}); }

  // Starts berthd again, armed with point (or not, when empty).
  void RestartArmed(const std::string& point) {
    ASSERT_EQ(StopBerthd(SIGTERM).exit_code, 0);
    ArmFaultPoint(point);
    StartBerthd();
  }

  std::vector<::runtime::v1::PodSandbox> Pods() {
    ::runtime::v1::ListPodSandboxResponse response;
    EXPECT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), {}, &response).ok());
    return {response.items().begin(), response.items().end()};
  }
  std::vector<::runtime::v1::Container> Containers() {
    ::runtime::v1::ListContainersResponse response;
    EXPECT_TRUE(client().runtime().ListContainers(Ctx().get(), {}, &response).ok());
    return {response.containers().begin(), response.containers().end()};
  }
  std::vector<std::string> ImageIds() {
    ::runtime::v1::ListImagesResponse response;
    EXPECT_TRUE(client().image().ListImages(Ctx().get(), {}, &response).ok());
    std::vector<std::string> ids;
    for (const auto& image : response.images()) ids.push_back(image.id());
    return ids;
  }

  grpc::Status PullImage(const std::string& ref) {
    ::runtime::v1::PullImageRequest request;
    request.mutable_image()->set_image(ref);
    ::runtime::v1::PullImageResponse response;
    return client().image().PullImage(Ctx().get(), request, &response);
  }
  grpc::Status RemoveImage(const std::string& ref) {
    ::runtime::v1::RemoveImageRequest request;
    request.mutable_image()->set_image(ref);
    ::runtime::v1::RemoveImageResponse response;
    return client().image().RemoveImage(Ctx().get(), request, &response);
  }

  // A pod that is whole: ready, with an address on the test network, and running a
  // container that answers an exec.
  void ExpectPodWorks(const std::string& pod, const ::runtime::v1::PodSandboxConfig& config,
                      const std::string& container_name) {
    auto status = PodStatus(pod);
    EXPECT_EQ(status.state(), ::runtime::v1::SANDBOX_READY);
    EXPECT_TRUE(absl::StartsWith(status.network().ip(), "10.231.9.")) << status.DebugString();
    std::string id = CreateAndStart(pod, config, ContainerConfig(container_name, {"sleep", "3600"}));
    EXPECT_EQ(Exec(id, {"echo", "alive"}).stdout(), "alive\n");
  }

  // Entries under dir, recursively, as paths relative to it.
  static std::vector<std::string> Entries(const std::string& dir) {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      found.push_back(fs::relative(it->path(), dir).string());
    }
    return found;
  }

  static std::vector<std::string> TopEntries(const std::string& dir) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) found.push_back(entry.path().filename().string());
    return found;
  }

  // Removes every pod and image through CRI, then checks that nothing of them stays
  // in berth's directories or the lease directory.
  void RemoveEverythingAndExpectNothingLeft() {
    for (const auto& pod : Pods()) ASSERT_TRUE(RemovePod(pod.id()).ok()) << pod.id();
    for (const auto& id : ImageIds()) ASSERT_TRUE(RemoveImage(id).ok()) << id;
    // Removed containers are cleaned up in the background; a restart finishes
    // whatever is left of them, so what stays after it is a leak.
    ASSERT_EQ(StopBerthd(SIGTERM).exit_code, 0);
    StartBerthd();
    for (const std::string& dir : {root_ + "/containers", root_ + "/network", state_ + "/pods", state_ + "/containers",
                                   root_ + "/images/ingest", root_ + "/images/snapshots", dir_ + "/ipam"}) {
      std::vector<std::string> left;
      for (const auto& entry : Entries(dir)) {
        // host-local's lock and last-reserved notes stay by design; leases do not.
        std::string name = fs::path(entry).filename().string();
        if (name == "lock" || absl::StartsWith(name, "last_reserved_ip") || entry == "berth-fault") continue;
        left.push_back(entry);
      }
      EXPECT_TRUE(left.empty()) << dir << " still holds: " << absl::StrJoin(left, ", ");
    }
    std::vector<std::string> blobs;
    for (const auto& entry : Entries(root_ + "/images/blobs")) {
      if (fs::is_regular_file(root_ + "/images/blobs/" + entry)) blobs.push_back(entry);
    }
    EXPECT_TRUE(blobs.empty()) << "blobs no image holds: " << absl::StrJoin(blobs, ", ");
  }
};

class FaultPointTest : public FaultPointFixture, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FaultPointTest, IsSurvived) {
  if (IsSkipped() || HasFatalFailure()) return;
  const FaultCase& fault = GetParam();
  auto pod_config = PodConfig("victim");
  auto container_config = ContainerConfig("sleeper", {"sleep", "3600"});
  std::string pod, container;
  // What exists before the call that dies.
  if (fault.call != Call::kRunPod && fault.call != Call::kPullImage) pod = RunPod(pod_config);
  if (fault.call == Call::kStartContainer) {
    ASSERT_TRUE(Create(pod, pod_config, container_config, &container).ok());
  }
  if (fault.call == Call::kStopPod || fault.call == Call::kRemovePod || fault.call == Call::kStopContainer ||
      fault.call == Call::kKillContainer || fault.call == Call::kRemoveContainer || fault.call == Call::kStartUp) {
    container = CreateAndStart(pod, pod_config, container_config);
  }
  if (fault.call == Call::kPullImage) {
    // Nothing of the image is present: every blob and layer is fetched again.
    ASSERT_TRUE(RemoveImage(image_).ok());
    ASSERT_TRUE(RemoveImage(user_image_).ok());
  }
  int healthy_pid = container.empty() ? 0 : static_cast<int>(VerboseContainerInfo(container).value("pid", 0));

  if (fault.call == Call::kStartUp) {
    // An orphan for the sweep (any start sweeps, so one per case): a container whose
    // create died with its shim started, or a pod whose RunPodSandbox died with its
    // network attached and its shared-PID init running.
    std::string unused;
    if (fault.point == std::string("recover/orphan-container-stopped") ||
        fault.point == std::string("recover/records-loaded")) {
      RestartArmed("create-container/runtime-created");
      EXPECT_FALSE(Create(pod, pod_config, ContainerConfig("orphan", {"sleep", "3600"}), &unused).ok());
    } else {
      RestartArmed("run-pod/files-written");
      auto orphan_pod = PodConfig("orphan");
      orphan_pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
          ::runtime::v1::POD);
      EXPECT_FALSE(RunPod(orphan_pod, &unused).ok());
    }
    AwaitFaultPointDeath();
    // The sweep itself dies, and the next one finishes it.
    ArmFaultPoint(fault.point);
    StartBerthdToFaultPoint();
    if (HasFatalFailure()) return;
    StartBerthd();
    ASSERT_EQ(Pods().size(), 1u);
    ASSERT_EQ(Containers().size(), 1u);
    EXPECT_EQ(StatusOf(container).state(), ::runtime::v1::CONTAINER_RUNNING);
    EXPECT_EQ(VerboseContainerInfo(container).value("pid", 0), healthy_pid) << "a healthy container was disturbed";
    EXPECT_EQ(TopEntries(root_ + "/containers"), std::vector<std::string>{container}) << "an orphan is left";
    EXPECT_EQ(TopEntries(state_ + "/pods"), std::vector<std::string>{pod}) << "an orphan is left";
    RemoveEverythingAndExpectNothingLeft();
    return;
  }

  RestartArmed(fault.point);
  grpc::Status call;
  switch (fault.call) {
    case Call::kRunPod: call = RunPod(pod_config, &pod); break;
    case Call::kStopPod: call = StopPod(pod); break;
    case Call::kRemovePod: call = RemovePod(pod); break;
    case Call::kCreateContainer: call = Create(pod, pod_config, container_config, &container); break;
    case Call::kStartContainer: call = Start(container); break;
    case Call::kStopContainer: call = StopContainer(container, 30); break;
    case Call::kKillContainer: call = StopContainer(container, 0); break;
    case Call::kRemoveContainer: call = RemoveContainer(container); break;
    case Call::kPullImage: call = PullImage(image_); break;
    case Call::kStartUp: break;
  }
  // A point reached after the call has answered (a removal's background clean-up)
  // lets it succeed; any other dies with the call.
  if (fault.point != std::string("remove-container/runtime-deleted")) {
    EXPECT_EQ(call.error_code(), grpc::StatusCode::UNAVAILABLE) << call.error_message();
  }
  AwaitFaultPointDeath();
  if (HasFatalFailure()) return;
  StartBerthd();

  switch (fault.call) {
    case Call::kRunPod: {
      auto pods = Pods();
      if (!fault.recorded) {
        EXPECT_TRUE(pods.empty()) << "a pod whose RunPodSandbox died is listed";
      } else {
        ASSERT_EQ(pods.size(), 1u);
        ExpectPodWorks(pods[0].id(), pod_config, "first");
        // The name is taken, as it is on containerd and CRI-O: kubelet's next attempt
        // has the next attempt number. Once the pod is removed, the same call works.
        EXPECT_FALSE(RunPod(pod_config, &pod).ok());
        ASSERT_TRUE(RemovePod(pods[0].id()).ok());
      }
      std::string retried;
      ASSERT_TRUE(RunPod(pod_config, &retried).ok());
      ExpectPodWorks(retried, pod_config, "retried");
      break;
    }
    case Call::kStopPod:
      ASSERT_TRUE(StopPod(pod).ok());
      EXPECT_EQ(PodStatus(pod).state(), ::runtime::v1::SANDBOX_NOTREADY);
      EXPECT_EQ(StatusOf(container).state(), ::runtime::v1::CONTAINER_EXITED);
      break;
    case Call::kRemovePod: {
      auto pods = Pods();
      ASSERT_EQ(pods.size(), 1u) << "a pod is listed until its removal ends";
      ASSERT_TRUE(RemovePod(pod).ok());
      EXPECT_TRUE(Pods().empty());
      EXPECT_TRUE(Containers().empty());
      break;
    }
    case Call::kCreateContainer: {
      auto containers = Containers();
      if (!fault.recorded) {
        EXPECT_TRUE(containers.empty()) << "a container whose CreateContainer died is listed";
      } else {
        ASSERT_EQ(containers.size(), 1u);
        EXPECT_EQ(containers[0].state(), ::runtime::v1::CONTAINER_CREATED);
        std::string taken;
        EXPECT_FALSE(Create(pod, pod_config, container_config, &taken).ok()) << "the name is taken";
        ASSERT_TRUE(RemoveContainer(containers[0].id()).ok());
      }
      ASSERT_TRUE(Create(pod, pod_config, container_config, &container).ok());
      ASSERT_TRUE(Start(container).ok());
      EXPECT_EQ(Exec(container, {"echo", "alive"}).stdout(), "alive\n");
      break;
    }
    case Call::kStartContainer: {
      // Started before the crash, its record said so or not: it runs, and a second
      // start says it is not in the created state.
      grpc::Status again = Start(container);
      if (fault.recorded) {
        EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
      } else {
        EXPECT_TRUE(again.ok()) << again.error_message();
      }
      EXPECT_EQ(StatusOf(container).state(), ::runtime::v1::CONTAINER_RUNNING);
      EXPECT_EQ(Exec(container, {"echo", "alive"}).stdout(), "alive\n");
      break;
    }
    case Call::kStopContainer:
    case Call::kKillContainer:
      ASSERT_TRUE(StopContainer(container, 1).ok());
      EXPECT_EQ(StatusOf(container).state(), ::runtime::v1::CONTAINER_EXITED);
      break;
    case Call::kRemoveContainer: {
      auto containers = Containers();
      EXPECT_EQ(containers.size(), fault.recorded ? 0u : 1u);
      ASSERT_TRUE(RemoveContainer(container).ok());
      EXPECT_TRUE(Containers().empty());
      break;
    }
    case Call::kPullImage: {
      EXPECT_EQ(ImageIds().size(), fault.recorded ? 1u : 0u) << "an image is listed only once it is whole";
      ASSERT_TRUE(PullImage(image_).ok());
      auto pulled_config = PodConfig("pulled");
      std::string pulled;
      ASSERT_TRUE(RunPod(pulled_config, &pulled).ok());
      ExpectPodWorks(pulled, pulled_config, "runs");
      break;
    }
    case Call::kStartUp:
      break;
  }
  // Whatever the call left alone is as it was.
  if (healthy_pid > 0 && fault.call != Call::kStopPod && fault.call != Call::kRemovePod &&
      fault.call != Call::kStopContainer && fault.call != Call::kKillContainer &&
      fault.call != Call::kRemoveContainer) {
    EXPECT_EQ(VerboseContainerInfo(container).value("pid", 0), healthy_pid);
  }
  RemoveEverythingAndExpectNothingLeft();
}

INSTANTIATE_TEST_SUITE_P(EveryPoint, FaultPointTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<FaultCase>& info) {
                           std::string name = info.param.point;
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

using ProcessDeathTest = FaultPointFixture;

// A container's init killed from outside: its exit is recorded as any other, by its
// signal, and berth stays whole.
TEST_F(ProcessDeathTest, AKilledInitIsAnExitBySignal) {
  auto pod_config = PodConfig("killed");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"sleep", "3600"}));
  int init = VerboseContainerInfo(id)["pid"];
  ASSERT_EQ(::kill(init, SIGKILL), 0);
  auto status = WaitForExit(id);
  EXPECT_EQ(status.exit_code(), 128 + SIGKILL);
  EXPECT_EQ(status.reason(), "Error");
  ASSERT_TRUE(RemovePod(pod).ok());
  RemoveEverythingAndExpectNothingLeft();
}

// A CNI plugin killed in the middle of its ADD: RunPodSandbox fails saying which
// plugin, the plugins before it are undone (no lease, no link), and once the network
// works again the same call succeeds.
TEST_F(ProcessDeathTest, APluginKilledMidAddLeavesNothing) {
  // It dies on ADD, and lets DEL (the undo) through.
  ASSERT_TRUE(WriteFileAtomically(cni_bin_ + "/dies-on-add",
                                  "#!/bin/sh\n"
                                  "cat >/dev/null\n"
                                  "[ \"$CNI_COMMAND\" = ADD ] && kill -9 $$\n"
                                  "exit 0\n",
                                  0755)
                  .ok());
  const std::string conflist = cni_conf_ + "/10-fault.conflist";
  const std::string working = ReadFile(conflist).value_or("{}");
  auto list = nlohmann::json::parse(working);
  list["plugins"].push_back({{"type", "dies-on-add"}});
  ASSERT_TRUE(WriteFileAtomically(conflist, list.dump()).ok());
  RestartArmed("");  // on the new network config from its start
  auto pod_config = PodConfig("unplugged");
  std::string pod;
  grpc::Status run = RunPod(pod_config, &pod);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.error_message().find("dies-on-add"), std::string::npos) << run.error_message();
  EXPECT_TRUE(Pods().empty());
  EXPECT_TRUE(Entries(state_ + "/pods").empty());
  EXPECT_TRUE(Entries(dir_ + "/ipam/berth-fault").size() <= 2u) << "a lease is held";
  ASSERT_TRUE(WriteFileAtomically(conflist, working).ok());
  RestartArmed("");
  ASSERT_TRUE(RunPod(pod_config, &pod).ok());
  ExpectPodWorks(pod, pod_config, "plugged");
  RemoveEverythingAndExpectNothingLeft();
}

// berthd killed while an ExecSync runs: the container keeps running, the exec'd
// process ends with it, and the same exec works on the next berthd.
TEST_F(ProcessDeathTest, BerthdKilledMidExecSync) {
  auto pod_config = PodConfig("execed");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"sleep", "3600"}));
  int pid = VerboseContainerInfo(id)["pid"];
  const std::string marker = state_ + "/pods/" + pod + "/shm/exec-running";
  // A connection of its own: the fixture's goes with the berthd it is killed with.
  auto exec = std::async(std::launch::async, [this, id] {
    cri::CriClient own(socket_);
    ::runtime::v1::ExecSyncRequest request;
    request.set_container_id(id);
    for (const char* arg : {"sh", "-c", "touch /dev/shm/exec-running; sleep 3600"}) request.add_cmd(arg);
    ::runtime::v1::ExecSyncResponse response;
    return own.runtime().ExecSync(Ctx().get(), request, &response);
  });
  for (int i = 0; i < 600 && ::access(marker.c_str(), F_OK) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(::access(marker.c_str(), F_OK), 0) << "the exec never ran";
  ASSERT_EQ(StopBerthd(SIGKILL).signal, SIGKILL);
  EXPECT_EQ(exec.get().error_code(), grpc::StatusCode::UNAVAILABLE);
  StartBerthd();
  EXPECT_EQ(StatusOf(id).state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(VerboseContainerInfo(id)["pid"], pid);
  EXPECT_EQ(Exec(id, {"echo", "alive"}).stdout(), "alive\n");
  RemoveEverythingAndExpectNothingLeft();
}

}  // namespace
}  // namespace berth::testing
