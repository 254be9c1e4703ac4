// Checkpoint and restore through a real berthd.
//
// Where CRIU cannot work (Debian 12's CRIU 3.17 fails `criu check` on kernel 6.18)
// each RPC is FAILED_PRECONDITION saying why, Status's ContainerCheckpointReady
// condition says the same, and the container is not disturbed by the attempt.
//
// Where it can (a CRIU built by test/criu/build.sh into $BERTH_CRIU_DIR, default
// /var/cache/berth/criu), a counting container on berth-runtime and on runc is
// checkpointed into an
// archive that checkpointctl reads, and restored into a new pod, where it goes on
// counting from where the checkpoint stopped, with its files as they were. Those
// tests skip, saying so, when no working CRIU is there.
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/process.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string CacheDir() {
  const char* dir = ::getenv("BERTH_CRIU_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/var/cache/berth/criu";
}

// A CRIU that passes `criu check` here, or "" (why in *reason).
std::string WorkingCriu(std::string* reason) {
  for (const std::string& binary : {CacheDir() + "/criu", std::string("/usr/sbin/criu")}) {
    if (::access(binary.c_str(), X_OK) != 0) continue;
    RunOptions options;
    options.timeout = std::chrono::seconds(30);
    auto check = RunProcess({binary, "check"}, options);
    if (check.ok() && check->exit_code == 0) return binary;
  }
  *reason = "no CRIU that works on this host: build one with test/criu/build.sh (into " + CacheDir() + ")";
  return "";
}

class CheckpointTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  const ::runtime::v1::RuntimeCondition* CheckpointCondition(::runtime::v1::StatusResponse& response) {
    EXPECT_TRUE(client().runtime().Status(Ctx().get(), {}, &response).ok());
    for (const auto& condition : response.status().conditions()) {
      if (condition.type() == "ContainerCheckpointReady") return &condition;
    }
    return nullptr;
  }

  grpc::Status Checkpoint(const std::string& container, const std::string& location) {
    ::runtime::v1::CheckpointContainerRequest request;
    request.set_container_id(container);
    request.set_location(location);
    ::runtime::v1::CheckpointContainerResponse response;
    return client().runtime().CheckpointContainer(Ctx().get(), request, &response);
  }

  // berthd on the handler under test with a working CRIU; skips when there is none.
  void StartWithCriu() {
    if (GetParam() == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
    std::string reason;
    criu_ = WorkingCriu(&reason);
    if (criu_.empty()) GTEST_SKIP() << reason;
    std::string config = dir_ + "/berth.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, "default_runtime_handler: " + GetParam() +
                                                "\nruntimes:\n  criu_path: " + criu_ + "\n")
                    .ok());
    StartWithImages({"--config", config});
  }

  // The counter's value, read in the container (the counters write it whole, by a
  // rename); -1 if it cannot be read.
  int64_t Count(const std::string& id) {
    auto out = Exec(id, {"/bin/cat", "/tmp/count"});
    int64_t value = -1;
    if (out.exit_code() != 0 || !absl::SimpleAtoi(absl::StripAsciiWhitespace(out.stdout()), &value)) return -1;
    return value;
  }

  // Asks until the counter has reached at least value (it ticks ten times a second).
  int64_t WaitForCount(const std::string& id, int64_t value) {
    int64_t seen = -1;
    for (int i = 0; i < 600 && seen < value; ++i) {
      seen = Count(id);
      if (seen < value) ::usleep(50 * 1000);
    }
    return seen;
  }

  grpc::Status CheckpointPod(const std::string& pod, const std::string& dir, const std::vector<std::string>& ids,
                             const std::map<std::string, std::string>& options = {}) {
    ::runtime::v1::CheckpointPodRequest request;
    request.set_pod_sandbox_id(pod);
    request.set_output_path(dir);
    for (const auto& id : ids) request.add_container_ids(id);
    for (const auto& [key, value] : options) (*request.mutable_options())[key] = value;
    ::runtime::v1::CheckpointPodResponse response;
    return client().runtime().CheckpointPod(Ctx().get(), request, &response);
  }

  int PodCount() {
    ::runtime::v1::ListPodSandboxResponse pods;
    EXPECT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), {}, &pods).ok());
    return pods.items_size();
  }

  static std::vector<std::string> CounterCommand() {
    return {"/bin/sh", "-c",
            "i=0; while :; do i=$((i+1)); echo $i > /tmp/next; mv /tmp/next /tmp/count; sleep 0.1; done"};
  }

  std::string criu_;
};

TEST_P(CheckpointTest, RefusesClearlyWhereCriuCannotWork) {
  // The CRIU is the default one, Debian's.
  StartOnHandler(GetParam());
  if (HasFatalFailure() || IsSkipped()) return;
  ::runtime::v1::StatusResponse status_response;
  const auto* condition = CheckpointCondition(status_response);
  ASSERT_NE(condition, nullptr);
  auto pod_config = PodConfig("checkpoint");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sh", "-c", "sleep 3600"}));

  EXPECT_EQ(Checkpoint("", dir_ + "/c.tar").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Checkpoint(id, "relative.tar").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Checkpoint(std::string(64, 'f'), dir_ + "/c.tar").error_code(), grpc::StatusCode::NOT_FOUND);

  auto refused = Checkpoint(id, dir_ + "/c.tar");
  ::runtime::v1::CheckpointPodRequest pod_request;
  pod_request.set_pod_sandbox_id(pod);
  pod_request.set_output_path(dir_);
  pod_request.add_container_ids(id);
  ::runtime::v1::CheckpointPodResponse pod_response;
  auto pod_refused = client().runtime().CheckpointPod(Ctx().get(), pod_request, &pod_response);
  ::runtime::v1::RestorePodRequest restore_request;
  restore_request.set_checkpoint_path(dir_ + "/no-such-checkpoint");
  ::runtime::v1::RestorePodResponse restore_response;
  EXPECT_EQ(client().runtime().RestorePod(Ctx().get(), restore_request, &restore_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT)
      << "no config";
  *restore_request.mutable_config() = PodConfig("restored");
  *restore_request.add_container_configs() = ContainerConfig("c", {});
  EXPECT_EQ(client().runtime().RestorePod(Ctx().get(), restore_request, &restore_response).error_code(),
            grpc::StatusCode::NOT_FOUND);

  if (condition->status()) {
    GTEST_SKIP() << "Debian's CRIU works on this host: the refusal cannot be seen here";
  }
  EXPECT_EQ(condition->reason(), "CRIUUnavailable");
  EXPECT_TRUE(absl::StrContains(condition->message(), "CRIU")) << condition->message();
  for (const grpc::Status& status : {refused, pod_refused}) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
    EXPECT_EQ(status.error_message(), condition->message());
  }
  EXPECT_FALSE(Exists(dir_ + "/c.tar")) << "a refused checkpoint leaves no archive";
  // The container runs on, untouched.
  EXPECT_EQ(StatusOf(id).state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(Exec(id, {"/bin/true"}).exit_code(), 0);
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(CheckpointTest, RestoredContainerGoesOnCountingInANewPod) {
  StartWithCriu();
  if (HasFatalFailure() || IsSkipped()) return;
  ::runtime::v1::StatusResponse status_response;
  const auto* condition = CheckpointCondition(status_response);
  ASSERT_NE(condition, nullptr);
  EXPECT_TRUE(condition->status()) << condition->message();

  auto first_config = PodConfig("checkpointed");
  std::string first = RunPod(first_config);
  // It counts in its shell's memory; the file only shows the count. It also leaves
  // a file of its own and deletes one of the image's, for the rootfs diff.
  std::string id = CreateAndStart(
      first, first_config,
      ContainerConfig("counter", {"/bin/sh", "-c",
                                  "echo mine > /made-here; rm /bin/true; i=0; while :; do i=$((i+1)); "
                                  "echo $i > /tmp/next; mv /tmp/next /tmp/count; sleep 0.1; done"}));
  ASSERT_GE(WaitForCount(id, 20), 20);

  const std::string archive = dir_ + "/counter.tar";
  grpc::Status checkpointed = Checkpoint(id, archive);
  ASSERT_TRUE(checkpointed.ok()) << checkpointed.error_message();
  const int64_t after_checkpoint = Count(id);
  EXPECT_GE(after_checkpoint, 20);
  EXPECT_EQ(StatusOf(id).state(), ::runtime::v1::CONTAINER_RUNNING) << "a checkpoint leaves the container running";
  ASSERT_TRUE(Exists(archive));

  // checkpointctl, the upstream reader of CRI-O's and Podman's archives, reads it.
  const std::string checkpointctl = CacheDir() + "/checkpointctl";
  if (::access(checkpointctl.c_str(), X_OK) == 0) {
    RunOptions options;
    options.timeout = std::chrono::seconds(60);
    auto shown = RunProcess({checkpointctl, "show", archive}, options);
    ASSERT_TRUE(shown.ok()) << shown.status();
    EXPECT_EQ(shown->exit_code, 0) << shown->out << shown->err;
    EXPECT_TRUE(absl::StrContains(shown->out, "counter")) << shown->out;
    EXPECT_TRUE(absl::StrContains(shown->out, image_)) << shown->out;
    EXPECT_TRUE(absl::StrContains(shown->out, GetParam())) << shown->out;
  } else {
    ADD_FAILURE() << "no checkpointctl at " << checkpointctl << ": test/criu/build.sh builds it";
  }

  // The original goes; the restore is a new pod, as after a move to another node.
  ASSERT_TRUE(RemovePod(first).ok());
  auto second_config = PodConfig("restored");
  std::string second = RunPod(second_config);
  auto restore_config = ContainerConfig("counter", {});
  restore_config.mutable_image()->set_image(archive);
  std::string restored;
  grpc::Status created = Create(second, second_config, restore_config, &restored);
  ASSERT_TRUE(created.ok()) << created.error_message();
  auto before_start = StatusOf(restored);
  EXPECT_EQ(before_start.state(), ::runtime::v1::CONTAINER_CREATED) << "nothing runs before StartContainer";
  EXPECT_EQ(before_start.image().image(), image_) << "the image the checkpoint was taken on";

  ::runtime::v1::StartContainerRequest start;
  start.set_container_id(restored);
  ::runtime::v1::StartContainerResponse started;
  grpc::Status start_status = client().runtime().StartContainer(Ctx().get(), start, &started);
  ASSERT_TRUE(start_status.ok()) << start_status.error_message();
  EXPECT_EQ(StatusOf(restored).state(), ::runtime::v1::CONTAINER_RUNNING);
  // A fresh start would count from 1: the restored shell goes on from the dump.
  const int64_t resumed = Count(restored);
  EXPECT_GE(resumed, 20) << "the counter restarted instead of resuming";
  EXPECT_GT(WaitForCount(restored, resumed + 5), resumed) << "the restored counter does not count";
  EXPECT_EQ(Exec(restored, {"/bin/cat", "/made-here"}).stdout(), "mine\n");
  EXPECT_NE(Exec(restored, {"/bin/test", "-e", "/bin/true"}).exit_code(), 0) << "a deleted file came back";

  // A restored container stops and goes like any other (a shell as pid 1 ignores
  // SIGTERM: SIGKILL after a second).
  ::runtime::v1::StopContainerRequest stop;
  stop.set_container_id(restored);
  stop.set_timeout(1);
  ::runtime::v1::StopContainerResponse stopped;
  ASSERT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  EXPECT_EQ(StatusOf(restored).state(), ::runtime::v1::CONTAINER_EXITED);
  ASSERT_TRUE(RemovePod(second).ok());
}

TEST_P(CheckpointTest, RefusesWhatItCannotCheckpointOrRestore) {
  StartWithCriu();
  if (HasFatalFailure() || IsSkipped()) return;
  auto pod_config = PodConfig("refusals");
  // A pod with a shared PID namespace, for the container that joins it below.
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::POD);
  std::string pod = RunPod(pod_config);
  // A terminal cannot be dumped.
  auto tty_config = ContainerConfig("tty", {"/bin/sh", "-c", "sleep 3600"});
  tty_config.set_tty(true);
  std::string tty = CreateAndStart(pod, pod_config, tty_config);
  grpc::Status refused = Checkpoint(tty, dir_ + "/tty.tar");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "terminal")) << refused.error_message();
  // A container that shares its pod's PID namespace cannot be restored whole.
  auto shared_config = ContainerConfig("shared", {"/bin/sh", "-c", "sleep 3600"});
  shared_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      ::runtime::v1::POD);
  std::string shared = CreateAndStart(pod, pod_config, shared_config);
  refused = Checkpoint(shared, dir_ + "/shared.tar");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "PID namespace")) << refused.error_message();
  // A container that is not running has nothing to dump.
  std::string done = CreateAndStart(pod, pod_config, ContainerConfig("done", {"/bin/true"}));
  WaitForExit(done);
  EXPECT_EQ(Checkpoint(done, dir_ + "/done.tar").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // A location whose directory is not there.
  std::string live = CreateAndStart(pod, pod_config, ContainerConfig("live", {"/bin/sh", "-c", "sleep 3600"}));
  EXPECT_EQ(Checkpoint(live, dir_ + "/no-such-dir/live.tar").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // An image that is a file but not a checkpoint: refused, nothing made.
  const std::string not_archive = dir_ + "/not-a-checkpoint.tar";
  ASSERT_TRUE(WriteFileAtomically(not_archive, "just some bytes").ok());
  auto restore_config = ContainerConfig("restore", {});
  restore_config.mutable_image()->set_image(not_archive);
  std::string none;
  grpc::Status bad = Create(pod, pod_config, restore_config, &none);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  ::runtime::v1::ListContainersResponse listed;
  ASSERT_TRUE(client().runtime().ListContainers(Ctx().get(), {}, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 4) << "a failed restore leaves no container";
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(CheckpointTest, PodIsCheckpointedAtOneMomentAndRestoredWhole) {
  StartWithCriu();
  if (HasFatalFailure() || IsSkipped()) return;
  auto pod_config = PodConfig("whole");
  std::string pod = RunPod(pod_config);
  std::string first = CreateAndStart(pod, pod_config, ContainerConfig("first", CounterCommand()));
  std::string second = CreateAndStart(pod, pod_config, ContainerConfig("second", CounterCommand()));
  ASSERT_GE(WaitForCount(first, 20), 20);
  ASSERT_GE(WaitForCount(second, 20), 20);
  auto other_config = PodConfig("other");
  std::string other = RunPod(other_config);
  std::string stranger = CreateAndStart(other, other_config, ContainerConfig("stranger", CounterCommand()));

  const std::string out = dir_ + "/pod-checkpoint";
  ASSERT_TRUE(MakeDirs(out, 0700).ok());
  // What the API asks the runtime to refuse, with nothing written.
  EXPECT_EQ(CheckpointPod(pod, out, {}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckpointPod(pod, out, {first, first}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckpointPod(pod, out, {first, stranger}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckpointPod(pod, out, {first}, {{"colour", "red"}}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckpointPod(pod, out + "/missing", {first}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CheckpointPod(std::string(64, 'e'), out, {first}).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(WriteFileAtomically(out + "/stray", "x").ok());
  EXPECT_EQ(CheckpointPod(pod, out, {first}).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "not empty";
  ASSERT_EQ(::unlink((out + "/stray").c_str()), 0);

  grpc::Status checkpointed = CheckpointPod(pod, out, {first, second}, {{"berth.io/tcp-established", "false"}});
  ASSERT_TRUE(checkpointed.ok()) << checkpointed.error_message();
  for (const char* file : {"pod.options", "pod.dump", "first.tar", "second.tar"}) {
    EXPECT_TRUE(Exists(out + "/" + file)) << file;
  }
  // Both resumed: they count on.
  for (const std::string& id : {first, second}) {
    int64_t now = Count(id);
    EXPECT_GT(WaitForCount(id, now + 3), now) << id << " was left paused";
  }

  ::runtime::v1::RestorePodRequest restore;
  restore.set_checkpoint_path(out);
  *restore.mutable_config() = PodConfig("whole-restored");
  *restore.add_container_configs() = ContainerConfig("first", CounterCommand());
  ::runtime::v1::RestorePodResponse restored;
  // A container of the checkpoint without its config: refused, and no pod is left.
  const int pods_before = PodCount();
  grpc::Status partial = client().runtime().RestorePod(Ctx().get(), restore, &restored);
  EXPECT_EQ(partial.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << partial.error_message();
  EXPECT_TRUE(absl::StrContains(partial.error_message(), "second")) << partial.error_message();
  EXPECT_EQ(PodCount(), pods_before);

  // A config naming another image than the checkpoint's: a mismatch, refused.
  auto wrong_image = ContainerConfig("second", CounterCommand());
  wrong_image.mutable_image()->set_image(user_image_);
  auto mismatched = restore;
  *mismatched.add_container_configs() = wrong_image;
  grpc::Status mismatch = client().runtime().RestorePod(Ctx().get(), mismatched, &restored);
  EXPECT_EQ(mismatch.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << mismatch.error_message();
  EXPECT_EQ(PodCount(), pods_before);

  ASSERT_TRUE(RemovePod(pod).ok());
  *restore.add_container_configs() = ContainerConfig("second", CounterCommand());
  grpc::Status done = client().runtime().RestorePod(Ctx().get(), restore, &restored);
  ASSERT_TRUE(done.ok()) << done.error_message();
  EXPECT_FALSE(restored.pod_sandbox_id().empty());
  ASSERT_EQ(restored.restored_containers_size(), 2);
  for (const auto& container : restored.restored_containers()) {
    EXPECT_EQ(StatusOf(container.container_id()).state(), ::runtime::v1::CONTAINER_CREATED) << container.name();
    ASSERT_TRUE(Start(container.container_id()).ok()) << container.name();
    EXPECT_GE(Count(container.container_id()), 20) << container.name() << " started afresh";
  }
  // Restored into the new pod's IPC and UTS namespaces, not ones of their own.
  for (const char* ns : {"ipc", "uts"}) {
    std::vector<std::string> seen;
    for (const auto& container : restored.restored_containers()) {
      seen.push_back(Exec(container.container_id(), {"/bin/readlink", std::string("/proc/1/ns/") + ns}).stdout());
    }
    EXPECT_FALSE(seen[0].empty());
    EXPECT_EQ(seen[0], seen[1]) << ns;
  }
  ASSERT_TRUE(RemovePod(restored.pod_sandbox_id()).ok());
  ASSERT_TRUE(RemovePod(other).ok());
}

TEST_P(CheckpointTest, KeepsEstablishedConnectionsOnlyWhenAsked) {
  StartWithCriu();
  if (HasFatalFailure() || IsSkipped()) return;
  auto pod_config = PodConfig("talking");
  std::string pod = RunPod(pod_config);
  // A connection inside the pod, over its loopback: numbers go from one nc to the
  // other, which writes them down (its stdin held open: at end of stdin busybox's
  // nc ends the connection).
  std::string id = CreateAndStart(
      pod, pod_config,
      ContainerConfig("talk", {"/bin/sh", "-c",
                               "sleep 100000 | nc -l -p 9000 > /tmp/received & sleep 0.3; i=0; "
                               "while :; do i=$((i+1)); echo $i; echo $i > /tmp/next; mv /tmp/next /tmp/count; "
                               "sleep 0.1; done | nc 127.0.0.1 9000"}));
  ASSERT_GE(WaitForCount(id, 10), 10);
  auto received = [&](const std::string& container) {
    int64_t value = -1;
    auto out = Exec(container, {"/bin/sh", "-c", "tail -n 1 /tmp/received"});
    return absl::SimpleAtoi(absl::StripAsciiWhitespace(out.stdout()), &value) ? value : -1;
  };
  ASSERT_GE(received(id), 5);

  // Not asked for: CRIU refuses the connection, and says so.
  const std::string out = dir_ + "/talking";
  ASSERT_TRUE(MakeDirs(out, 0700).ok());
  grpc::Status refused = CheckpointPod(pod, out, {id});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "tcp-established")) << refused.error_message();
  EXPECT_EQ(StatusOf(id).state(), ::runtime::v1::CONTAINER_RUNNING);
  int64_t now = Count(id);
  EXPECT_GT(WaitForCount(id, now + 3), now) << "a failed checkpoint left the container paused";

  grpc::Status kept = CheckpointPod(pod, out, {id}, {{"berth.io/tcp-established", "true"}});
  ASSERT_TRUE(kept.ok()) << kept.error_message();
  ASSERT_TRUE(RemovePod(pod).ok());
  ::runtime::v1::RestorePodRequest restore;
  restore.set_checkpoint_path(out);
  *restore.mutable_config() = PodConfig("talking-restored");
  *restore.add_container_configs() = ContainerConfig("talk", {});
  ::runtime::v1::RestorePodResponse restored;
  grpc::Status done = client().runtime().RestorePod(Ctx().get(), restore, &restored);
  ASSERT_TRUE(done.ok()) << done.error_message();
  ASSERT_EQ(restored.restored_containers_size(), 1);
  const std::string again = restored.restored_containers(0).container_id();
  ASSERT_TRUE(Start(again).ok());
  // The numbers still arrive: the connection came back with the processes.
  const int64_t at_restore = received(again);
  EXPECT_GE(at_restore, 5);
  int64_t later = at_restore;
  for (int i = 0; i < 200 && later < at_restore + 5; ++i) {
    ::usleep(50 * 1000);
    later = received(again);
  }
  EXPECT_GE(later, at_restore + 5) << "nothing crossed the restored connection";
  ASSERT_TRUE(RemovePod(restored.pod_sandbox_id()).ok());
}

// berthd killed after a restore ran and before it was recorded (fault point
// start-container/started): the restored container is not reported running from a
// record that does not know its processes; StartContainer again says what happened,
// and removing it ends what the restore started (the fixture's leak check).
TEST_P(CheckpointTest, ARestoreCutShortByACrashIsRemovedWhole) {
  StartWithCriu();
  if (HasFatalFailure() || IsSkipped()) return;
  auto first_config = PodConfig("before-crash");
  std::string first = RunPod(first_config);
  std::string id = CreateAndStart(first, first_config, ContainerConfig("counter", CounterCommand()));
  ASSERT_GE(WaitForCount(id, 5), 5);
  const std::string archive = dir_ + "/counter.tar";
  ASSERT_TRUE(Checkpoint(id, archive).ok());
  ASSERT_TRUE(RemovePod(first).ok());

  auto second_config = PodConfig("after-crash");
  std::string second = RunPod(second_config);
  auto restore_config = ContainerConfig("counter", {});
  restore_config.mutable_image()->set_image(archive);
  std::string restored;
  ASSERT_TRUE(Create(second, second_config, restore_config, &restored).ok());
  const std::vector<std::string> flags = {"--config", dir_ + "/berth.yaml"};
  ASSERT_EQ(StopBerthd(SIGTERM).exit_code, 0);
  ArmFaultPoint("start-container/started");
  StartBerthd(flags);
  EXPECT_EQ(Start(restored).error_code(), grpc::StatusCode::UNAVAILABLE);
  AwaitFaultPointDeath();
  if (HasFatalFailure()) return;
  StartBerthd(flags);
  EXPECT_NE(StatusOf(restored).state(), ::runtime::v1::CONTAINER_RUNNING);
  grpc::Status again = Start(restored);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.error_message().find("did not live to record"), std::string::npos) << again.error_message();
  ASSERT_TRUE(RemovePod(second).ok());
}

INSTANTIATE_TEST_SUITE_P(Handlers, CheckpointTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
