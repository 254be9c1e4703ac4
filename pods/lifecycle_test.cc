// Lifecycle with fakes in LifecycleParts: every step of RunPodSandbox and
// CreateContainer is failed in turn, and what the earlier steps made must be gone
// after, with no record and no directory left. Runs without root.
#include "pods/lifecycle.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "base/state_db.h"
#include "pods/schema.h"
#include "pods/test_fakes.h"

namespace berth::pods {
namespace {

using fakes::Ledger;

// One lifecycle over temporary directories, its parts all fakes sharing a ledger.
class FakeNode {
 public:
  explicit FakeNode(const std::string& fail_at = "") {
    char tmpl[] = "/tmp/berth-lifecycle-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir_ = tmpl;
    config_.root = dir_ + "/root";
    config_.state_dir = dir_ + "/run";
    config_.default_runtime_handler = "fake";
    cgroups_.root = dir_ + "/cgroup";
    cgroups_.controllers = {"cpu", "memory", "pids"};
    if (!MakeDirs(config_.root, 0700).ok()) std::abort();
    db_ = *StateDb::Open(config_.root + "/berth.db", {&RecordSchema()});
    ledger_.fail_at = fail_at;

    image::ImageRecord image;
    image.id = "sha256:feed";
    image.repo_tags = {"example.test/app:1"};
    image.chain_ids = {"sha256:layer"};
    image.config.entrypoint = {"/app"};
    LifecycleParts parts;
    auto network = std::make_unique<fakes::FakePodNetwork>(&ledger_);
    auto handler = std::make_unique<fakes::FakeRuntimeHandler>(&ledger_);
    handler_ = handler.get();
    parts.network = std::move(network);
    parts.host = std::make_unique<fakes::FakeSandboxHost>(&ledger_);
    parts.rootfs = std::make_unique<fakes::FakeRootfs>(&ledger_, image);
    std::vector<std::unique_ptr<RuntimeHandler>> handlers;
    handlers.push_back(std::move(handler));
    parts.handlers = std::make_unique<HandlerRegistry>(std::move(handlers), "fake");
    lifecycle_ = std::make_unique<Lifecycle>(config_, cgroups_, db_.get(), std::move(parts));
    if (!lifecycle_->Recover().ok()) std::abort();
  }
  ~FakeNode() {
    lifecycle_.reset();
    (void)RemoveAll(dir_);
  }

  Lifecycle& lifecycle() { return *lifecycle_; }
  Ledger& ledger() { return ledger_; }
  fakes::FakeRuntimeHandler& handler() { return *handler_; }
  // Entries under a state directory ("run/pods", "root/containers", ...).
  std::vector<std::string> Entries(const std::string& relative) const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/" + relative, ec)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

 private:
  std::string dir_;
  Config config_;
  cgroups::Layout cgroups_;
  std::unique_ptr<StateDb> db_;
  Ledger ledger_;
  fakes::FakeRuntimeHandler* handler_ = nullptr;
  std::unique_ptr<Lifecycle> lifecycle_;
};

PodSpec SharedPidPod(const std::string& name) {
  PodSpec pod;
  pod.name = name;
  pod.uid = "uid-" + name;
  pod.namespace_name = "default";
  pod.hostname = name;
  pod.pid = NamespaceMode::kPod;  // so that the pod has an init to start
  return pod;
}

ContainerSpec App(const std::string& name) {
  ContainerSpec container;
  container.name = name;
  container.image = "example.test/app:1";
  return container;
}

TEST(LifecycleRollbackTest, AFailedRunPodSandboxUndoesEveryStepBeforeIt) {
  std::vector<std::string> steps;
  {
    FakeNode node;
    auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
    ASSERT_TRUE(pod.ok()) << pod.status();
    steps = node.ledger().steps;
    EXPECT_FALSE(node.ledger().held.empty());
  }
  ASSERT_EQ(steps, (std::vector<std::string>{"pin namespaces", "network attach", "mount shm", "start pod init"}));
  for (const std::string& failing : steps) {
    FakeNode node(failing);
    auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
    ASSERT_FALSE(pod.ok()) << "step " << failing;
    EXPECT_EQ(pod.status().code(), StatusCode::kUnavailable) << pod.status();
    EXPECT_TRUE(node.ledger().held.empty()) << "after a failed \"" << failing << "\" still held: "
                                             << *node.ledger().held.begin();
    EXPECT_TRUE(node.lifecycle().ListPods({}).empty()) << failing;
    EXPECT_TRUE(node.Entries("run/pods").empty()) << failing;
  }
}

TEST(LifecycleRollbackTest, APodWhoseNameIsTakenLeavesNothingOfItsOwn) {
  FakeNode node;
  ASSERT_TRUE(node.lifecycle().RunPod(SharedPidPod("web")).ok());
  const auto held = node.ledger().held;
  auto second = node.lifecycle().RunPod(SharedPidPod("web"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists) << second.status();
  EXPECT_EQ(node.ledger().held, held);
  EXPECT_EQ(node.lifecycle().ListPods({}).size(), 1u);
  EXPECT_EQ(node.Entries("run/pods").size(), 1u);
}

TEST(LifecycleRollbackTest, AFailedCreateContainerUndoesEveryStepBeforeIt) {
  std::vector<std::string> steps;
  {
    FakeNode node;
    auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
    ASSERT_TRUE(pod.ok()) << pod.status();
    const size_t pod_steps = node.ledger().steps.size();
    auto container = node.lifecycle().CreateContainer(*pod, App("app"));
    ASSERT_TRUE(container.ok()) << container.status();
    steps.assign(node.ledger().steps.begin() + pod_steps, node.ledger().steps.end());
  }
  ASSERT_EQ(steps, (std::vector<std::string>{"find image", "mount rootfs", "runtime create"}));
  for (const std::string& failing : steps) {
    FakeNode node(failing);
    auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
    ASSERT_TRUE(pod.ok()) << pod.status();
    const auto held_by_pod = node.ledger().held;
    auto container = node.lifecycle().CreateContainer(*pod, App("app"));
    ASSERT_FALSE(container.ok()) << "step " << failing;
    EXPECT_EQ(node.ledger().held, held_by_pod) << "after a failed \"" << failing << "\"";
    EXPECT_TRUE(node.lifecycle().ListContainers({}).empty()) << failing;
    EXPECT_TRUE(node.Entries("root/containers").empty()) << failing;
    EXPECT_TRUE(node.Entries("run/containers").empty()) << failing;
  }
}

TEST(LifecycleRollbackTest, AContainerWhoseNameIsTakenLeavesNothingOfItsOwn) {
  FakeNode node;
  auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
  ASSERT_TRUE(pod.ok()) << pod.status();
  ASSERT_TRUE(node.lifecycle().CreateContainer(*pod, App("app")).ok());
  const auto held = node.ledger().held;
  auto second = node.lifecycle().CreateContainer(*pod, App("app"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists) << second.status();
  EXPECT_EQ(node.ledger().held, held);
  EXPECT_EQ(node.Entries("root/containers").size(), 1u);
}

TEST(LifecycleRollbackTest, AFailedStartLeavesTheContainerExitedWithTheReason) {
  FakeNode node("runtime start");
  auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
  ASSERT_TRUE(pod.ok()) << pod.status();
  auto id = node.lifecycle().CreateContainer(*pod, App("app"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_FALSE(node.lifecycle().StartContainer(*id).ok());
  auto container = node.lifecycle().GetContainer(*id);
  ASSERT_TRUE(container.ok());
  EXPECT_EQ(container->state, ContainerState::kExited);
  EXPECT_EQ(container->reason, "StartError");
  EXPECT_EQ(container->exit_code, 128);
}

TEST(LifecycleTest, TheHandlerGetsTheTypedSpecAndResources) {
  FakeNode node;
  auto pod = node.lifecycle().RunPod(SharedPidPod("web"));
  ASSERT_TRUE(pod.ok()) << pod.status();
  ContainerSpec app = App("app");
  app.args = {"--port", "80"};
  app.security.pid = NamespaceMode::kPod;
  app.resources.memory_limit = 64 << 20;
  app.resources.hugepage_limits["2MB"] = 1 << 21;  // no hugetlb controller here: left out
  auto id = node.lifecycle().CreateContainer(*pod, app);
  ASSERT_TRUE(id.ok()) << id.status();
  const runtime::Spec& spec = node.handler().specs.at(*id);
  EXPECT_EQ(spec.process.args, (std::vector<std::string>{"/app", "--port", "80"}));
  EXPECT_EQ(spec.root_path, "rootfs");
  ASSERT_TRUE(spec.resources.has_value());
  EXPECT_EQ(spec.resources->memory_limit, 64 << 20);
  EXPECT_TRUE(spec.resources->hugepage_limits.empty());
  ASSERT_NE(spec.FindNamespace("pid"), nullptr);
  EXPECT_NE(spec.FindNamespace("pid")->path, "") << "the pod's shared PID namespace";

  ResourcesSpec update;
  update.cpu_quota = 50000;
  update.memory_swap_limit = 128 << 20;
  ASSERT_TRUE(node.lifecycle().UpdateResources(*id, update).ok());
  ASSERT_EQ(node.handler().updates.size(), 1u);
  EXPECT_EQ(node.handler().updates[0].cpu_quota, 50000);
  EXPECT_EQ(node.handler().updates[0].memory_swap, 128 << 20);
  EXPECT_FALSE(node.handler().updates[0].memory_limit.has_value()) << "an update names only what it changes";
}

}  // namespace
}  // namespace berth::pods
