// End-to-end tests of the berth-runtime binary (and, for comparison, runc) on a
// busybox bundle. They need root and cgroups; every test removes what it made:
// containers by pid, cgroup directories, temporary directories.
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
#include "runtime/errors.h"

namespace berth {
namespace {

using nlohmann::json;

constexpr char kBerthRuntime[] = BERTH_RUNTIME_BINARY;
constexpr char kRunc[] = "/usr/sbin/runc";
constexpr char kCrun[] = "/usr/bin/crun";
constexpr char kCgroupParent[] = "/berth-rt-e2e";
constexpr char kCgroupRoot[] = "/sys/fs/cgroup";

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFd(int fd) {
  std::string data;
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, n);
  return data;
}

// Runs argv with stdout and stderr captured in memfds; stdout goes to stdout_fd
// instead when given (the container inherits it from `create`).
Result RunCommand(const std::vector<std::string>& argv, int stdout_fd = -1) {
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
std::string ReadUntilEof(int fd, int timeout_ms = 20000) {
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
std::string ReadUntil(int fd, absl::string_view want, int timeout_ms = 20000) {
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

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<std::string> CgroupHierarchies() {
  return {"memory", "pids", "cpu", "cpuset", "devices", "freezer", "blkio", "systemd"};
}

std::string Trimmed(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

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

  static std::string* suite_dir_;
  std::string dir_;
  std::string state_;
  std::vector<std::pair<std::string, std::string>> created_;
  std::vector<pid_t> pids_;
};

std::string* RuntimeE2eTest::suite_dir_ = new std::string;

TEST_F(RuntimeE2eTest, CreateStartEchoHelloAndExitCode) {
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "hello", Config("hello", {"sh", "-c", "echo hello; exit 3"}), &out);
  ASSERT_GT(pid, 0);
  json state = State(kBerthRuntime, "hello");
  EXPECT_EQ(state["status"], "created");
  EXPECT_EQ(state["id"], "hello");
  EXPECT_EQ(state["pid"], pid);
  EXPECT_EQ(state["bundle"], dir_ + "/hello");
  EXPECT_TRUE(state.contains("created"));
  Result start = RunCommand({kBerthRuntime, "--root", state_, "start", "hello"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(ReadUntilEof(out.get()), "hello\n");
  EXPECT_EQ(WaitExit(pid), 3);
  EXPECT_EQ(State(kBerthRuntime, "hello")["status"], "stopped");
  Result del = RunCommand({kBerthRuntime, "--root", state_, "delete", "hello"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  ExpectGone("hello");
}

TEST_F(RuntimeE2eTest, NewNamespacesGivePidOneAndHostname) {
  auto [out, code] = RunContainer(
      "ns", Config("ns", {"sh", "-c", "echo $$ $(hostname) $(ls /sys/class/net) $(readlink /dev/ptmx)"}));
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "1 boxy lo pts/ptmx\n");
}

TEST_F(RuntimeE2eTest, CapabilitiesMatchTheSpec) {
  auto [out, code] = RunContainer("caps", Config("caps", {"grep", "-E", "^Cap(Eff|Bnd|Prm|Inh)", "/proc/self/status"}));
  EXPECT_EQ(code, 0);
  // CAP_CHOWN(0) CAP_KILL(5) CAP_SETGID(6) CAP_SETUID(7) CAP_NET_BIND_SERVICE(10)
  EXPECT_NE(out.find("CapEff:\t00000000000004e1"), std::string::npos) << out;
  EXPECT_NE(out.find("CapBnd:\t00000000000004e1"), std::string::npos) << out;
  EXPECT_NE(out.find("CapInh:\t0000000000000000"), std::string::npos) << out;
}

TEST_F(RuntimeE2eTest, UserAndNoNewPrivileges) {
  json config = Config("user", {"sh", "-c", "id -u; id -g; grep NoNewPrivs /proc/self/status"});
  config["process"]["user"] = {{"uid", 1234}, {"gid", 5678}};
  auto [out, code] = RunContainer("user", config);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "1234\n5678\nNoNewPrivs:\t1\n");
}

TEST_F(RuntimeE2eTest, ReadonlyRootfsRefusesWrites) {
  auto [out, code] = RunContainer("ro", Config("ro", {"sh", "-c", "touch /x 2>&1; echo rc=$?; touch /tmp/y && echo tmp ok"}));
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=1"), std::string::npos) << out;
  EXPECT_NE(out.find("tmp ok"), std::string::npos) << out;
}

TEST_F(RuntimeE2eTest, MaskedAndReadonlyPaths) {
  auto [out, code] = RunContainer(
      "mask", Config("mask", {"sh", "-c",
                              "wc -c < /proc/keys; ls /proc/acpi | wc -l; test -e /proc/kcore && wc -c < /proc/kcore; "
                              "echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sys ro"}));
  EXPECT_EQ(code, 0);
  // /proc/keys (a file) reads empty, /proc/acpi (a directory) lists nothing; this
  // host's kernel has no /proc/kcore, but where it exists it reads empty too.
  EXPECT_TRUE(out == "0\n0\nsys ro\n" || out == "0\n0\n0\nsys ro\n") << out;
}

TEST_F(RuntimeE2eTest, SeccompRuleBlocksSethostname) {
  json config = Config("seccomp", {"sh", "-c", "hostname other 2>&1; echo rc=$?; hostname"});
  // With CAP_SYS_ADMIN sethostname would succeed; the filter answers EACCES instead.
  config["process"]["capabilities"]["bounding"].push_back("CAP_SYS_ADMIN");
  config["process"]["capabilities"]["effective"].push_back("CAP_SYS_ADMIN");
  config["process"]["capabilities"]["permitted"].push_back("CAP_SYS_ADMIN");
  config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
      {"syscalls", {{{"names", {"sethostname"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", EACCES}}}}};
  auto [out, code] = RunContainer("seccomp", config);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("Permission denied"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=1"), std::string::npos) << out;
  EXPECT_NE(out.find("boxy"), std::string::npos) << out;
}

TEST_F(RuntimeE2eTest, CgroupLimitsAppliedAndUpdated) {
  json config = Config("limits", {"sleep", "1000"});
  config["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
  config["linux"]["resources"]["pids"] = {{"limit", 50}};
  config["linux"]["resources"]["cpu"] = {{"shares", 512}, {"quota", 50000}, {"period", 100000}};
  config["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 0}}};  // no hugetlb here: skipped
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "limits", config, &out);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Trimmed(*ReadFile(CgroupDir("memory", "limits") + "/memory.limit_in_bytes")), "67108864");
  EXPECT_EQ(Trimmed(*ReadFile(CgroupDir("pids", "limits") + "/pids.max")), "50");
  EXPECT_EQ(Trimmed(*ReadFile(CgroupDir("cpu", "limits") + "/cpu.shares")), "512");
  EXPECT_EQ(Trimmed(*ReadFile(CgroupDir("cpu", "limits") + "/cpu.cfs_quota_us")), "50000");
  EXPECT_NE(ReadFile(CgroupDir("pids", "limits") + "/cgroup.procs")->find(absl::StrCat(pid)), std::string::npos);

  std::string resources = dir_ + "/resources.json";
  ASSERT_TRUE(WriteFileAtomically(resources, R"({"memory": {"limit": 134217728}, "pids": {"limit": 99}})").ok());
  Result update = RunCommand({kBerthRuntime, "--root", state_, "update", "--resources", resources, "limits"});
  EXPECT_EQ(update.exit_code, 0) << update.err;
  EXPECT_EQ(Trimmed(*ReadFile(CgroupDir("memory", "limits") + "/memory.limit_in_bytes")), "134217728");
  EXPECT_EQ(Trimmed(*ReadFile(CgroupDir("pids", "limits") + "/pids.max")), "99");

  // A created container is deleted without --force; its init dies.
  Result del = RunCommand({kBerthRuntime, "--root", state_, "delete", "limits"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
  ExpectGone("limits");
}

TEST_F(RuntimeE2eTest, ExecJoinsTheContainerThenKillAndDelete) {
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "exec", Config("exec", {"sh", "-c", "echo up; exec sleep 1000"}), &out);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(RunCommand({kBerthRuntime, "--root", state_, "start", "exec"}).exit_code, 0);
  ASSERT_NE(ReadUntil(out.get(), "up\n").find("up"), std::string::npos);
  EXPECT_EQ(State(kBerthRuntime, "exec")["status"], "running");

  json process = {{"args", {"sh", "-c", "echo $(cat /proc/1/comm) $(hostname) $(cat /proc/self/cgroup | grep pids:); exit 7"}},
                  {"env", {"PATH=/bin"}},
                  {"cwd", "/"},
                  {"user", {{"uid", 0}, {"gid", 0}}}};
  std::string process_file = dir_ + "/process.json";
  ASSERT_TRUE(WriteFileAtomically(process_file, process.dump()).ok());
  Result exec = RunCommand({kBerthRuntime, "--root", state_, "exec", "--process", process_file, "exec"});
  EXPECT_EQ(exec.exit_code, 7) << exec.err;
  EXPECT_EQ(exec.out, absl::StrCat("sleep boxy 8:pids:", kCgroupParent, "/exec\n")) << exec.err;

  // Detached: exits at once, the pid file names the process, which we reap.
  process["args"] = {"sleep", "1000"};
  ASSERT_TRUE(WriteFileAtomically(process_file, process.dump()).ok());
  std::string pid_file = dir_ + "/exec-detached.pid";
  Result detached = RunCommand({kBerthRuntime, "--root", state_, "exec", "--detach", "--pid-file", pid_file,
                         "--process", process_file, "exec"});
  EXPECT_EQ(detached.exit_code, 0) << detached.err;
  pid_t exec_pid = std::stoi(Trimmed(*ReadFile(pid_file)));
  pids_.push_back(exec_pid);

  Result failed = RunCommand({kBerthRuntime, "--root", state_, "exec", "exec", "no-such-command"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find("executable file not found"), std::string::npos) << failed.err;

  Result del = RunCommand({kBerthRuntime, "--root", state_, "delete", "exec"});
  EXPECT_NE(del.exit_code, 0);  // running, no --force
  Result kill = RunCommand({kBerthRuntime, "--root", state_, "kill", "exec", "KILL"});
  EXPECT_EQ(kill.exit_code, 0) << kill.err;
  // pid 1 of the namespace takes the exec'd process along; the kernel finishes pid 1's
  // exit only once the others are reaped, so they are waited for first.
  EXPECT_EQ(WaitExit(exec_pid), 128 + SIGKILL);
  EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
  EXPECT_EQ(State(kBerthRuntime, "exec")["status"], "stopped");
  del = RunCommand({kBerthRuntime, "--root", state_, "delete", "exec"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  ExpectGone("exec");
}

TEST_F(RuntimeE2eTest, FailedCreateLeavesNothingBehind) {
  UniqueFd out;
  Result result;
  pid_t pid = Create(kBerthRuntime, "bad", Config("bad", {"no-such-command"}), &out, &result);
  EXPECT_EQ(pid, 0);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("executable file not found in $PATH"), std::string::npos) << result.err;
  ExpectGone("bad");

  json config = Config("bad2", {"true"});
  config["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", "/no/such/dir"}});
  pid = Create(kBerthRuntime, "bad2", config, &out, &result);
  EXPECT_EQ(pid, 0);
  EXPECT_NE(result.err.find("/no/such/dir"), std::string::npos) << result.err;
  ExpectGone("bad2");

  // A profile that cannot be applied is an error, never an unconfined process.
  config = Config("bad3", {"true"});
  config["process"]["apparmorProfile"] = "berth-test-no-such-profile";
  pid = Create(kBerthRuntime, "bad3", config, &out, &result);
  EXPECT_EQ(pid, 0);
  EXPECT_NE(result.err.find("berth-test-no-such-profile"), std::string::npos) << result.err;
  ExpectGone("bad3");
}

// berth-runtime takes bundles from any caller, as runc does: it must refuse a sysctl
// (or a hostname) that would change the host, not only berthd.
TEST_F(RuntimeE2eTest, SysctlsOutsideTheContainersNamespacesAreRefused) {
  const std::string host_core_pattern = ReadFile("/proc/sys/kernel/core_pattern").value_or("");
  const std::string host_port_start = ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start").value_or("");
  auto without = [](json config, const std::string& type) {
    json kept = json::array();
    for (const auto& ns : config["linux"]["namespaces"]) {
      if (ns["type"] != type) kept.push_back(ns);
    }
    config["linux"]["namespaces"] = kept;
    return config;
  };
  auto joining_host = [&](json config, const std::string& type, const std::string& proc) {
    config = without(config, type);
    config["linux"]["namespaces"].push_back({{"type", type}, {"path", absl::StrCat("/proc/", ::getpid(), "/ns/", proc)}});
    return config;
  };
  struct Case {
    std::string id;
    json config;
    std::string sysctl;
    std::string says;
  };
  std::vector<Case> cases = {
      {"core", Config("core", {"true"}), "kernel.core_pattern", "not namespaced"},
      {"nonet", without(Config("nonet", {"true"}), "network"), "net.ipv4.ip_forward", "private network namespace"},
      {"hostnet", joining_host(Config("hostnet", {"true"}), "network", "net"), "net.ipv4.ip_forward",
       "private network namespace"},
      {"noipc", without(Config("noipc", {"true"}), "ipc"), "kernel.shmmni", "private IPC namespace"},
      {"hostipc", joining_host(Config("hostipc", {"true"}), "ipc", "ipc"), "fs.mqueue.msg_max",
       "private IPC namespace"},
      {"nouts", without(Config("nouts", {"true"}), "uts"), "kernel.domainname", "private UTS namespace"},
  };
  for (auto& c : cases) {
    c.config.erase("hostname");
    c.config["linux"]["sysctl"] = {{c.sysctl, c.sysctl == "kernel.core_pattern" ? "|/tmp/x" : "20"}};
    UniqueFd out;
    Result result;
    EXPECT_EQ(Create(kBerthRuntime, c.id, c.config, &out, &result), 0) << c.id;
    EXPECT_NE(result.err.find(c.sysctl), std::string::npos) << c.id << ": " << result.err;
    EXPECT_NE(result.err.find(c.says), std::string::npos) << c.id << ": " << result.err;
    ExpectGone(c.id);
  }
  // A hostname needs a UTS namespace of the container's own too.
  UniqueFd out;
  Result result;
  EXPECT_EQ(Create(kBerthRuntime, "hostname", without(Config("hostname", {"true"}), "uts"), &out, &result), 0);
  EXPECT_NE(result.err.find("private UTS namespace"), std::string::npos) << result.err;
  ExpectGone("hostname");
  EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern").value_or(""), host_core_pattern);

  // Namespaced ones are written inside, whole (a value with a space is one value).
  json config = Config("ok", {"cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/kernel/shmmni",
                              "/proc/sys/net/ipv4/ping_group_range"});
  config["linux"]["sysctl"] = {{"net.ipv4.ip_unprivileged_port_start", "222"},
                               {"kernel.shmmni", "2048"},
                               {"net.ipv4.ping_group_range", "0 2147483647"}};
  auto [output, code] = RunContainer("ok", config);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(output, "222\n2048\n0\t2147483647\n");
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start").value_or(""), host_port_start);
}

// A failure keeps its meaning on its way to CRI: berth-runtime tags it with its
// code, runc's words are mapped through one table (runtime/errors.h).
TEST_F(RuntimeE2eTest, FailuresAreClassifiedAlikeForBerthRuntimeAndRunc) {
  Result berth = RunCommand({kBerthRuntime, "--root", state_, "kill", "no-such-container", "9"});
  EXPECT_NE(berth.exit_code, 0);
  EXPECT_EQ(berth.err.rfind("berth-runtime: [NOT_FOUND] kill: ", 0), 0u) << berth.err;
  EXPECT_EQ(runtime::ClassifyRuntimeError("berth", "kill", berth.exit_code, berth.err).code(),
            StatusCode::kNotFound);
  if (::access(kRunc, X_OK) != 0) return;
  Result runc = RunCommand({kRunc, "--root", state_, "kill", "no-such-container", "9"});
  EXPECT_NE(runc.exit_code, 0);
  EXPECT_EQ(runtime::ClassifyRuntimeError("runc", "kill", runc.exit_code, runc.err).code(), StatusCode::kNotFound)
      << runc.err;
}

TEST_F(RuntimeE2eTest, SymlinkedMountTargetStaysInsideRootfs) {
  // An image whose /data links to a host path must not get a mount on the host.
  std::string rootfs = dir_ + "/evil-rootfs";
  ASSERT_TRUE(MakeDirs(rootfs + "/bin").ok());
  ASSERT_EQ(::link((*suite_dir_ + "/rootfs/bin/busybox").c_str(), (rootfs + "/bin/sh").c_str()), 0);
  std::string host_target = dir_ + "/host-target";
  ASSERT_TRUE(MakeDirs(host_target).ok());
  ASSERT_EQ(::symlink(host_target.c_str(), (rootfs + "/data").c_str()), 0);
  json config = Config("evil", {"/bin/sh", "-c", "ls /data; echo ok"});
  config["root"] = {{"path", rootfs}, {"readonly", false}};
  json mounts = json::array();  // no tmpfs on /tmp, so the created target is visible
  for (const auto& m : config["mounts"]) {
    if (m["destination"] != "/tmp") mounts.push_back(m);
  }
  config["mounts"] = mounts;
  config["mounts"].push_back({{"destination", "/data"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  auto [out, code] = RunContainer("evil", config);
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("ok"), std::string::npos);
  EXPECT_TRUE(Exists(rootfs + dir_ + "/host-target"));  // created inside the rootfs
  EXPECT_FALSE(HostHasMountUnder(host_target));
}

TEST_F(RuntimeE2eTest, OverlayRootfsFromAMount) {
  for (const char* d : {"/upper", "/work", "/merged"}) ASSERT_TRUE(MakeDirs(dir_ + d).ok());
  json config = Config("overlay", {"sh", "-c", "echo written > /new-file && cat /new-file"});
  config["root"] = {{"path", dir_ + "/merged"}, {"readonly", false}};
  config["mounts"].insert(config["mounts"].begin(),
                          json{{"destination", "/"}, {"type", "overlay"}, {"source", "overlay"},
                               {"options", {"lowerdir=" + *suite_dir_ + "/rootfs", "upperdir=" + dir_ + "/upper",
                                            "workdir=" + dir_ + "/work"}}});
  auto [out, code] = RunContainer("overlay", config);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "written\n");
  EXPECT_TRUE(Exists(dir_ + "/upper/new-file"));         // the write went to the upper layer
  EXPECT_FALSE(Exists(*suite_dir_ + "/rootfs/new-file"));  // not to the image
  EXPECT_FALSE(HostHasMountUnder(dir_ + "/merged"));      // the overlay lived in the container's mount ns
}

// The same bundle on runc gives the same observable result.
TEST_F(RuntimeE2eTest, RuncRunsTheSameBundleAlike) {
  if (!Exists(kRunc)) GTEST_SKIP() << "runc not installed";
  const std::vector<std::string> args = {
      "sh", "-c", "echo $$ $(hostname) $(grep CapEff /proc/self/status); touch /x 2>/dev/null || echo ro; wc -c < /proc/keys; exit 5"};
  auto [berth_out, berth_code] = RunContainer("cmp-berth", Config("cmp-berth", args));
  UniqueFd out;
  pid_t pid = Create(kRunc, "cmp-runc", Config("cmp-runc", args), &out);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(State(kRunc, "cmp-runc")["status"], "created");
  ASSERT_EQ(RunCommand({kRunc, "--root", state_, "start", "cmp-runc"}).exit_code, 0);
  std::string runc_out = ReadUntilEof(out.get());
  int runc_code = WaitExit(pid);
  EXPECT_EQ(runc_out, "1 boxy CapEff: 00000000000004e1\nro\n0\n");
  EXPECT_EQ(berth_out, runc_out);
  EXPECT_EQ(berth_code, 5);
  EXPECT_EQ(runc_code, 5);
  EXPECT_EQ(State(kRunc, "cmp-runc")["status"], "stopped");
  Result del = RunCommand({kRunc, "--root", state_, "delete", "cmp-runc"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  RunCommand({kBerthRuntime, "--root", state_, "delete", "cmp-berth"});
  ExpectGone("cmp-runc");
  ExpectGone("cmp-berth");
}

TEST_F(RuntimeE2eTest, CrunRunsTheSameBundleAlike) {
  if (!Exists(kCrun)) GTEST_SKIP() << "crun not installed";
  UniqueFd out;
  Result result;
  pid_t pid = Create(kCrun, "cmp-crun", Config("cmp-crun", {"sh", "-c", "echo hello"}), &out, &result);
  if (pid == 0 && absl::StrContains(absl::AsciiStrToLower(result.err), "cgroup")) {
    GTEST_SKIP() << "crun refuses this host's cgroup layout: " << result.err;
  }
  ASSERT_GT(pid, 0) << result.err;
  ASSERT_EQ(RunCommand({kCrun, "--root", state_, "start", "cmp-crun"}).exit_code, 0);
  EXPECT_EQ(ReadUntilEof(out.get()), "hello\n");
  EXPECT_EQ(WaitExit(pid), 0);
}

// Every hook kind, on berth-runtime and on runc alike: each sees the state of its
// moment, in the namespaces the spec names, in the spec's order.
class RuntimeHooksTest : public RuntimeE2eTest {
 protected:
  // A hook running the host's (or, for startContainer, the container's) shell.
  json Hook(const std::string& script, std::optional<int> timeout = std::nullopt) {
    json hook = {{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}, {"env", {"PATH=/bin:/usr/bin"}}};
    if (timeout) hook["timeout"] = *timeout;
    return hook;
  }

  // Appends the kind to the order file and keeps the state it was given.
  json Recording(const std::string& kind) {
    return Hook(absl::StrCat("cat > ", dir_, "/", kind, ".json; readlink /proc/self/ns/mnt > ", dir_, "/", kind,
                             ".mnt; readlink /proc/$$/ns/pid > ", dir_, "/", kind, ".pidns; echo ", kind, " >> ",
                             dir_, "/order"));
  }

  void RunsEveryHookInOrder(const std::string& runtime, const std::string& id) {
    json config = Config(id, {"cat", "/tmp/started"});
    config["process"]["noNewPrivileges"] = false;
    config["hooks"] = {
        {"prestart", {Recording("prestart")}},
        {"createRuntime", {Recording("createRuntime")}},
        {"createContainer", {Recording("createContainer")}},
        // In the container, after pivot_root: its shell, its /tmp.
        {"startContainer", {Hook("cat > /tmp/started")}},
        {"poststart", {Recording("poststart")}},
        {"poststop", {Recording("poststop")}},
    };
    UniqueFd out;
    pid_t pid = Create(runtime, id, config, &out);
    ASSERT_GT(pid, 0);
    // runc 1.1 runs poststart already here, at create, and gives createContainer the
    // pid the container's namespace sees; berth-runtime does as the spec says.
    const bool runc = runtime == kRunc;
    auto order = ReadFile(dir_ + "/order");
    ASSERT_TRUE(order.ok());
    EXPECT_EQ(*order, runc ? "prestart\ncreateRuntime\ncreateContainer\npoststart\n"
                           : "prestart\ncreateRuntime\ncreateContainer\n") << runtime;
    auto init_mnt = ReadFile(absl::StrCat("/proc/", pid, "/ns/mnt"));
    char host_mnt[64] = {}, container_mnt[64] = {};
    ASSERT_GT(::readlink("/proc/self/ns/mnt", host_mnt, sizeof host_mnt - 1), 0);
    ASSERT_GT(::readlink(absl::StrCat("/proc/", pid, "/ns/mnt").c_str(), container_mnt, sizeof container_mnt - 1), 0);
    EXPECT_EQ(Trimmed(*ReadFile(dir_ + "/createRuntime.mnt")), host_mnt) << runtime << ": in the runtime's namespace";
    char host_pid_ns[64] = {};
    ASSERT_GT(::readlink("/proc/self/ns/pid", host_pid_ns, sizeof host_pid_ns - 1), 0);
    EXPECT_EQ(Trimmed(*ReadFile(dir_ + "/createRuntime.pidns")), host_pid_ns) << runtime << ": in the runtime's";
    EXPECT_EQ(Trimmed(*ReadFile(dir_ + "/createContainer.mnt")), container_mnt) << runtime << ": in the container's";
    for (const char* kind : {"prestart", "createRuntime", "createContainer"}) {
      json state = json::parse(*ReadFile(absl::StrCat(dir_, "/", kind, ".json")));
      EXPECT_EQ(state["id"], id) << runtime << " " << kind;
      EXPECT_EQ(state["pid"], runc && kind == std::string("createContainer") ? 1 : pid) << runtime << " " << kind;
      EXPECT_EQ(state["bundle"], dir_ + "/" + id) << runtime << " " << kind;
    }
    EXPECT_EQ(json::parse(*ReadFile(dir_ + "/createRuntime.json"))["status"], "creating") << runtime;

    Result start = RunCommand({runtime, "--root", state_, "start", id});
    ASSERT_EQ(start.exit_code, 0) << start.err;
    // startContainer's stdin was the state, which the container then printed.
    json started = json::parse(ReadUntilEof(out.get()));
    EXPECT_EQ(started["id"], id) << runtime;
    EXPECT_EQ(WaitExit(pid), 0);
    EXPECT_EQ(*ReadFile(dir_ + "/order"), "prestart\ncreateRuntime\ncreateContainer\npoststart\n") << runtime;
    EXPECT_EQ(json::parse(*ReadFile(dir_ + "/poststart.json"))["pid"], pid) << runtime;

    Result del = RunCommand({runtime, "--root", state_, "delete", id});
    ASSERT_EQ(del.exit_code, 0) << del.err;
    EXPECT_EQ(*ReadFile(dir_ + "/order"), "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n") << runtime;
    EXPECT_EQ(json::parse(*ReadFile(dir_ + "/poststop.json"))["id"], id) << runtime;
    ExpectGone(id);
  }
};

TEST_F(RuntimeHooksTest, BerthRuntimeRunsEveryHookInOrder) { RunsEveryHookInOrder(kBerthRuntime, "hooked"); }

TEST_F(RuntimeHooksTest, RuncRunsTheSameHooksAlike) {
  if (!Exists(kRunc)) GTEST_SKIP() << "runc not installed";
  RunsEveryHookInOrder(kRunc, "hooked-runc");
}

TEST_F(RuntimeHooksTest, AFailingOrHungCreateHookFailsCreateAndLeavesNothing) {
  json failing = Config("hook-fails", {"true"});
  failing["hooks"] = {{"createRuntime", {Hook("echo no device for this container >&2; exit 3")}}};
  UniqueFd out;
  Result result;
  EXPECT_EQ(Create(kBerthRuntime, "hook-fails", failing, &out, &result), 0);
  EXPECT_NE(result.err.find("createRuntime hook /bin/sh failed with exit code 3: no device for this container"),
            std::string::npos)
      << result.err;
  ExpectGone("hook-fails");

  json hung = Config("hook-hangs", {"true"});
  hung["hooks"] = {{"createContainer", {Hook("sleep 30", 1)}}};
  EXPECT_EQ(Create(kBerthRuntime, "hook-hangs", hung, &out, &result), 0);
  EXPECT_NE(result.err.find("did not finish within its timeout of 1 s"), std::string::npos) << result.err;
  ExpectGone("hook-hangs");

  // Hooks that ran before a later one failed get their poststop, as a container
  // they saw would.
  json undone = Config("hook-undone", {"true"});
  undone["hooks"] = {{"createRuntime", {Hook("true")}},
                     {"createContainer", {Hook("exit 1")}},
                     {"poststop", {Hook(absl::StrCat("cat > ", dir_, "/undone.json"))}}};
  EXPECT_EQ(Create(kBerthRuntime, "hook-undone", undone, &out, &result), 0);
  EXPECT_EQ(json::parse(ReadFile(dir_ + "/undone.json").value_or("{}"))["id"], "hook-undone") << result.err;
  ExpectGone("hook-undone");

  // Whatever bytes a failing hook writes, the JSON log takes them.
  json noisy = Config("hook-noisy", {"true"});
  noisy["hooks"] = {{"createRuntime", {Hook("printf 'bad \\377\\376 bytes' >&2; exit 4")}}};
  const std::string bundle = WriteBundle("hook-noisy", noisy);
  const std::string log = dir_ + "/runtime-log.json";
  Result logged = RunCommand({kBerthRuntime, "--root", state_, "--log", log, "--log-format", "json", "create",
                              "--bundle", bundle, "hook-noisy"});
  EXPECT_EQ(logged.exit_code, 1) << logged.err;
  EXPECT_NE(ReadFile(log).value_or("").find("failed with exit code 4"), std::string::npos);
  ExpectGone("hook-noisy");

  json relative = Config("hook-relative", {"true"});
  relative["hooks"] = {{"poststop", {{{"path", "sh"}}}}};
  EXPECT_EQ(Create(kBerthRuntime, "hook-relative", relative, &out, &result), 0);
  EXPECT_NE(result.err.find("is not absolute"), std::string::npos) << result.err;
}

TEST_F(RuntimeHooksTest, AFailingPoststartHookOnlyWarns) {
  json config = Config("poststart-fails", {"true"});
  config["hooks"] = {{"poststart", {Hook("echo too late >&2; exit 1")}}};
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "poststart-fails", config, &out);
  ASSERT_GT(pid, 0);
  Result start = RunCommand({kBerthRuntime, "--root", state_, "start", "poststart-fails"});
  EXPECT_EQ(start.exit_code, 0) << start.err;
  EXPECT_NE(start.err.find("warning: poststart hook /bin/sh failed with exit code 1: too late"), std::string::npos)
      << start.err;
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST_F(RuntimeE2eTest, IoPrioritySchedulerAndMemoryPolicyReachTheProcess) {
  // nice is field 19 of /proc/PID/stat and the policy field 41 (3 is SCHED_BATCH);
  // numa_maps names the memory policy in force.
  json config = Config("sched", {"sh", "-c",
                                 "ionice -p $$; cut -d' ' -f19,41 /proc/self/stat; "
                                 "grep -c 'bind:0' /proc/self/numa_maps >/dev/null && echo bound"});
  config["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}};
  config["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 5}};
  config["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "0"}};
  auto [out, code] = RunContainer("sched", config);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "best-effort: prio 6\n5 3\nbound\n");

  // What the kernel would refuse is refused at create, saying which field.
  json bad = Config("sched-bad", {"true"});
  bad["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}, {"priority", 0}};
  UniqueFd unused;
  Result result;
  EXPECT_EQ(Create(kBerthRuntime, "sched-bad", bad, &unused, &result), 0);
  EXPECT_NE(result.err.find("process.scheduler.priority 0 is outside 1 to 99 for SCHED_FIFO"), std::string::npos)
      << result.err;
  bad = Config("mpol-bad", {"true"});
  bad["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}};
  EXPECT_EQ(Create(kBerthRuntime, "mpol-bad", bad, &unused, &result), 0);
  EXPECT_NE(result.err.find("MPOL_BIND needs nodes"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace berth
