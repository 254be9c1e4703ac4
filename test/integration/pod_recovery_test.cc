// What berthd knows of containers across its own death, on berth's own runtime and on
// runc: containers that outlive a kill -9, a create killed midway, exits recorded
// while nobody reads them, and an exit nobody recorded.
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

class PodRecoveryTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }
};

TEST_P(PodRecoveryTest, ContainersSurviveBerthdKillAndAreRecovered) {
  auto pod_config = PodConfig("recover");
  std::string pod = RunPod(pod_config);
  std::string running = CreateAndStart(pod, pod_config, ContainerConfig("running", {"/bin/sh", "-c", "sleep 1000"}));
  std::string exits = CreateAndStart(pod, pod_config, ContainerConfig("exits", {"/bin/sh", "-c", "read x < /dev/shm/go; exit 42"}));
  nlohmann::json before = VerboseContainerInfo(running);
  ASSERT_EQ(StopBerthd(SIGKILL).signal, SIGKILL);
  // While berthd is away, one container exits.
  ASSERT_TRUE(WriteFileAtomically(state_ + "/pods/" + pod + "/shm/go", "now\n").ok());
  int pid = before["pid"];
  EXPECT_EQ(::kill(pid, 0), 0) << "the container died with berthd";
  StartBerthd();
  auto exited = WaitForExit(exits);
  EXPECT_EQ(exited.exit_code(), 42);
  auto still = StatusOf(running);
  EXPECT_EQ(still.state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(Exec(running, {"echo", "alive"}).stdout(), "alive\n");
}

TEST_P(PodRecoveryTest, WhatACreateKilledMidwayLeftIsRemovedAtRestart) {
  // berthd dies after the runtime created a container (and after a pod's namespaces,
  // init and network were set up) but before either record was written: a restart
  // must find and remove both, processes, mounts and all.
  auto pod_config = PodConfig("unfinished");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::POD);
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("orphan", {"sleep", "3600"}));
  StopBerthd(SIGKILL);
  auto db = SqliteDatabase::Open(root_ + "/berth.db", /*create=*/false);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("DELETE FROM containers; DELETE FROM pods;").ok());
  db->reset();
  StartBerthd();
  ::runtime::v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 0);
  EXPECT_FALSE(fs::exists(root_ + "/containers/" + id));
  EXPECT_FALSE(fs::exists(state_ + "/pods/" + pod));
  std::string mountinfo = ReadFile("/proc/self/mountinfo").value_or("");
  EXPECT_EQ(mountinfo.find(id), std::string::npos) << mountinfo;
  EXPECT_EQ(mountinfo.find(pod), std::string::npos) << mountinfo;
  // The fixture's leak check then finds no shim, init, netns or cgroup of theirs either.
}

// An exit is recorded when it happens (berthd watches each container's shim), not
// when someone next asks: the database says EXITED without any CRI read.
TEST_P(PodRecoveryTest, ExitsAreRecordedWithoutBeingRead) {
  auto pod_config = PodConfig("watched");
  std::string pod = RunPod(pod_config);
  std::string id =
      CreateAndStart(pod, pod_config, ContainerConfig("exits", {"/bin/sh", "-c", "read x < /dev/shm/go; exit 7"}));
  ASSERT_TRUE(WriteFileAtomically(state_ + "/pods/" + pod + "/shm/go", "now\n").ok());
  auto db = SqliteDatabase::Open(root_ + "/berth.db", /*create=*/false);
  ASSERT_TRUE(db.ok()) << db.status();
  int64_t state = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (state != 2 && std::chrono::steady_clock::now() < deadline) {
    auto q = (*db)->Prepare("SELECT state FROM containers WHERE id = ?");
    ASSERT_TRUE(q.ok()) << q.status();
    q->Bind(1, id);
    auto row = q->Step();
    if (row.ok() && *row) state = q->ColumnInt(0);
    if (state != 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(state, 2) << "the exit was not recorded (2 = EXITED)";
  EXPECT_EQ(StatusOf(id).exit_code(), 7);
}

// A container whose monitor died without recording the exit is UNKNOWN, as CRI's
// state diagram says; a stop settles it as exited and it can be removed.
TEST_P(PodRecoveryTest, AnExitNobodyRecordedIsUnknownUntilStopped) {
  auto pod_config = PodConfig("lost");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("lost", {"sleep", "3600"}));
  auto info = VerboseContainerInfo(id);
  int shim = info["shimPid"], init = info["pid"];
  uint64_t shim_start = ProcessStartTime(shim), init_start = ProcessStartTime(init);
  ASSERT_EQ(::kill(shim, SIGKILL), 0);
  ASSERT_TRUE(WaitForProcessExit(shim, shim_start, std::chrono::seconds(10)));
  ASSERT_EQ(::kill(init, SIGKILL), 0);
  ASSERT_TRUE(WaitForProcessExit(init, init_start, std::chrono::seconds(10)));
  auto status = StatusOf(id);
  EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_UNKNOWN);
  EXPECT_EQ(status.reason(), "Unknown");
  ::runtime::v1::StopContainerRequest stop;
  stop.set_container_id(id);
  ::runtime::v1::StopContainerResponse stopped;
  ASSERT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  EXPECT_EQ(StatusOf(id).state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(StatusOf(id).exit_code(), 255);
}

INSTANTIATE_TEST_SUITE_P(Handlers, PodRecoveryTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
