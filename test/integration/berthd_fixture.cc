#include "test/integration/berthd_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fault_point.h"
#include "base/file_util.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth::testing {
namespace {

constexpr char kLoopbackPlugin[] = "/usr/lib/cni/loopback";
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(30);

}  // namespace

ExitResult WaitForChildExit(pid_t pid, std::chrono::milliseconds timeout) {
  ExitResult result;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd) {
    pollfd pfd{pidfd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) == 0) {
      ADD_FAILURE() << "pid " << pid << " did not exit within " << timeout.count() << "ms; killing it";
      ::kill(pid, SIGKILL);
    }
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

pid_t SpawnLogged(const std::string& path, const std::vector<std::string>& args,
                  const std::string& log_path, int ready_fd, const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv_storage = {path};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  if (ready_fd >= 0) posix_spawn_file_actions_adddup2(&actions, ready_fd, 3);
  std::vector<std::string> env_storage = extra_env;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  std::vector<char*> env;
  for (auto& entry : env_storage) env.push_back(entry.data());
  env.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "spawn " << path << ": " << strerror(rc);
    return -1;
  }
  return pid;
}

void BerthdFixture::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "integration tests run berthd as root";
  char tmpl[] = "/tmp/berth-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  root_ = dir_ + "/root";
  state_ = dir_ + "/run";
  socket_ = dir_ + "/run/berth.sock";
  cni_conf_ = dir_ + "/net.d";
  cni_bin_ = dir_ + "/cni-bin";
  ASSERT_TRUE(MakeDirs(cni_conf_).ok());
  ASSERT_TRUE(MakeDirs(cni_bin_).ok());
  // Pods need a network config: a loopback-only one gives them a namespace with lo
  // up and no addresses. Network tests bring their own.
  ASSERT_EQ(::symlink(kLoopbackPlugin, (cni_bin_ + "/loopback").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(cni_conf_ + "/99-loopback.conflist",
                                  R"({"cniVersion":"1.0.0","name":"berth-test-lo","plugins":[{"type":"loopback"}]})")
                  .ok());
  before_ = HostSnapshot::Take(dir_);
}

void BerthdFixture::RemoveDefaultNetwork() {
  ASSERT_EQ(::unlink((cni_conf_ + "/99-loopback.conflist").c_str()), 0);
}

void BerthdFixture::TearDown() {
  if (dir_.empty()) return;
  client_.reset();
  if (berthd_pid_ > 0) {
    ExitResult result = StopBerthd(SIGTERM);
    EXPECT_EQ(result.exit_code, 0) << "berthd did not exit cleanly on SIGTERM:\n" << result.log;
  }
  CleanUpHost();
  std::vector<std::string> leaks = FindLeaks(before_, HostSnapshot::Take(dir_));
  EXPECT_TRUE(leaks.empty()) << "left on the host:\n  " << absl::StrJoin(leaks, "\n  ");
  // The directory stays when something leaked: say what, beside berthd's log, so a
  // rare leak can be read after the test output is gone.
  if (!leaks.empty()) (void)WriteFileAtomically(dir_ + "/leaks.txt", absl::StrJoin(leaks, "\n") + "\n");
  if (HasFailure()) {
    auto log = ReadFile(berthd_log_);
    if (log.ok()) std::cerr << "---- berthd log ----\n" << *log << "--------------------\n";
  }
  // Only remove the directory once nothing is mounted below it.
  if (leaks.empty()) (void)RemoveAll(dir_);
}

std::vector<std::string> BerthdFixture::DirFlags() const {
  return {"--root", root_, "--state-dir", state_, "--socket", socket_,
          "--cni-conf-dir", cni_conf_, "--cni-bin-dir", cni_bin_};
}

void BerthdFixture::StartBerthd(const std::vector<std::string>& extra_flags) {
  ASSERT_LT(berthd_pid_, 0) << "berthd already running";
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  last_extra_flags_ = extra_flags;
  std::vector<std::string> flags = DirFlags();
  flags.insert(flags.end(), {"--log-level", "debug", "--ready-fd", "3"});
  flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
  berthd_log_ = dir_ + "/berthd.log";
  berthd_pid_ = SpawnLogged(BERTHD_PATH, flags, berthd_log_, write_end.get(), BerthdEnv());
  ASSERT_GT(berthd_pid_, 0);
  write_end.Reset();
  // READY arrives once the socket serves; EOF without it means berthd died.
  pollfd pfd{read_end.get(), POLLIN, 0};
  int ready = ::poll(&pfd, 1, static_cast<int>(std::chrono::milliseconds(kStartTimeout).count()));
  char buf[16] = {};
  ssize_t n = ready > 0 ? ::read(read_end.get(), buf, sizeof buf - 1) : -1;
  if (n <= 0 || std::string(buf).rfind("READY", 0) != 0) {
    ExitResult result = StopBerthd(SIGKILL);
    FAIL() << "berthd did not become ready (exit " << result.exit_code << "):\n" << result.log;
  }
}

ExitResult BerthdFixture::StopBerthd(int sig) {
  ExitResult result;
  // The next berthd is a new server: start a new connection to it.
  client_.reset();
  if (berthd_pid_ <= 0) return result;
  ::kill(berthd_pid_, sig);
  result = WaitForChildExit(berthd_pid_, kStopTimeout);
  berthd_pid_ = -1;
  result.log = ReadFile(berthd_log_).value_or("");
  return result;
}

std::vector<std::string> BerthdFixture::BerthdEnv() const {
  if (fault_point_.empty()) return {};
  return {absl::StrCat(kFaultPointVariable, "=", fault_point_)};
}

void BerthdFixture::AwaitFaultPointDeath() {
  ASSERT_GT(berthd_pid_, 0) << "no berthd is running";
  client_.reset();
  ExitResult result = WaitForChildExit(berthd_pid_, kStopTimeout);
  berthd_pid_ = -1;
  result.log = ReadFile(berthd_log_).value_or("");
  std::string point = fault_point_;
  fault_point_.clear();
  ASSERT_EQ(result.signal, SIGKILL) << "berthd did not die at " << point << ":\n" << result.log;
  ASSERT_NE(result.log.find(absl::StrCat("fault point ", point, " reached")), std::string::npos) << result.log;
}

void BerthdFixture::StartBerthdToFaultPoint() {
  ASSERT_LT(berthd_pid_, 0) << "berthd already running";
  ASSERT_FALSE(fault_point_.empty()) << "no fault point armed";
  std::vector<std::string> flags = DirFlags();
  flags.insert(flags.end(), {"--log-level", "debug"});
  flags.insert(flags.end(), last_extra_flags_.begin(), last_extra_flags_.end());
  berthd_pid_ = SpawnLogged(BERTHD_PATH, flags, berthd_log_, -1, BerthdEnv());
  ASSERT_GT(berthd_pid_, 0);
  AwaitFaultPointDeath();
}

ExitResult BerthdFixture::RunBerthdToExit(const std::vector<std::string>& flags) {
  std::string log = dir_ + "/berthd-run.log";
  (void)std::filesystem::remove(log);
  pid_t pid = SpawnLogged(BERTHD_PATH, flags, log, -1, BerthdEnv());
  if (pid <= 0) return {};
  ExitResult result = WaitForChildExit(pid, kStartTimeout);
  result.log = ReadFile(log).value_or("");
  return result;
}

ExitResult BerthdFixture::RunBerthctl(const std::vector<std::string>& args) {
  std::string log = dir_ + "/berthctl.log";
  (void)std::filesystem::remove(log);
  std::vector<std::string> full = {"--endpoint", "unix://" + socket_};
  full.insert(full.end(), args.begin(), args.end());
  pid_t pid = SpawnLogged(BERTHCTL_PATH, full, log, -1);
  if (pid <= 0) return {};
  ExitResult result = WaitForChildExit(pid, kStartTimeout);
  result.log = ReadFile(log).value_or("");
  return result;
}

cri::CriClient& BerthdFixture::client() {
  if (!client_) client_ = std::make_unique<cri::CriClient>(socket_);
  return *client_;
}

}  // namespace berth::testing
