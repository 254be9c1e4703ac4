#include "pods/shim/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "pods/shim/protocol.h"

namespace berth::pods::shim {
namespace {

UniqueFd Pipe(UniqueFd* write_end) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  *write_end = UniqueFd(fds[1]);
  return UniqueFd(fds[0]);
}

// The message part of each CRI log line ("stdout F hello").
std::vector<std::string> LogRecords(const std::string& path) {
  std::vector<std::string> records;
  for (absl::string_view line : absl::StrSplit(ReadFile(path).value_or(""), '\n', absl::SkipEmpty())) {
    records.emplace_back(line.substr(line.find(' ') + 1));
  }
  return records;
}

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-monitor-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // As the shim does: SIGCHLD blocked before the child exists.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    ASSERT_EQ(sigprocmask(SIG_BLOCK, &mask, &old_mask_), 0);
  }
  void TearDown() override {
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    (void)RemoveAll(dir_);
  }

  // A child with the given stdout and stderr that runs body and exits with its result.
  template <typename Body>
  pid_t Child(int out, int err, Body body) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out, 1);
      ::dup2(err, 2);
      _exit(body());
    }
    return pid;
  }

  std::string dir_;
  sigset_t old_mask_;
};

TEST_F(MonitorTest, LogsBothStreamsAndReturnsTheExitCode) {
  UniqueFd out_w, err_w;
  Monitor::Streams streams;
  streams.stdout_read = Pipe(&out_w);
  streams.stderr_read = Pipe(&err_w);
  pid_t child = Child(out_w.get(), err_w.get(), [] {
    (void)!::write(1, "out\n", 4);
    (void)!::write(2, "err\n", 4);
    (void)!::write(1, "tail", 4);
    return 3;
  });
  out_w.Reset();
  err_w.Reset();
  CriLogWriter log(dir_ + "/c.log");
  ASSERT_TRUE(log.Open().ok());
  Monitor monitor(child, std::move(streams), &log);
  EXPECT_EQ(monitor.Run(), 3);
  auto records = LogRecords(dir_ + "/c.log");
  EXPECT_EQ(records.size(), 3u);
  EXPECT_NE(std::find(records.begin(), records.end(), "stdout F out"), records.end());
  EXPECT_NE(std::find(records.begin(), records.end(), "stderr F err"), records.end());
  EXPECT_NE(std::find(records.begin(), records.end(), "stdout P tail"), records.end());
}

TEST_F(MonitorTest, SignalDeathIsOneHundredTwentyEightPlusTheSignal) {
  UniqueFd out_w;
  Monitor::Streams streams;
  streams.stdout_read = Pipe(&out_w);
  pid_t child = Child(out_w.get(), out_w.get(), [] {
    ::raise(SIGKILL);
    return 0;
  });
  out_w.Reset();
  CriLogWriter log(dir_ + "/c.log");
  ASSERT_TRUE(log.Open().ok());
  Monitor monitor(child, std::move(streams), &log);
  EXPECT_EQ(monitor.Run(), 128 + SIGKILL);
}

TEST_F(MonitorTest, ReopensTheLogWhenToldAndDoesNotWaitForeverOnEscapedWriters) {
  UniqueFd out_w, go_w, escaped_w;
  UniqueFd go_r = Pipe(&go_w);
  UniqueFd escaped_r = Pipe(&escaped_w);
  Monitor::Streams streams;
  streams.stdout_read = Pipe(&out_w);
  std::string fifo = dir_ + "/control";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  streams.control = UniqueFd(::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  // The child prints, waits until the log was rotated, prints again and exits,
  // leaving a grandchild that holds stdout open.
  int go = go_r.get(), escaped = escaped_w.get();
  pid_t child = Child(out_w.get(), out_w.get(), [go, escaped] {
    (void)!::write(1, "before\n", 7);
    char c;
    (void)!::read(go, &c, 1);
    (void)!::write(1, "after\n", 6);
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::pause();
      _exit(0);
    }
    (void)!::write(escaped, &grandchild, sizeof grandchild);
    return 0;
  });
  out_w.Reset();
  go_r.Reset();
  escaped_w.Reset();
  std::string path = dir_ + "/c.log";
  CriLogWriter log(path);
  ASSERT_TRUE(log.Open().ok());
  Monitor monitor(child, std::move(streams), &log);
  std::thread rotate([&] {
    // kubelet's rotation: rename, then ask for a reopen, then let the child go on.
    for (int i = 0; i < 2000 && LogRecords(path).empty(); ++i) ::usleep(1000);
    ASSERT_EQ(::rename(path.c_str(), (path + ".1").c_str()), 0);
    UniqueFd control(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
    std::string line = ControlLine(ControlCommand::kReopenLog);
    ASSERT_EQ(::write(control.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
    for (int i = 0; i < 2000 && ::access(path.c_str(), F_OK) != 0; ++i) ::usleep(1000);
    ASSERT_EQ(::write(go_w.get(), "g", 1), 1);
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(monitor.Run(), 0);
  rotate.join();
  pid_t grandchild = 0;
  ASSERT_EQ(::read(escaped_r.get(), &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
  ::kill(grandchild, SIGKILL);  // the process that escaped; init reaps it
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << "waited on the escaped writer";
  EXPECT_EQ(LogRecords(path + ".1"), std::vector<std::string>{"stdout F before"});
  EXPECT_EQ(LogRecords(path), std::vector<std::string>{"stdout F after"});
}

}  // namespace
}  // namespace berth::pods::shim
