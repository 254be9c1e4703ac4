#include "pods/events.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "base/process.h"
#include "base/state_db.h"
#include "pods/exit_watcher.h"
#include "pods/record_store.h"
#include "pods/schema.h"

namespace berth::pods {
namespace {

Event ContainerEvent(EventType type, const std::string& id, int64_t timestamp) {
  Event event;
  event.type = type;
  event.id = id;
  event.pod_id = "p";
  event.timestamp = timestamp;
  return event;
}

TEST(EventBusTest, EverySubscriberSeesEveryEventInOrder) {
  EventBus bus;
  auto first = bus.Subscribe();
  auto second = bus.Subscribe();
  bus.Publish(ContainerEvent(EventType::kCreated, "c", 1));
  bus.Publish(ContainerEvent(EventType::kStarted, "c", 2));
  for (auto& sub : {first, second}) {
    EXPECT_EQ(sub->Next(std::chrono::milliseconds(0))->type, EventType::kCreated);
    EXPECT_EQ(sub->Next(std::chrono::milliseconds(0))->type, EventType::kStarted);
    EXPECT_FALSE(sub->Next(std::chrono::milliseconds(0)).has_value());
  }
}

TEST(EventBusTest, ASubscriberThatFallsBehindIsDroppedNotWaitedFor) {
  EventBus bus;
  auto slow = bus.Subscribe(/*capacity=*/2);
  auto fast = bus.Subscribe(/*capacity=*/100);
  for (int i = 0; i < 10; ++i) bus.Publish(ContainerEvent(EventType::kCreated, std::to_string(i), i));
  EXPECT_TRUE(slow->dropped());
  EXPECT_EQ(bus.dropped_subscribers(), 1u);
  // What it had queued is still readable; then it has ended.
  EXPECT_EQ(slow->Next(std::chrono::milliseconds(0))->id, "0");
  EXPECT_EQ(slow->Next(std::chrono::milliseconds(0))->id, "1");
  EXPECT_FALSE(slow->Next(std::chrono::milliseconds(0)).has_value());
  int got = 0;
  while (fast->Next(std::chrono::milliseconds(0))) ++got;
  EXPECT_EQ(got, 10);
}

TEST(EventBusTest, CloseAllEndsEverySubscriptionAndLaterOnes) {
  EventBus bus;
  EXPECT_FALSE(bus.has_subscribers());
  auto sub = bus.Subscribe(4);
  EXPECT_TRUE(bus.has_subscribers());
  bus.CloseAll();
  EXPECT_TRUE(sub->ended());
  EXPECT_FALSE(sub->dropped());
  EXPECT_FALSE(sub->Next(std::chrono::hours(1)).has_value());  // at once, not after the timeout
  EXPECT_TRUE(bus.Subscribe(4)->ended());
  EXPECT_FALSE(bus.has_subscribers());
}

TEST(RecordStoreEventsTest, LifecycleChangesArePublishedAsRecorded) {
  char tmpl[] = "/tmp/berth-events-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  {
    auto db = StateDb::Open(dir + "/berth.db", {&RecordSchema()});
    ASSERT_TRUE(db.ok()) << db.status();
    EventBus bus;
    auto events = bus.Subscribe();
    RecordStore records(db->get(), &bus);
    ASSERT_TRUE(records.Load().ok());
    SandboxRecord pod;
    pod.id = "p";
    pod.spec.name = "pod";
    ASSERT_TRUE(records.AddSandbox(pod).ok());
    ContainerRecord container;
    container.id = "c";
    container.pod_id = "p";
    ASSERT_TRUE(records.AddContainer(container, "c_pod").ok());
    container.pid = 7;  // not a state change: no event
    ASSERT_TRUE(records.UpdateContainer(container).ok());
    container.state = ContainerState::kRunning;
    ASSERT_TRUE(records.UpdateContainer(container).ok());
    container.state = ContainerState::kExited;
    ASSERT_TRUE(records.UpdateContainer(container).ok());
    ASSERT_TRUE(records.RemoveContainer("c").ok());
    pod.state = SandboxState::kNotReady;
    ASSERT_TRUE(records.UpdateSandbox(pod).ok());
    ASSERT_TRUE(records.RemoveSandbox("p").ok());
    std::vector<std::string> seen;
    while (auto event = events->Next(std::chrono::milliseconds(0))) {
      static const char* kNames[] = {"created", "started", "stopped", "deleted"};
      seen.push_back(std::string(event->sandbox ? "pod " : "container ") + kNames[static_cast<int>(event->type)]);
      // Each carries the records as the change left them: the pod's always (a
      // deleted pod's as it was), the container's on its own events.
      ASSERT_NE(event->pod, nullptr);
      EXPECT_EQ(event->pod->id, "p");
      EXPECT_EQ(event->container != nullptr, !event->sandbox);
      if (event->container) {
        EXPECT_EQ(event->container->id, "c");
      }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"pod created", "pod started", "container created", "container started",
                                              "container stopped", "container deleted", "pod stopped",
                                              "pod deleted"}));
  }
  (void)RemoveAll(dir);
}

TEST(ExitWatcherTest, ReportsAnExitWhenItHappensAndAGoneProcessAtOnce) {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> exits;
  ExitWatcher watcher([&](const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    exits.push_back(id);
    changed.notify_all();
  });
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  if (child == 0) {
    char c;
    (void)!::read(go[0], &c, 1);
    _exit(0);
  }
  ::close(go[0]);
  watcher.Watch("running", child, ProcessStartTime(child));
  watcher.Watch("never-was", 0, 0);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return exits.size() == 1; }));
    EXPECT_EQ(exits[0], "never-was");
  }
  ASSERT_EQ(::write(go[1], "x", 1), 1);  // let the child exit
  ::close(go[1]);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(10), [&] { return exits.size() == 2; }));
    EXPECT_EQ(exits[1], "running");
  }
  ::waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace berth::pods
