#include "runtime/spec.h"

#include <gtest/gtest.h>

#include "runtime/net_devices.h"

namespace berth::runtime {
namespace {

constexpr char kConfig[] = R"({
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 18},
    "args": ["sh", "-c", "echo hello"],
    "env": ["PATH=/bin"],
    "cwd": "/work",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
    "noNewPrivileges": true,
    "oomScoreAdj": -5
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro"]},
    {"destination": "/abs", "source": "/host", "options": ["bind"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
    "cgroupsPath": "/kubepods/pod1/ctr",
    "resources": {
      "memory": {"limit": 67108864, "swap": 134217728},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
      "pids": {"limit": 64},
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}]
    },
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                              "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}]}]}
  }
})";

TEST(SpecTest, ParsesTheFieldsTheRuntimeUses) {
  auto spec = ParseSpec(kConfig, "/bundle");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->root_path, "/bundle/rootfs");
  EXPECT_TRUE(spec->root_readonly);
  EXPECT_EQ(spec->process.user.uid, 1000u);
  EXPECT_EQ(spec->process.user.additional_gids, (std::vector<gid_t>{5, 6}));
  EXPECT_EQ(*spec->process.user.umask, 18u);
  EXPECT_EQ(spec->process.args.size(), 3u);
  EXPECT_EQ(spec->process.cwd, "/work");
  ASSERT_TRUE(spec->process.capabilities);
  EXPECT_EQ(spec->process.capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
  EXPECT_TRUE(spec->process.capabilities->ambient.empty());
  ASSERT_EQ(spec->process.rlimits.size(), 1u);
  EXPECT_EQ(spec->process.rlimits[0].soft, 512u);
  EXPECT_TRUE(spec->process.no_new_privileges);
  EXPECT_EQ(*spec->process.oom_score_adj, -5);
  EXPECT_EQ(spec->hostname, "box");
  ASSERT_EQ(spec->mounts.size(), 3u);
  EXPECT_EQ(spec->mounts[0].source, "proc");  // not a bind: left alone
  EXPECT_EQ(spec->mounts[1].source, "/bundle/data");
  EXPECT_EQ(spec->mounts[2].source, "/host");
  ASSERT_NE(spec->FindNamespace("network"), nullptr);
  EXPECT_EQ(spec->FindNamespace("network")->path, "/proc/1/ns/net");
  EXPECT_EQ(spec->FindNamespace("mount"), nullptr);
  EXPECT_EQ(spec->cgroups_path, "/kubepods/pod1/ctr");
  ASSERT_TRUE(spec->resources);
  EXPECT_EQ(*spec->resources->memory_limit, 67108864);
  EXPECT_EQ(*spec->resources->memory_swap, 134217728);
  EXPECT_EQ(*spec->resources->cpu_shares, 512u);
  EXPECT_EQ(*spec->resources->cpuset_cpus, "0");
  EXPECT_FALSE(spec->resources->cpuset_mems);
  EXPECT_EQ(*spec->resources->pids_limit, 64);
  ASSERT_EQ(spec->resources->devices.size(), 2u);
  EXPECT_EQ(spec->resources->devices[0].type, 'a');
  EXPECT_EQ(spec->resources->devices[1].major, 1);
  EXPECT_EQ(spec->masked_paths, std::vector<std::string>{"/proc/kcore"});
  EXPECT_EQ(spec->sysctl.at("net.ipv4.ip_forward"), "1");
  ASSERT_TRUE(spec->seccomp);
  ASSERT_EQ(spec->seccomp->syscalls.size(), 1u);
  EXPECT_EQ(*spec->seccomp->syscalls[0].errno_ret, 1u);
  EXPECT_EQ(spec->seccomp->syscalls[0].args[0].op, "SCMP_CMP_NE");
}

TEST(SpecTest, RefusesBadInput) {
  EXPECT_EQ(ParseSpec("{", "/b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSpec(R"({"process": {"args": []}, "root": {"path": "r"}})", "/b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSpec(R"({"process": {"args": ["x"]}})", "/b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSpec(R"({"process": {"args": ["x"]}, "root": {"path": "/r"},
                          "linux": {"namespaces": [{"type": "bogus"}]}})", "/b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcess(R"({"args": 3})").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SpecTest, ParsesLoneProcessAndResources) {
  auto process = ParseProcess(R"({"args": ["ps"], "env": ["A=b"], "cwd": "/"})");
  ASSERT_TRUE(process.ok()) << process.status();
  EXPECT_EQ(process->args, std::vector<std::string>{"ps"});
  EXPECT_FALSE(process->capabilities);
  auto resources = ParseResources(R"({"memory": {"limit": 1000}, "unified": {"memory.high": "10M"}})");
  ASSERT_TRUE(resources.ok()) << resources.status();
  EXPECT_EQ(*resources->memory_limit, 1000);
  EXPECT_FALSE(resources->pids_limit);
  EXPECT_EQ(resources->unified.at("memory.high"), "10M");
}

TEST(SpecTest, WritingAndParsingAgainGivesTheSameSpec) {
  auto parsed = ParseSpec(kConfig, "/bundle");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const std::string written = SpecJson(*parsed);
  auto again = ParseSpec(written, "/elsewhere");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << written;
  EXPECT_EQ(SpecJson(*again), written) << "absolute paths stay as they are";
  EXPECT_EQ(again->process.user.umask, 18u);
  EXPECT_EQ(again->resources->devices[1].major, 1);
  EXPECT_EQ(again->resources->devices[0].type, 'a');
  EXPECT_EQ(*again->seccomp->syscalls[0].errno_ret, 1u);

  Spec relative;
  relative.root_path = "rootfs";
  relative.process.args = {"sh"};
  auto in_bundle = ParseSpec(SpecJson(relative), "/b");
  ASSERT_TRUE(in_bundle.ok()) << in_bundle.status();
  EXPECT_EQ(in_bundle->root_path, "/b/rootfs");
  EXPECT_EQ(in_bundle->oci_version, kOciVersion);
  EXPECT_FALSE(in_bundle->resources.has_value()) << "nothing asked, nothing written";
}

TEST(SpecTest, UserNamespaceMappingsRoundTrip) {
  Spec spec;
  spec.root_path = "rootfs";
  spec.process.args = {"sh"};
  spec.namespaces = {{"mount", ""}, {"user", "/run/pods/p/user"}};
  spec.uid_mappings = {{0, 200000, 65536}};
  spec.gid_mappings = {{0, 300000, 1000}, {1000, 5000, 1}};
  auto parsed = ParseSpec(SpecJson(spec), "/b");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->uid_mappings, spec.uid_mappings);
  EXPECT_EQ(parsed->gid_mappings, spec.gid_mappings);
  EXPECT_EQ(parsed->FindNamespace("user")->path, "/run/pods/p/user");
  EXPECT_NE(SpecJson(spec).find("\"containerID\": 1000"), std::string::npos) << "OCI's field names";
}

TEST(SpecTest, HooksAndSchedulingRoundTrip) {
  Spec spec;
  spec.root_path = "rootfs";
  spec.process.args = {"sh"};
  spec.root_path = "/b/rootfs";
  spec.hooks.create_runtime = {{"/usr/bin/inject", {"inject", "--all"}, {"A=1"}, 5}};
  spec.hooks.poststop = {{"/bin/cleanup", {}, {}, std::nullopt}};
  spec.process.io_priority = IoPriority{"IOPRIO_CLASS_IDLE", 7};
  spec.process.scheduler = Scheduler{"SCHED_RR", 0, 10, {"SCHED_FLAG_RESET_ON_FORK"}, 0, 0, 0};
  spec.memory_policy = MemoryPolicy{"MPOL_INTERLEAVE", "0-1", {"MPOL_F_STATIC_NODES"}};
  const std::string written = SpecJson(spec);
  EXPECT_NE(written.find("\"createRuntime\""), std::string::npos) << "OCI's field names";
  EXPECT_NE(written.find("\"ioPriority\""), std::string::npos);
  EXPECT_NE(written.find("\"memoryPolicy\""), std::string::npos);
  auto parsed = ParseSpec(written, "/b");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(SpecJson(*parsed), written);
  ASSERT_EQ(parsed->hooks.create_runtime.size(), 1u);
  EXPECT_EQ(parsed->hooks.create_runtime[0].timeout, 5);
  EXPECT_EQ(parsed->hooks.create_runtime[0].args[1], "--all");
  EXPECT_EQ(parsed->hooks.poststop[0].timeout, std::nullopt);
  EXPECT_TRUE(parsed->hooks.BeforePivot());
  EXPECT_EQ(parsed->process.scheduler->priority, 10);
  EXPECT_EQ(parsed->memory_policy->nodes, "0-1");

  // A hook the runtime could not run is refused when the spec is read.
  auto relative = ParseSpec(R"({"process": {"args": ["sh"]}, "root": {"path": "r"},
                                "hooks": {"prestart": [{"path": "inject"}]}})", "/b");
  EXPECT_EQ(relative.status().code(), StatusCode::kInvalidArgument);
  auto no_time = ParseSpec(R"({"process": {"args": ["sh"]}, "root": {"path": "r"},
                               "hooks": {"poststart": [{"path": "/bin/x", "timeout": 0}]}})", "/b");
  EXPECT_EQ(no_time.status().code(), StatusCode::kInvalidArgument);
}

TEST(SpecTest, NetDevicesRoundTripAndTheirNamesAreChecked) {
  auto parsed = ParseSpec(R"({"process": {"args": ["sh"]}, "root": {"path": "/r"},
                              "linux": {"netDevices": {"eth1": {}, "enp1s0f0v0": {"name": "net%d"}}}})", "/b");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->net_devices.size(), 2u);
  EXPECT_EQ(parsed->net_devices["eth1"].name, "");
  EXPECT_EQ(parsed->net_devices["enp1s0f0v0"].name, "net%d");
  auto again = ParseSpec(SpecJson(*parsed), "/b");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SpecJson(*again), SpecJson(*parsed));
  EXPECT_TRUE(ValidateNetDevices(parsed->net_devices).ok());

  for (const auto& [host_name, name] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"0123456789abcdef", ""}, {"eth/1", ""}, {"eth 1", ""}, {"eth:1", ""}, {"..", ""},
           {"eth%d", ""}, {"eth1", "net%s"}, {"eth1", "net%d%d"}, {"eth1", "a/b"}}) {
    std::map<std::string, NetDevice> devices = {{host_name, NetDevice{name}}};
    EXPECT_EQ(ValidateNetDevices(devices).code(), StatusCode::kInvalidArgument) << host_name << " " << name;
  }
}

TEST(SpecTest, LoneProcessAndResourcesRoundTrip) {
  Process process;
  process.args = {"ls", "-l"};
  process.env = {"A=b"};
  process.user.uid = 7;
  process.user.additional_gids = {7, 8};
  process.oom_score_adj = -5;
  auto parsed = ParseProcess(ProcessJson(process));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->args, process.args);
  EXPECT_EQ(parsed->user.additional_gids, process.user.additional_gids);
  EXPECT_EQ(parsed->oom_score_adj, -5);

  cgroups::Resources resources;
  resources.cpu_quota = 20000;
  resources.throttle_read_bps = {{8, 0, 1 << 20}};
  resources.hugepage_limits = {{"2MB", 4 << 20}};
  auto back = ParseResources(ResourcesJson(resources));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->cpu_quota, 20000);
  EXPECT_FALSE(back->memory_limit.has_value());
  ASSERT_EQ(back->throttle_read_bps.size(), 1u);
  EXPECT_EQ(back->throttle_read_bps[0].rate, 1u << 20);
  EXPECT_EQ(back->hugepage_limits[0].page_size, "2MB");
}

}  // namespace
}  // namespace berth::runtime
