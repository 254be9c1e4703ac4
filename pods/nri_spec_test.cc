#include "pods/nri_spec.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

namespace api = nri::api;

runtime::Spec BaseSpec() {
  runtime::Spec spec;
  spec.process.env = {"PATH=/bin", "HOME=/root"};
  spec.process.args = {"sh"};
  spec.mounts = {{"/proc", "proc", "proc", {}}, {"/data", "bind", "/old", {"rbind"}}};
  spec.annotations = {{"keep", "1"}, {"drop", "2"}};
  return spec;
}

TEST(NriSpecTest, AppliesWhatPluginsAdjust) {
  runtime::Spec spec = BaseSpec();
  api::ContainerAdjustment adjust;
  (*adjust.mutable_annotations())["-drop"] = "";
  (*adjust.mutable_annotations())["added"] = "x";
  api::KeyValue* env = adjust.add_env();
  env->set_key("HOME");
  env->set_value("/home/nri");
  env = adjust.add_env();
  env->set_key("-PATH");
  env = adjust.add_env();
  env->set_key("NRI");
  env->set_value("yes");
  api::Mount* mount = adjust.add_mounts();
  mount->set_destination("/data");
  mount->set_type("bind");
  mount->set_source("/new");
  mount->add_options("rbind");
  mount->add_options("ro");
  api::LinuxDevice* device = adjust.mutable_linux()->add_devices();
  device->set_path("/dev/nri-null");
  device->set_type("c");
  device->set_major(1);
  device->set_minor(3);
  adjust.mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(64 << 20);
  adjust.mutable_linux()->mutable_resources()->mutable_pids()->set_limit(100);
  adjust.mutable_linux()->mutable_oom_score_adj()->set_value(500);
  api::POSIXRlimit* rlimit = adjust.add_rlimits();
  rlimit->set_type("RLIMIT_NOFILE");
  rlimit->set_hard(4096);
  rlimit->set_soft(1024);
  ASSERT_TRUE(ApplyNriAdjustment(adjust, &spec).ok());

  EXPECT_EQ(spec.annotations, (std::map<std::string, std::string>{{"keep", "1"}, {"added", "x"}}));
  EXPECT_EQ(spec.process.env, (std::vector<std::string>{"HOME=/home/nri", "NRI=yes"}));
  ASSERT_EQ(spec.mounts.size(), 2u);
  EXPECT_EQ(spec.mounts[1].source, "/new");
  ASSERT_EQ(spec.devices.size(), 1u);
  ASSERT_TRUE(spec.resources.has_value());
  EXPECT_EQ(spec.resources->memory_limit, 64 << 20);
  EXPECT_EQ(spec.resources->pids_limit, 100);
  ASSERT_EQ(spec.resources->devices.size(), 1u);
  EXPECT_TRUE(spec.resources->devices[0].allow);
  EXPECT_EQ(spec.process.oom_score_adj, 500);
  ASSERT_EQ(spec.process.rlimits.size(), 1u);
  EXPECT_EQ(spec.process.rlimits[0].soft, 1024u);
}

TEST(NriSpecTest, ASeccompPolicyReplacesTheContainers) {
  runtime::Spec spec = BaseSpec();
  spec.seccomp = runtime::Seccomp{"SCMP_ACT_ERRNO", std::nullopt, {}, {}, {}};
  api::ContainerAdjustment adjust;
  api::LinuxSeccomp* policy = adjust.mutable_linux()->mutable_seccomp_policy();
  policy->set_default_action("SCMP_ACT_ALLOW");
  policy->add_architectures("SCMP_ARCH_X86_64");
  api::LinuxSyscall* rule = policy->add_syscalls();
  rule->add_names("mkdir");
  rule->set_action("SCMP_ACT_ERRNO");
  rule->mutable_errno_ret()->set_value(1);
  ASSERT_TRUE(ApplyNriAdjustment(adjust, &spec).ok());
  ASSERT_TRUE(spec.seccomp.has_value());
  EXPECT_EQ(spec.seccomp->default_action, "SCMP_ACT_ALLOW");
  ASSERT_EQ(spec.seccomp->syscalls.size(), 1u);
  EXPECT_EQ(spec.seccomp->syscalls[0].names, std::vector<std::string>{"mkdir"});
  EXPECT_EQ(spec.seccomp->syscalls[0].errno_ret, 1u);

  policy->set_listener_path("/run/agent.sock");
  EXPECT_EQ(ApplyNriAdjustment(adjust, &spec).code(), StatusCode::kFailedPrecondition);
}

TEST(NriSpecTest, RefusesWhatBerthCannotApplyYet) {
  runtime::Spec spec = BaseSpec();
  api::ContainerAdjustment adjust;
  adjust.mutable_hooks()->add_prestart()->set_path("/bin/true");
  Status refused = ApplyNriAdjustment(adjust, &spec);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("OCI hooks"), std::string::npos) << refused;
}

TEST(NriSpecTest, ResourcesRoundTrip) {
  cgroups::Resources r;
  r.memory_limit = 1 << 30;
  r.cpu_shares = 512;
  r.cpu_quota = 50000;
  r.cpuset_cpus = "0-1";
  r.unified["memory.high"] = "1G";
  cgroups::Resources back = CgroupResources(NriResources(r));
  EXPECT_EQ(back.memory_limit, r.memory_limit);
  EXPECT_EQ(back.cpu_shares, r.cpu_shares);
  EXPECT_EQ(back.cpu_quota, r.cpu_quota);
  EXPECT_EQ(back.cpuset_cpus, r.cpuset_cpus);
  EXPECT_EQ(back.unified, r.unified);
  EXPECT_FALSE(back.cpu_period.has_value());
}

}  // namespace
}  // namespace berth::pods
