// End-to-end tests of the berth-runtime binary (and, for comparison, runc) on a
// busybox bundle. They need root and cgroups; every test removes what it made:
// containers by pid, cgroup directories, temporary directories.
#include "runtime/e2e_fixture.h"
#include "runtime/errors.h"

namespace berth::runtime_test {
namespace {

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
}  // namespace berth::runtime_test
