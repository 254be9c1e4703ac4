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

RuntimeHandler::Features EveryFeature() {
  RuntimeHandler::Features features;
  features.hooks = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  features.io_priority = features.scheduler = features.memory_policy = true;
  features.net_devices = features.seccomp_notify = true;
  return features;
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
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());

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
  spec.seccomp.emplace();
  spec.seccomp->default_action = "SCMP_ACT_ERRNO";
  api::ContainerAdjustment adjust;
  api::LinuxSeccomp* policy = adjust.mutable_linux()->mutable_seccomp_policy();
  policy->set_default_action("SCMP_ACT_ALLOW");
  policy->add_architectures("SCMP_ARCH_X86_64");
  api::LinuxSyscall* rule = policy->add_syscalls();
  rule->add_names("mkdir");
  rule->set_action("SCMP_ACT_ERRNO");
  rule->mutable_errno_ret()->set_value(1);
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());
  ASSERT_TRUE(spec.seccomp.has_value());
  EXPECT_EQ(spec.seccomp->default_action, "SCMP_ACT_ALLOW");
  ASSERT_EQ(spec.seccomp->syscalls.size(), 1u);
  EXPECT_EQ(spec.seccomp->syscalls[0].names, std::vector<std::string>{"mkdir"});
  EXPECT_EQ(spec.seccomp->syscalls[0].errno_ret, 1u);

  // A notify rule's fd goes to the plugin's seccomp agent, where the handler can send it.
  rule->set_action("SCMP_ACT_NOTIFY");
  policy->set_listener_path("/run/agent.sock");
  policy->set_listener_metadata("for the agent");
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());
  EXPECT_EQ(spec.seccomp->listener_path, "/run/agent.sock");
  EXPECT_EQ(spec.seccomp->listener_metadata, "for the agent");
  RuntimeHandler::Features without = EveryFeature();
  without.seccomp_notify = false;
  EXPECT_EQ(ApplyNriAdjustment(adjust, without, &spec).code(), StatusCode::kFailedPrecondition);
  policy->clear_listener_path();
  EXPECT_EQ(ApplyNriAdjustment(adjust, EveryFeature(), &spec).code(), StatusCode::kInvalidArgument)
      << "notify with no agent to answer";
}

TEST(NriSpecTest, NetDevicesAreMovedWhereTheHandlerCan) {
  runtime::Spec spec = BaseSpec();
  api::ContainerAdjustment adjust;
  (*adjust.mutable_linux()->mutable_net_devices())["enp1s0f0v0"].set_name("net0");
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());
  EXPECT_EQ(spec.net_devices["enp1s0f0v0"].name, "net0");
  RuntimeHandler::Features without = EveryFeature();
  without.net_devices = false;
  runtime::Spec other = BaseSpec();
  EXPECT_EQ(ApplyNriAdjustment(adjust, without, &other).code(), StatusCode::kFailedPrecondition);
  api::ContainerAdjustment bad;
  (*bad.mutable_linux()->mutable_net_devices())["eth1"].set_name("a/b");
  EXPECT_EQ(ApplyNriAdjustment(bad, EveryFeature(), &other).code(), StatusCode::kInvalidArgument);
  api::ContainerAdjustment removal;
  (*removal.mutable_linux()->mutable_net_devices())["-enp1s0f0v0"];
  ASSERT_TRUE(ApplyNriAdjustment(removal, EveryFeature(), &spec).ok());
  EXPECT_TRUE(spec.net_devices.empty());
}

TEST(NriSpecTest, RefusesWhatBerthCannotApplyYet) {
  runtime::Spec spec = BaseSpec();
  api::ContainerAdjustment adjust;
  adjust.mutable_linux()->mutable_resources()->mutable_rdt_class()->set_value("gold");
  Status refused = ApplyNriAdjustment(adjust, EveryFeature(), &spec);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("RDT class"), std::string::npos) << refused;
}

TEST(NriSpecTest, HooksAreAppendedWhereTheHandlerRunsThem) {
  runtime::Spec spec = BaseSpec();
  spec.hooks.poststop.push_back({"/bin/own", {}, {}, std::nullopt});
  api::ContainerAdjustment adjust;
  api::Hook* hook = adjust.mutable_hooks()->add_create_runtime();
  hook->set_path("/usr/libexec/inject");
  hook->add_args("inject");
  hook->add_args("--all");
  hook->add_env("A=1");
  hook->mutable_timeout()->set_value(5);
  adjust.mutable_hooks()->add_poststop()->set_path("/bin/theirs");
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());
  ASSERT_EQ(spec.hooks.create_runtime.size(), 1u);
  EXPECT_EQ(spec.hooks.create_runtime[0].path, "/usr/libexec/inject");
  EXPECT_EQ(spec.hooks.create_runtime[0].args, (std::vector<std::string>{"inject", "--all"}));
  EXPECT_EQ(spec.hooks.create_runtime[0].env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(spec.hooks.create_runtime[0].timeout, 5);
  ASSERT_EQ(spec.hooks.poststop.size(), 2u);
  EXPECT_EQ(spec.hooks.poststop[1].path, "/bin/theirs");

  // The container's hooks reach plugins.
  api::Container seen = NriContainer(ContainerRecord(), &spec);
  EXPECT_EQ(seen.hooks().poststop_size(), 2);

  runtime::Spec other = BaseSpec();
  RuntimeHandler::Features no_hooks = EveryFeature();
  no_hooks.hooks = {"prestart"};
  Status refused = ApplyNriAdjustment(adjust, no_hooks, &other);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("createRuntime hooks"), std::string::npos) << refused;

  api::ContainerAdjustment relative;
  relative.mutable_hooks()->add_prestart()->set_path("inject");
  EXPECT_EQ(ApplyNriAdjustment(relative, EveryFeature(), &other).code(), StatusCode::kInvalidArgument);
}

TEST(NriSpecTest, IoPrioritySchedulerAndMemoryPolicyBecomeOciFields) {
  runtime::Spec spec = BaseSpec();
  api::ContainerAdjustment adjust;
  api::LinuxContainerAdjustment* linux = adjust.mutable_linux();
  linux->mutable_io_priority()->set_class_(api::NRI_IOPRIO_CLASS_BE);
  linux->mutable_io_priority()->set_priority(6);
  linux->mutable_scheduler()->set_policy(api::NRI_SCHED_BATCH);
  linux->mutable_scheduler()->set_nice(7);
  linux->mutable_scheduler()->add_flags(api::NRI_SCHED_FLAG_RESET_ON_FORK);
  linux->mutable_memory_policy()->set_mode(api::NRI_MPOL_BIND);
  linux->mutable_memory_policy()->set_nodes("0");
  linux->mutable_memory_policy()->add_flags(api::NRI_MPOL_F_STATIC_NODES);
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());
  ASSERT_TRUE(spec.process.io_priority);
  EXPECT_EQ(spec.process.io_priority->io_class, "IOPRIO_CLASS_BE");
  EXPECT_EQ(spec.process.io_priority->priority, 6);
  ASSERT_TRUE(spec.process.scheduler);
  EXPECT_EQ(spec.process.scheduler->policy, "SCHED_BATCH");
  EXPECT_EQ(spec.process.scheduler->nice, 7);
  EXPECT_EQ(spec.process.scheduler->flags, std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"});
  ASSERT_TRUE(spec.memory_policy);
  EXPECT_EQ(spec.memory_policy->mode, "MPOL_BIND");
  EXPECT_EQ(spec.memory_policy->nodes, "0");
  EXPECT_EQ(spec.memory_policy->flags, std::vector<std::string>{"MPOL_F_STATIC_NODES"});

  // A handler that would ignore the field (runc 1.1) is not handed it.
  for (auto drop : {&RuntimeHandler::Features::io_priority, &RuntimeHandler::Features::scheduler,
                    &RuntimeHandler::Features::memory_policy}) {
    RuntimeHandler::Features features = EveryFeature();
    features.*drop = false;
    runtime::Spec other = BaseSpec();
    EXPECT_EQ(ApplyNriAdjustment(adjust, features, &other).code(), StatusCode::kFailedPrecondition);
  }

  // Out of range, or a number that names nothing: the plugin is told.
  runtime::Spec other = BaseSpec();
  linux->mutable_io_priority()->set_priority(9);
  EXPECT_EQ(ApplyNriAdjustment(adjust, EveryFeature(), &other).code(), StatusCode::kInvalidArgument);
  linux->mutable_io_priority()->set_priority(0);
  linux->mutable_scheduler()->set_policy(static_cast<api::LinuxSchedulerPolicy>(77));
  EXPECT_EQ(ApplyNriAdjustment(adjust, EveryFeature(), &other).code(), StatusCode::kInvalidArgument);
  linux->mutable_scheduler()->set_policy(api::NRI_SCHED_BATCH);
  linux->mutable_memory_policy()->set_nodes("3-1");
  EXPECT_EQ(ApplyNriAdjustment(adjust, EveryFeature(), &other).code(), StatusCode::kInvalidArgument);

  // NONE clears what the spec had.
  api::ContainerAdjustment none;
  none.mutable_linux()->mutable_io_priority()->set_class_(api::NRI_IOPRIO_CLASS_NONE);
  none.mutable_linux()->mutable_scheduler()->set_policy(api::NRI_SCHED_NONE);
  ASSERT_TRUE(ApplyNriAdjustment(none, EveryFeature(), &spec).ok());
  EXPECT_FALSE(spec.process.io_priority);
  EXPECT_FALSE(spec.process.scheduler);
}

TEST(NriSpecTest, NamespacesAreReplacedAddedOrRemoved) {
  runtime::Spec spec = BaseSpec();
  spec.namespaces = {{"mount", ""}, {"network", "/run/berth/pods/p/net"}, {"ipc", "/run/berth/pods/p/ipc"}};
  api::ContainerAdjustment adjust;
  auto* ipc = adjust.mutable_linux()->add_namespaces();
  ipc->set_type("ipc");  // no path: a new one of its own
  adjust.mutable_linux()->add_namespaces()->set_type("-network");
  auto* uts = adjust.mutable_linux()->add_namespaces();
  uts->set_type("uts");
  uts->set_path("/proc/1/ns/uts");
  ASSERT_TRUE(ApplyNriAdjustment(adjust, EveryFeature(), &spec).ok());
  ASSERT_EQ(spec.namespaces.size(), 3u);
  EXPECT_EQ(spec.namespaces[0].type, "mount");
  EXPECT_EQ(spec.namespaces[1].type, "ipc");
  EXPECT_EQ(spec.namespaces[1].path, "");
  EXPECT_EQ(spec.namespaces[2].path, "/proc/1/ns/uts");
  EXPECT_EQ(spec.FindNamespace("network"), nullptr);

  api::ContainerAdjustment bad;
  bad.mutable_linux()->add_namespaces()->set_type("mnt");
  EXPECT_EQ(ApplyNriAdjustment(bad, EveryFeature(), &spec).code(), StatusCode::kInvalidArgument);
  bad.mutable_linux()->mutable_namespaces(0)->set_type("ipc");
  bad.mutable_linux()->mutable_namespaces(0)->set_path("proc/1/ns/ipc");
  EXPECT_EQ(ApplyNriAdjustment(bad, EveryFeature(), &spec).code(), StatusCode::kInvalidArgument);
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
