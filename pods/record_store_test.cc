#include "pods/record_store.h"

#include <stdlib.h>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "pods/schema.h"

namespace berth::pods {
namespace {

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-record-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = StateDb::Open(dir_ + "/berth.db", {&RecordSchema()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    store_ = std::make_unique<RecordStore>(db_.get(), &events_);
    ASSERT_TRUE(store_->Load().ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  static SandboxRecord Pod(const std::string& id, const std::string& name) {
    SandboxRecord pod;
    pod.id = id;
    pod.spec.name = name;
    pod.spec.uid = "uid-" + name;
    pod.spec.namespace_name = "default";
    pod.ips = {"10.1.0.7"};
    return pod;
  }
  static ContainerRecord Container(const std::string& id, const std::string& pod_id, const std::string& name) {
    ContainerRecord container;
    container.id = id;
    container.pod_id = pod_id;
    container.spec.name = name;
    container.spec.command = {"/app"};
    container.spec.resources.memory_limit = 1 << 20;
    container.state = ContainerState::kCreated;
    return container;
  }

  std::string dir_;
  std::unique_ptr<StateDb> db_;
  EventBus events_;
  std::unique_ptr<RecordStore> store_;
};

TEST_F(RecordStoreTest, RecordsSurviveAReload) {
  ASSERT_TRUE(store_->AddSandbox(Pod("aa11", "web")).ok());
  ContainerRecord app = Container("cc11", "aa11", "app");
  ASSERT_TRUE(store_->AddContainer(app, "web/app").ok());
  app.state = ContainerState::kExited;
  app.exit_code = 3;
  ASSERT_TRUE(store_->UpdateContainer(app).ok());

  RecordStore reloaded(db_.get());
  ASSERT_TRUE(reloaded.Load().ok());
  auto pod = reloaded.GetSandbox("aa11");
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(pod->spec.name, "web");
  EXPECT_EQ(pod->ips, std::vector<std::string>{"10.1.0.7"});
  auto container = reloaded.GetContainer("cc11");
  ASSERT_TRUE(container.has_value());
  EXPECT_EQ(container->state, ContainerState::kExited);
  EXPECT_EQ(container->exit_code, 3);
  EXPECT_EQ(container->spec.command, std::vector<std::string>{"/app"});
  EXPECT_EQ(container->spec.resources.memory_limit, 1 << 20);
}

TEST_F(RecordStoreTest, NamesAreReservedUntilRemoved) {
  ASSERT_TRUE(store_->AddSandbox(Pod("aa11", "web")).ok());
  Status taken = store_->AddSandbox(Pod("bb22", "web"));
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(taken.message().find("aa11"), std::string::npos) << "names the holder: " << taken;
  ASSERT_TRUE(store_->AddContainer(Container("cc11", "aa11", "app"), "web/app").ok());
  EXPECT_EQ(store_->AddContainer(Container("cc22", "aa11", "app"), "web/app").code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->RemoveContainer("cc11").ok());
  EXPECT_TRUE(store_->AddContainer(Container("cc22", "aa11", "app"), "web/app").ok());
  EXPECT_FALSE(store_->RemoveSandbox("aa11").ok()) << "a pod goes after its containers";
  ASSERT_TRUE(store_->RemoveContainer("cc22").ok());
  ASSERT_TRUE(store_->RemoveSandbox("aa11").ok());
  Status again = store_->AddSandbox(Pod("bb22", "web"));
  EXPECT_TRUE(again.ok()) << again;
}

TEST_F(RecordStoreTest, AnUpdateOfARemovedRecordChangesNothing) {
  ASSERT_TRUE(store_->AddSandbox(Pod("aa11", "web")).ok());
  ASSERT_TRUE(store_->RemoveSandbox("aa11").ok());
  EXPECT_EQ(store_->UpdateSandbox(Pod("aa11", "web")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->GetSandbox("aa11").has_value());
  EXPECT_EQ(store_->UpdateContainer(Container("cc11", "aa11", "app")).code(), StatusCode::kNotFound);
}

TEST_F(RecordStoreTest, PrefixesResolveWhenUnambiguous) {
  ASSERT_TRUE(store_->AddSandbox(Pod("abc123", "one")).ok());
  ASSERT_TRUE(store_->AddSandbox(Pod("abd456", "two")).ok());
  EXPECT_EQ(*store_->ResolveSandboxId("abc"), "abc123");
  EXPECT_EQ(store_->ResolveSandboxId("ab").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ResolveSandboxId("zz").status().code(), StatusCode::kNotFound);
  auto gone = ExistingId(store_->ResolveSandboxId("zz"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value()) << "acting on what is gone is no error";
}

TEST_F(RecordStoreTest, EveryLifecycleChangeIsPublished) {
  auto events = events_.Subscribe();
  ASSERT_TRUE(store_->AddSandbox(Pod("aa11", "web")).ok());
  ContainerRecord app = Container("cc11", "aa11", "app");
  ASSERT_TRUE(store_->AddContainer(app, "web/app").ok());
  app.state = ContainerState::kRunning;
  ASSERT_TRUE(store_->UpdateContainer(app).ok());
  ASSERT_TRUE(store_->UpdateContainer(app).ok());  // no change of state: no event
  app.state = ContainerState::kExited;
  ASSERT_TRUE(store_->UpdateContainer(app).ok());
  ASSERT_TRUE(store_->RemoveContainer("cc11").ok());
  std::vector<std::pair<EventType, bool>> seen;
  while (auto event = events->Next(std::chrono::milliseconds(0))) seen.emplace_back(event->type, event->sandbox);
  EXPECT_EQ(seen, (std::vector<std::pair<EventType, bool>>{{EventType::kCreated, true},
                                                            {EventType::kStarted, true},
                                                            {EventType::kCreated, false},
                                                            {EventType::kStarted, false},
                                                            {EventType::kStopped, false},
                                                            {EventType::kDeleted, false}}));
}

TEST_F(RecordStoreTest, AContainerThatVanishesIsStoppedOnceAndEventsCarryThePodsContainers) {
  ASSERT_TRUE(store_->AddSandbox(Pod("aa11", "web")).ok());
  ContainerRecord app = Container("cc11", "aa11", "app");
  ASSERT_TRUE(store_->AddContainer(app, "web/app").ok());
  ASSERT_TRUE(store_->AddContainer(Container("cc22", "aa11", "sidecar"), "web/sidecar").ok());
  app.state = ContainerState::kRunning;
  ASSERT_TRUE(store_->UpdateContainer(app).ok());
  auto events = events_.Subscribe();
  app.state = ContainerState::kUnknown;  // shim and process gone, no exit recorded
  ASSERT_TRUE(store_->UpdateContainer(app).ok());
  app.state = ContainerState::kExited;  // a stop settles it: no second stop
  ASSERT_TRUE(store_->UpdateContainer(app).ok());
  auto stopped = events->Next(std::chrono::milliseconds(0));
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->type, EventType::kStopped);
  ASSERT_NE(stopped->pod_containers, nullptr);
  EXPECT_EQ(stopped->pod_containers->size(), 2u);
  EXPECT_FALSE(events->Next(std::chrono::milliseconds(0)).has_value());
}

TEST(RecordSchemaTest, PodsStoredBeforeVersionTwoKeepTheirNamespace) {
  char tmpl[] = "/tmp/berth-record-schema-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/berth.db";
  {
    const Schema first = {"pods", {RecordSchema().migrations[0]}};
    auto db = StateDb::Open(path, {&first});
    ASSERT_TRUE(db.ok()) << db.status();
    // A record as version 1 wrote it.
    ASSERT_TRUE((*db)->DbForTest().Exec(
        R"(INSERT INTO pods VALUES ('aa11', 'web_team-a_u1_0', 1, 0,
             CAST('{"id": "aa11", "spec": {"name": "web", "namespace": "team-a", "uid": "u1", "run_as_user": 7}}' AS BLOB)))").ok());
  }
  auto db = StateDb::Open(path, {&RecordSchema()});
  ASSERT_TRUE(db.ok()) << db.status();
  RecordStore store(db->get());
  ASSERT_TRUE(store.Load().ok());
  auto pod = store.GetSandbox("aa11");
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(pod->spec.namespace_name, "team-a");
  EXPECT_EQ(pod->spec.run_as_user, 7);
  EXPECT_FALSE(pod->spec.run_as_group.has_value());
  EXPECT_EQ(pod->spec.ReservationKey(), "web_team-a_u1_0");
  (void)RemoveAll(tmpl);
}

}  // namespace
}  // namespace berth::pods
