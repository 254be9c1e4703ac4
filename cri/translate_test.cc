#include "cri/translate.h"

#include <gtest/gtest.h>

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

v1::PodSandboxConfig PodConfig() {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name("web");
  config.mutable_metadata()->set_uid("uid-1");
  config.mutable_metadata()->set_namespace_("default");
  config.mutable_metadata()->set_attempt(2);
  config.set_hostname("web-0");
  config.set_log_directory("/var/log/pods/web");
  (*config.mutable_labels())["app"] = "web";
  auto* port = config.add_port_mappings();
  port->set_protocol(v1::UDP);
  port->set_container_port(53);
  port->set_host_port(5353);
  port->set_host_ip("127.0.0.1");
  auto* linux = config.mutable_linux();
  linux->set_cgroup_parent("/kubepods/pod1");
  (*linux->mutable_sysctls())["net.core.somaxconn"] = "1024";
  auto* sec = linux->mutable_security_context();
  sec->mutable_namespace_options()->set_network(v1::NODE);
  sec->mutable_namespace_options()->set_pid(v1::POD);
  sec->mutable_run_as_user()->set_value(1000);
  sec->add_supplemental_groups(5);
  sec->set_supplemental_groups_policy(v1::SupplementalGroupsPolicy::Strict);
  return config;
}

TEST(TranslateTest, PodConfigBecomesAPodSpec) {
  auto spec = ToPodSpec(PodConfig(), "runc");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "web");
  EXPECT_EQ(spec->attempt, 2u);
  EXPECT_EQ(spec->runtime_handler, "runc");
  EXPECT_EQ(spec->labels.at("app"), "web");
  ASSERT_EQ(spec->ports.size(), 1u);
  EXPECT_EQ(spec->ports[0].protocol, "UDP");
  EXPECT_EQ(spec->ports[0].host_port, 5353);
  EXPECT_EQ(spec->cgroup_parent, "/kubepods/pod1");
  EXPECT_EQ(spec->sysctls.at("net.core.somaxconn"), "1024");
  EXPECT_EQ(spec->network, pods::NamespaceMode::kNode);
  EXPECT_EQ(spec->pid, pods::NamespaceMode::kPod);
  EXPECT_EQ(spec->run_as_user, 1000);
  EXPECT_TRUE(spec->strict_supplemental_groups);
}

TEST(TranslateTest, BadPodConfigsSayWhatIsWrong) {
  v1::PodSandboxConfig no_metadata = PodConfig();
  no_metadata.clear_metadata();
  EXPECT_EQ(ToPodSpec(no_metadata, "").status().message(), "PodSandboxConfig.metadata is missing");

  v1::PodSandboxConfig relative_logs = PodConfig();
  relative_logs.set_log_directory("logs");
  auto status = ToPodSpec(relative_logs, "").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("must be absolute"), std::string::npos) << status;

  v1::PodSandboxConfig bad_port = PodConfig();
  bad_port.mutable_port_mappings(0)->set_container_port(70000);
  EXPECT_NE(ToPodSpec(bad_port, "").status().message().find("out of range"), std::string::npos);
}

v1::ContainerConfig ContainerConfig() {
  v1::ContainerConfig config;
  config.mutable_metadata()->set_name("app");
  config.mutable_image()->set_image("example.test/app:1");
  config.add_command("/app");
  config.add_args("--port=80");
  auto* env = config.add_envs();
  env->set_key("MODE");
  env->set_value("test");
  auto* mount = config.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path("/srv/data");
  mount->set_readonly(true);
  mount->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  config.set_stop_signal(v1::SIGNAL_SIGUSR1);
  auto* resources = config.mutable_linux()->mutable_resources();
  resources->set_memory_limit_in_bytes(64 << 20);
  resources->set_cpu_quota(50000);
  auto* page = resources->add_hugepage_limits();
  page->set_page_size("2MB");
  page->set_limit(4 << 20);
  auto* sec = config.mutable_linux()->mutable_security_context();
  sec->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  sec->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  return config;
}

TEST(TranslateTest, ContainerConfigBecomesAContainerSpec) {
  auto spec = ToContainerSpec(ContainerConfig());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->command, std::vector<std::string>{"/app"});
  EXPECT_EQ(spec->env.size(), 1u);
  ASSERT_EQ(spec->mounts.size(), 1u);
  EXPECT_TRUE(spec->mounts[0].readonly);
  EXPECT_EQ(spec->mounts[0].propagation, 1);
  EXPECT_EQ(spec->stop_signal, "SIGUSR1");
  EXPECT_EQ(spec->resources.memory_limit, 64 << 20);
  EXPECT_EQ(spec->resources.hugepage_limits.at("2MB"), 4u << 20);
  EXPECT_EQ(spec->security.add_capabilities, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(spec->security.seccomp.type, "runtime/default");
  EXPECT_EQ(spec->security.apparmor.type, "") << "none named: the runtime's default";
}

TEST(TranslateTest, LegacyProfileStringsAreUnderstood) {
  v1::ContainerConfig config = ContainerConfig();
  auto* sec = config.mutable_linux()->mutable_security_context();
  sec->clear_seccomp();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  sec->set_seccomp_profile_path("localhost//etc/profiles/strict.json");
#pragma GCC diagnostic pop
  auto spec = ToContainerSpec(config);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->security.seccomp.type, "localhost");
  EXPECT_EQ(spec->security.seccomp.localhost_ref, "/etc/profiles/strict.json");
}

TEST(TranslateTest, BadContainerConfigsSayWhatIsWrong) {
  v1::ContainerConfig group_alone = ContainerConfig();
  group_alone.mutable_linux()->mutable_security_context()->mutable_run_as_group()->set_value(5);
  EXPECT_NE(ToContainerSpec(group_alone).status().message().find("run_as_group is set without"), std::string::npos);

  v1::ContainerConfig no_ref = ContainerConfig();
  no_ref.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      v1::SecurityProfile::Localhost);
  EXPECT_NE(ToContainerSpec(no_ref).status().message().find("needs a localhost_ref"), std::string::npos);

  v1::ContainerConfig no_target = ContainerConfig();
  no_target.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::TARGET);
  EXPECT_NE(ToContainerSpec(no_target).status().message().find("needs a target_id"), std::string::npos);
}

TEST(TranslateTest, RecordsFillTheirStatus) {
  pods::ContainerRecord record;
  record.id = "c1";
  record.pod_id = "p1";
  record.spec = *ToContainerSpec(ContainerConfig());
  record.state = pods::ContainerState::kExited;
  record.exit_code = 137;
  record.reason = "OOMKilled";
  record.uid = 1000;
  record.supplemental_groups = {5, 6};
  record.image_id = "sha256:feed";
  v1::ContainerStatus status;
  FillContainerStatus(record, &status);
  EXPECT_EQ(status.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_EQ(status.reason(), "OOMKilled");
  EXPECT_EQ(status.user().linux().uid(), 1000);
  EXPECT_EQ(status.user().linux().supplemental_groups_size(), 2);
  EXPECT_EQ(status.image_ref(), "sha256:feed");
  EXPECT_EQ(status.mounts(0).propagation(), v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_EQ(status.resources().linux().memory_limit_in_bytes(), 64 << 20);

  pods::SandboxRecord pod;
  pod.id = "p1";
  pod.spec = *ToPodSpec(PodConfig(), "runc");
  pod.state = pods::SandboxState::kNotReady;
  pod.ips = {"10.1.0.7", "fd00::7"};
  v1::PodSandboxStatus pod_status;
  FillPodSandboxStatus(pod, &pod_status);
  EXPECT_EQ(pod_status.state(), v1::SANDBOX_NOTREADY);
  EXPECT_EQ(pod_status.network().ip(), "10.1.0.7");
  EXPECT_EQ(pod_status.network().additional_ips(0).ip(), "fd00::7");
  EXPECT_EQ(pod_status.linux().namespaces().options().network(), v1::NODE);
  EXPECT_EQ(pod_status.runtime_handler(), "runc");
}

}  // namespace
}  // namespace berth::cri
