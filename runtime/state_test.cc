#include "runtime/state.h"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "cgroups/manager.h"
#include "runtime/container.h"
#include "runtime/signals.h"

namespace berth::runtime {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-state-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(StateTest, SavesAndLoads) {
  StateStore store(dir_ + "/state");
  ASSERT_TRUE(store.Reserve("c1").ok());
  EXPECT_EQ(store.Reserve("c1").code(), absl::StatusCode::kAlreadyExists);
  ContainerState state;
  state.id = "c1";
  state.pid = ::getpid();
  ASSERT_TRUE(ProcessStartTime(state.pid).ok());
  state.start_time = *ProcessStartTime(state.pid);
  state.bundle = "/b";
  state.cgroup_path = "/x/y";
  ASSERT_TRUE(store.Save(state).ok());
  auto loaded = store.Load("c1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->pid, state.pid);
  EXPECT_EQ(loaded->start_time, state.start_time);
  EXPECT_EQ(loaded->cgroup_path, "/x/y");
  // Alive, no exec.sock: running.
  EXPECT_EQ(store.Probe(*loaded), ContainerStatus::kRunning);
  // A different start time means the pid was recycled.
  loaded->start_time += 1;
  EXPECT_EQ(store.Probe(*loaded), ContainerStatus::kStopped);
  EXPECT_NE(StateJson(*loaded, ContainerStatus::kStopped).find("\"pid\": 0"), std::string::npos);
  ASSERT_TRUE(store.Remove("c1").ok());
  EXPECT_EQ(store.Load("c1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StateTest, RefusesIdsThatEscape) {
  EXPECT_FALSE(ValidateId("../x").ok());
  EXPECT_FALSE(ValidateId("..").ok());
  EXPECT_FALSE(ValidateId("").ok());
  EXPECT_TRUE(ValidateId("abc-123_x.y").ok());
}

TEST(SignalTest, ParsesNamesAndNumbers) {
  EXPECT_EQ(*ParseSignal("SIGKILL"), 9);
  EXPECT_EQ(*ParseSignal("KILL"), 9);
  EXPECT_EQ(*ParseSignal("term"), 15);
  EXPECT_EQ(*ParseSignal("10"), 10);
  EXPECT_FALSE(ParseSignal("SIGNOPE").ok());
  EXPECT_FALSE(ParseSignal("0").ok());
}

TEST(CgroupPathTest, Normalizes) {
  EXPECT_EQ(*cgroups::NormalizePath("", "abc"), "/berth/abc");
  EXPECT_EQ(*cgroups::NormalizePath("kubepods/pod//ctr", "abc"), "/kubepods/pod/ctr");
  EXPECT_FALSE(cgroups::NormalizePath("/a/../b", "abc").ok());
}

}  // namespace
}  // namespace berth::runtime
