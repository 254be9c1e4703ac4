// Requests berthd must refuse or confine, end to end on berth's own runtime and on
// runc: bad requests answered with clear errors and nothing left behind, sysctls that
// reach only the pod's own namespaces, and the streaming lists that must answer as
// the plain lists do.
#include <filesystem>

#include "base/file_util.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

class PodRequestsTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    StartOnHandler(GetParam());
  }
};

TEST_P(PodRequestsTest, BadRequestsAreClearErrorsAndLeaveNothing) {
  auto pod_config = PodConfig("errors");
  std::string pod = RunPod(pod_config);
  std::string id;
  // Unknown pod.
  auto status = Create("0123456789abcdef", pod_config, ContainerConfig("c", {"true"}), &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  // Image not present, named.
  auto missing = ContainerConfig("c", {"true"});
  missing.mutable_image()->set_image("127.0.0.1:1/never/pulled:1");
  status = Create(pod, pod_config, missing, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("never/pulled"), std::string::npos) << status.error_message();
  // A bad mount source fails and leaves no container behind.
  auto bad_mount = ContainerConfig("c", {"true"});
  auto* mount = bad_mount.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path("relative/path");
  status = Create(pod, pod_config, bad_mount, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  int left = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(root_ + "/containers")) ++left;
  EXPECT_EQ(left, 0) << "a failed create left its directory";
  // What the runtime itself refuses (a file bound over a directory) comes back with
  // the runtime's reason, and leaves nothing either.
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/a-file", "x").ok());
  auto file_over_dir = ContainerConfig("c", {"true"});
  mount = file_over_dir.add_mounts();
  mount->set_container_path("/etc");
  mount->set_host_path(dir_ + "/a-file");
  status = Create(pod, pod_config, file_over_dir, &id);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_message().find("/etc"), std::string::npos) << status.error_message();
  left = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(root_ + "/containers")) ++left;
  EXPECT_EQ(left, 0) << "a failed create left its directory";
  // An AppArmor profile the host cannot apply (not loaded, or no AppArmor at all).
  auto apparmor = ContainerConfig("c", {"true"});
  auto* profile = apparmor.mutable_linux()->mutable_security_context()->mutable_apparmor();
  profile->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
  profile->set_localhost_ref("berth-test-no-such-profile");
  status = Create(pod, pod_config, apparmor, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("berth-test-no-such-profile"), std::string::npos) << status.error_message();
  // A name taken in the pod.
  std::string first;
  ASSERT_TRUE(Create(pod, pod_config, ContainerConfig("dup", {"true"}), &first).ok());
  status = Create(pod, pod_config, ContainerConfig("dup", {"true"}), &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(status.error_message().find(first), std::string::npos) << status.error_message();
  // An unknown runtime handler.
  ::runtime::v1::RunPodSandboxRequest run;
  *run.mutable_config() = PodConfig("handler");
  run.set_runtime_handler("kata");
  ::runtime::v1::RunPodSandboxResponse ran;
  status = client().runtime().RunPodSandbox(Ctx().get(), run, &ran);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("kata"), std::string::npos);
  // Stop and remove of what does not exist succeed.
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id("feedfacefeedface");
  ::runtime::v1::StopPodSandboxResponse stopped;
  EXPECT_TRUE(client().runtime().StopPodSandbox(Ctx().get(), stop, &stopped).ok());
}

// A sysctl reaches the pod only through a namespace the pod has of its own; any
// other would change the host (CVE-2022-0811: kernel.core_pattern runs a program of
// the pod's choosing as root on the host at the next crash).
TEST_P(PodRequestsTest, SysctlsReachOnlyThePodsOwnNamespaces) {
  const std::string host_core_pattern = ReadFile("/proc/sys/kernel/core_pattern").value_or("");
  const std::string host_shmmni = ReadFile("/proc/sys/kernel/shmmni").value_or("");
  const std::string host_port_start = ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start").value_or("");
  struct Refused {
    const char* name;
    const char* sysctl;
    const char* value;
    bool host_network;
    bool host_ipc;
    const char* says;
  };
  for (const Refused& r : {
           Refused{"core", "kernel.core_pattern", "|/tmp/x", false, false, "not namespaced"},
           Refused{"vm", "vm.overcommit_memory", "1", false, false, "not namespaced"},
           Refused{"hostnet", "net.ipv4.ip_forward", "1", true, false, "private network namespace"},
           Refused{"hostuts", "kernel.domainname", "evil", true, false, "private UTS namespace"},
           Refused{"hostipc", "kernel.shmmni", "2048", false, true, "private IPC namespace"},
           Refused{"hostmq", "fs.mqueue.msg_max", "20", false, true, "private IPC namespace"},
           Refused{"escape", "net.ipv4/../../kernel.core_pattern", "|/tmp/x", false, false, "not a valid name"},
       }) {
    auto config = PodConfig(r.name);
    auto* ns = config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
    if (r.host_network) ns->set_network(::runtime::v1::NODE);
    if (r.host_ipc) ns->set_ipc(::runtime::v1::NODE);
    (*config.mutable_linux()->mutable_sysctls())[r.sysctl] = r.value;
    std::string id;
    auto status = RunPod(config, &id);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.sysctl << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(r.sysctl), std::string::npos) << status.error_message();
    EXPECT_NE(status.error_message().find(r.says), std::string::npos) << status.error_message();
  }
  EXPECT_EQ(ReadFile("/proc/sys/kernel/core_pattern").value_or(""), host_core_pattern);
  ::runtime::v1::ListPodSandboxResponse listed;
  ASSERT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), {}, &listed).ok());
  EXPECT_EQ(listed.items_size(), 0) << "a refused pod was made";

  // Namespaced ones are applied inside the pod, and the host keeps its own values.
  // A value with spaces is written whole.
  auto pod_config = PodConfig("sysctls");
  auto& sysctls = *pod_config.mutable_linux()->mutable_sysctls();
  sysctls["kernel.shmmni"] = "2048";
  sysctls["net.ipv4.ip_unprivileged_port_start"] = "222";
  sysctls["net.ipv4.ping_group_range"] = "0 2147483647";
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"sleep", "3600"}));
  EXPECT_EQ(Exec(id, {"cat", "/proc/sys/kernel/shmmni"}).stdout(), "2048\n");
  EXPECT_EQ(Exec(id, {"cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"}).stdout(), "222\n");
  EXPECT_EQ(Exec(id, {"cat", "/proc/sys/net/ipv4/ping_group_range"}).stdout(), "0\t2147483647\n");
  EXPECT_EQ(ReadFile("/proc/sys/kernel/shmmni").value_or(""), host_shmmni);
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start").value_or(""), host_port_start);
}

// The Stream* forms of the list RPCs (batched, for nodes with many objects) answer
// what the List forms answer.
TEST_P(PodRequestsTest, StreamListsAnswerWhatListsAnswer) {
  auto pod_config = PodConfig("streamed");
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"sleep", "3600"}));
  std::vector<std::string> streamed;
  {
    auto ctx = Ctx();
    auto reader = client().runtime().StreamPodSandboxes(ctx.get(), {});
    ::runtime::v1::StreamPodSandboxesResponse batch;
    while (reader->Read(&batch)) {
      for (const auto& item : batch.pod_sandboxes()) streamed.push_back(item.id());
    }
    EXPECT_TRUE(reader->Finish().ok());
  }
  {
    auto ctx = Ctx();
    auto reader = client().runtime().StreamContainers(ctx.get(), {});
    ::runtime::v1::StreamContainersResponse batch;
    while (reader->Read(&batch)) {
      for (const auto& item : batch.containers()) streamed.push_back(item.id());
    }
    EXPECT_TRUE(reader->Finish().ok());
  }
  EXPECT_EQ(streamed, (std::vector<std::string>{pod, id}));
  size_t images = 0;
  {
    auto ctx = Ctx();
    auto reader = client().image().StreamImages(ctx.get(), {});
    ::runtime::v1::StreamImagesResponse batch;
    while (reader->Read(&batch)) images += static_cast<size_t>(batch.images_size());
    EXPECT_TRUE(reader->Finish().ok());
  }
  ::runtime::v1::ListImagesResponse listed;
  ASSERT_TRUE(client().image().ListImages(Ctx().get(), {}, &listed).ok());
  EXPECT_EQ(images, static_cast<size_t>(listed.images_size()));
  EXPECT_GE(images, 2u);
}

INSTANTIATE_TEST_SUITE_P(Handlers, PodRequestsTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
