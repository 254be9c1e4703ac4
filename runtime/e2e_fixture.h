// The fixture of berth-runtime's end-to-end tests: a busybox rootfs shared by the
// suite, a state directory and cgroup parent per test, and helpers that run the
// runtime binaries (berth-runtime, runc, crun) and read what the container wrote.
// Needs root; everything a test makes is removed in TearDown.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "cgroups/cgroups.h"
#include "base/unique_fd.h"

namespace berth::runtime_test {


using nlohmann::json;

inline constexpr char kBerthRuntime[] = BERTH_RUNTIME_BINARY;
inline constexpr char kRunc[] = "/usr/sbin/runc";
inline constexpr char kCrun[] = "/usr/bin/crun";
inline constexpr char kCgroupParent[] = "/berth-rt-e2e";
inline constexpr char kCgroupRoot[] = "/sys/fs/cgroup";

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFd(int fd) {
  std::string data;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, n);
  return data;
}

// Runs argv with stdout and stderr captured in memfds; stdout goes to stdout_fd
// instead when given (the container inherits it from `create`).
inline Result RunCommand(const std::vector<std::string>& argv, int stdout_fd = -1) {
  UniqueFd out(::memfd_create("out", MFD_CLOEXEC));
  UniqueFd err(::memfd_create("err", MFD_CLOEXEC));
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(stdout_fd >= 0 ? stdout_fd : out.get(), 1);
    ::dup2(err.get(), 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  Result result;
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFd(out.get());
  result.err = ReadFd(err.get());
  return result;
}

// Reads a pipe until EOF (every writer, i.e. the container, has exited), with a
// deadline so a broken test cannot hang.
inline std::string ReadUntilEof(int fd, int timeout_ms = 20000) {
  std::string data;
  char buf[4096];
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    data.append(buf, n);
  }
  return data;
}

// Reads a pipe until it holds `want`.
inline std::string ReadUntil(int fd, absl::string_view want, int timeout_ms = 20000) {
  std::string data;
  char buf[4096];
  while (data.find(std::string(want)) == std::string::npos) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    data.append(buf, n);
  }
  return data;
}

inline int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

inline std::vector<std::string> CgroupHierarchies() {
  return {"memory", "pids", "cpu", "cpuset", "devices", "freezer", "blkio", "systemd"};
}

inline std::string Trimmed(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

class RuntimeE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    // The inits are reparented to us when `create` exits; we reap them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    char tmpl[] = "/tmp/berth-rt-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    *suite_dir_ = tmpl;
    std::string bin = *suite_dir_ + "/rootfs/bin";
    ASSERT_TRUE(MakeDirs(bin).ok());
    for (const char* dir : {"proc", "sys", "dev", "tmp", "etc"}) {
      ASSERT_EQ(::mkdir((*suite_dir_ + "/rootfs/" + dir).c_str(), 0755), 0);
    }
    Result copy = RunCommand({"/bin/cp", "/bin/busybox", bin + "/busybox"});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    Result list = RunCommand({bin + "/busybox", "--list"});
    ASSERT_EQ(list.exit_code, 0);
    for (auto applet : absl::StrSplit(list.out, '\n', absl::SkipEmpty())) {
      if (applet == "busybox") continue;
      ::link((bin + "/busybox").c_str(), absl::StrCat(bin, "/", applet).c_str());
    }
  }

  static void TearDownTestSuite() {
    if (!suite_dir_->empty()) (void)RemoveAll(*suite_dir_);
    // Every hierarchy, the named and unified ones included, had the parent made.
    auto layout = cgroups::DetectLayout();
    if (layout.ok()) cgroups::RemoveIfEmpty(*layout, kCgroupParent);
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/berth-rt-case-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    state_ = dir_ + "/state";
  }

  void TearDown() override {
    for (const auto& [runtime, id] : created_) RunCommand({runtime, "--root", state_, "delete", "--force", id});
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    for (const auto& [runtime, id] : created_) {
      for (const auto& h : CgroupHierarchies()) ::rmdir(CgroupDir(h, id).c_str());
    }
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }

  std::string CgroupDir(const std::string& hierarchy, const std::string& id) {
    return absl::StrCat(kCgroupRoot, "/", hierarchy, kCgroupParent, "/", id);
  }

  json Config(const std::string& id, const std::vector<std::string>& args) {
    json caps = {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_NET_BIND_SERVICE"};
    return {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"args", args},
          {"env", {"PATH=/bin", "HOME=/"}},
          {"cwd", "/"},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"capabilities",
           {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"inheritable", json::array()}}},
          {"noNewPrivileges", true}}},
        {"root", {{"path", *suite_dir_ + "/rootfs"}, {"readonly", true}}},
        {"hostname", "boxy"},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
          {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
           {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
          {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
           {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
          {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
           {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
          {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"},
           {"options", {"nosuid", "noexec", "nodev"}}},
          {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
           {"options", {"nosuid", "noexec", "nodev", "ro"}}},
          {{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"mode=1777"}}}}},
        {"linux",
         {{"namespaces",
           {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}},
          {"cgroupsPath", absl::StrCat(kCgroupParent, "/", id)},
          {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
          {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/acpi"}},
          {"readonlyPaths", {"/proc/sys", "/proc/bus"}}}},
    };
  }

  std::string WriteBundle(const std::string& name, const json& config) {
    std::string bundle = dir_ + "/" + name;
    EXPECT_TRUE(MakeDirs(bundle).ok());
    EXPECT_TRUE(WriteFileAtomically(bundle + "/config.json", config.dump()).ok());
    return bundle;
  }

  // `create`; the container's stdout is the write end of a pipe whose read end is
  // returned in *out. Returns the init pid, or 0.
  pid_t Create(const std::string& runtime, const std::string& id, const json& config, UniqueFd* out,
               Result* result = nullptr) {
    std::string bundle = WriteBundle(id, config);
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd read_end(p[0]), write_end(p[1]);
    std::string pid_file = dir_ + "/" + id + ".pid";
    Result r = RunCommand({runtime, "--root", state_, "create", "--bundle", bundle, "--pid-file", pid_file, id},
                   write_end.get());
    if (result) *result = r;
    if (r.exit_code != 0) {
      if (!result) ADD_FAILURE() << runtime << " create failed: " << r.err;
      return 0;
    }
    created_.emplace_back(runtime, id);
    auto pid_text = ReadFile(pid_file);
    EXPECT_TRUE(pid_text.ok());
    pid_t pid = std::stoi(Trimmed(*pid_text));
    pids_.push_back(pid);
    *out = std::move(read_end);
    return pid;
  }

  json State(const std::string& runtime, const std::string& id) {
    Result r = RunCommand({runtime, "--root", state_, "state", id});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    try {
      return json::parse(r.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "state output: " << r.out;
      return json::object();
    }
  }

  // Runs args in a fresh container to completion; returns its stdout and exit code.
  std::pair<std::string, int> RunContainer(const std::string& id, const json& config,
                                           const std::string& runtime = kBerthRuntime) {
    UniqueFd out;
    pid_t pid = Create(runtime, id, config, &out);
    if (pid == 0) return {"", -1};
    Result start = RunCommand({runtime, "--root", state_, "start", id});
    EXPECT_EQ(start.exit_code, 0) << start.err;
    std::string output = ReadUntilEof(out.get());
    int code = WaitExit(pid);
    return {output, code};
  }

  bool HostHasMountUnder(const std::string& prefix) {
    auto mounts = ReadFile("/proc/self/mountinfo");
    return mounts.ok() && mounts->find(prefix) != std::string::npos;
  }

  void ExpectGone(const std::string& id) {
    EXPECT_FALSE(Exists(state_ + "/" + id));
    for (const auto& h : CgroupHierarchies()) EXPECT_FALSE(Exists(CgroupDir(h, id))) << h;
    EXPECT_FALSE(HostHasMountUnder(*suite_dir_));
    EXPECT_FALSE(HostHasMountUnder(dir_));
  }

  static inline std::string* suite_dir_ = new std::string;
  std::string dir_;
  std::string state_;
  std::vector<std::pair<std::string, std::string>> created_;
  std::vector<pid_t> pids_;
};


}  // namespace berth::runtime_test
