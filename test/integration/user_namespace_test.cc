// Pods in user namespaces of their own (KEP-127), on berth's runtime and on runc,
// through a real berthd: the pod's root is an unprivileged host uid, the image and
// the volumes that ask for it are idmapped (nothing chowned), the pod's network
// namespace is its user namespace's, and what kubelet may not ask for is refused.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/mount_points.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

constexpr uint32_t kHostBase = 200000;
constexpr uint32_t kLength = 65536;

void MapIds(::runtime::v1::UserNamespace* userns, uint32_t container_id, uint32_t host_id, uint32_t length) {
  for (auto* list : {userns->mutable_uids(), userns->mutable_gids()}) {
    auto* m = list->Add();
    m->set_container_id(container_id);
    m->set_host_id(host_id);
    m->set_length(length);
  }
}

class UserNamespaceTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    // runc mounts the rootfs and volumes from inside the pod's user namespace, as
    // the pod's root: the paths to them must be searchable by others, as berthd's
    // own directories are (mkdtemp made this one 0700).
    ASSERT_EQ(::chmod(dir_.c_str(), 0711), 0);
    StartOnHandler(GetParam());
  }

  ::runtime::v1::PodSandboxConfig UsernsPodConfig(const std::string& name) {
    auto config = PodConfig(name);
    auto* userns = config.mutable_linux()->mutable_security_context()->mutable_namespace_options()
                       ->mutable_userns_options();
    userns->set_mode(::runtime::v1::POD);
    MapIds(userns, 0, kHostBase, kLength);
    return config;
  }

  // As kubelet makes it: the pod's namespace options, the pod's mappings on every mount.
  ::runtime::v1::ContainerConfig UsernsContainerConfig(const ::runtime::v1::PodSandboxConfig& pod,
                                                       const std::string& name, std::vector<std::string> command) {
    auto config = ContainerConfig(name, std::move(command));
    *config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->mutable_userns_options() =
        pod.linux().security_context().namespace_options().userns_options();
    return config;
  }

  void IdmapMount(const ::runtime::v1::PodSandboxConfig& pod, ::runtime::v1::Mount* mount) {
    const auto& userns = pod.linux().security_context().namespace_options().userns_options();
    *mount->mutable_uidmappings() = userns.uids();
    *mount->mutable_gidmappings() = userns.gids();
  }

  int ContainerPid(const std::string& id) { return VerboseContainerInfo(id).value("pid", 0); }

  // The real uid of pid as the host sees it (/proc/PID/status).
  int64_t HostUid(int pid) {
    std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status")).value_or("");
    for (absl::string_view line : absl::StrSplit(status, '\n')) {
      if (absl::ConsumePrefix(&line, "Uid:")) {
        std::vector<absl::string_view> ids = absl::StrSplit(line, '\t', absl::SkipEmpty());
        int64_t uid = -1;
        if (!ids.empty() && absl::SimpleAtoi(ids[0], &uid)) return uid;
      }
    }
    return -1;
  }

  std::string Sh(const std::string& id, const std::string& script) {
    auto response = Exec(id, {"/bin/sh", "-c", script});
    EXPECT_EQ(response.exit_code(), 0) << script << ": " << response.stderr();
    return response.stdout();
  }
};

TEST_P(UserNamespaceTest, StatusAdvertisesUserNamespaces) {
  ::runtime::v1::StatusRequest request;
  ::runtime::v1::StatusResponse response;
  ASSERT_TRUE(client().runtime().Status(Ctx().get(), request, &response).ok());
  int seen = 0;
  for (const auto& handler : response.runtime_handlers()) {
    if (handler.name().empty() || handler.name() == GetParam()) {
      EXPECT_TRUE(handler.features().user_namespaces()) << "handler \"" << handler.name() << "\"";
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
}

TEST_P(UserNamespaceTest, PodRootIsAnUnprivilegedHostUidThatOwnsItsImage) {
  std::string plain = dir_ + "/plain-volume";
  std::string idmapped = dir_ + "/idmapped-volume";
  std::string secret = dir_ + "/root-only";
  ASSERT_EQ(::mkdir(plain.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(plain.c_str(), 0777), 0);
  ASSERT_EQ(::mkdir(idmapped.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomically(secret, "host secret\n", 0600).ok());

  auto pod_config = UsernsPodConfig("userns");
  std::string pod = RunPod(pod_config);
  auto config = UsernsContainerConfig(pod_config, "c", {"/bin/sh", "-c", "sleep 3600"});
  auto* plain_mount = config.add_mounts();
  plain_mount->set_container_path("/plain");
  plain_mount->set_host_path(plain);
  auto* idmapped_mount = config.add_mounts();
  idmapped_mount->set_container_path("/idmapped");
  idmapped_mount->set_host_path(idmapped);
  IdmapMount(pod_config, idmapped_mount);
  auto* secret_mount = config.add_mounts();
  secret_mount->set_container_path("/secret");
  secret_mount->set_host_path(secret);
  secret_mount->set_readonly(true);
  std::string id = CreateAndStart(pod, pod_config, config);

  // Inside: root, in a namespace that maps 0 to the pod's range.
  EXPECT_EQ(Sh(id, "id -u; id -g"), "0\n0\n");
  std::vector<std::string> map = absl::StrSplit(Sh(id, "cat /proc/self/uid_map"), ' ', absl::SkipEmpty());
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[0], "0");
  EXPECT_EQ(map[1], absl::StrCat(kHostBase));
  EXPECT_EQ(absl::StripAsciiWhitespace(map[2]), absl::StrCat(kLength));
  // The image's files (root's on disk) are the pod's root's, writable as such, with
  // no copy or chown of the layers.
  EXPECT_EQ(Sh(id, "stat -c %u:%g /bin/sh /etc/passwd"), "0:0\n0:0\n");
  EXPECT_EQ(Sh(id, "echo changed >> /etc/passwd && touch /made && stat -c %u /made"), "0\n");

  // Outside: the process is the unprivileged host uid its root maps to.
  int pid = ContainerPid(id);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(HostUid(pid), kHostBase);

  // A volume without mappings: what the pod's root makes there is the host uid's.
  Sh(id, "touch /plain/made");
  struct stat st;
  ASSERT_EQ(::stat((plain + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kHostBase);
  // An idmapped volume: the host's root-owned directory is the pod's root's, and
  // what it makes there is stored as the host's root.
  EXPECT_EQ(Sh(id, "stat -c %u /idmapped; touch /idmapped/made; stat -c %u /idmapped/made"), "0\n0\n");
  ASSERT_EQ(::stat((idmapped + "/made").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);

  // What only the host's root may do, the pod's root may not.
  auto read_secret = Exec(id, {"/bin/cat", "/secret"});
  EXPECT_NE(read_secret.exit_code(), 0) << read_secret.stdout();
  EXPECT_NE(read_secret.stdout(), "host secret\n");
  EXPECT_NE(Exec(id, {"/bin/sh", "-c", "echo 1 > /proc/sys/vm/drop_caches"}).exit_code(), 0);
  EXPECT_NE(Exec(id, {"/bin/sh", "-c", "mknod /tmp/disk b 8 0"}).exit_code(), 0);

  // The pod's own namespaces are its user namespace's: sysfs shows its interfaces,
  // and its root may bind a privileged port.
  EXPECT_TRUE(absl::StrContains(Sh(id, "ls /sys/class/net"), "lo"));
  EXPECT_EQ(Sh(id, "httpd -p 80 -h /tmp && echo bound"), "bound\n");

  ASSERT_TRUE(RemovePod(pod).ok());
  // Nothing of the pod stays mounted: not the idmapped layers, not the volumes.
  auto left = MountPointsUnder(dir_);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << absl::StrJoin(*left, "\n");
}

TEST_P(UserNamespaceTest, SharedPidPodRunsInsideItsUserNamespace) {
  auto pod_config = UsernsPodConfig("userns-pid");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::POD);
  std::string pod = RunPod(pod_config);
  auto config = UsernsContainerConfig(pod_config, "a", {"/bin/sh", "-c", "sleep 3600"});
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::POD);
  std::string a = CreateAndStart(pod, pod_config, config);
  config.mutable_metadata()->set_name("b");
  config.set_log_path("b.log");
  std::string b = CreateAndStart(pod, pod_config, config);
  // Each sees the other's processes, and all are the pod's root.
  EXPECT_TRUE(absl::StrContains(Sh(b, "ps -o user,args"), "sleep 3600"));
  EXPECT_EQ(Sh(a, "id -u"), "0\n");
  EXPECT_EQ(HostUid(ContainerPid(b)), kHostBase);
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(UserNamespaceTest, NodeModeIsTheHostsUserNamespace) {
  auto pod_config = PodConfig("userns-node");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->mutable_userns_options()
      ->set_mode(::runtime::v1::NODE);
  std::string pod = RunPod(pod_config);
  std::string id = CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sh", "-c", "sleep 3600"}));
  EXPECT_EQ(Sh(id, "cat /proc/self/uid_map"), ReadFile("/proc/self/uid_map").value_or("?"));
  EXPECT_EQ(HostUid(ContainerPid(id)), 0);
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_P(UserNamespaceTest, RefusesWhatKubeletMayNotAskFor) {
  auto refused = [&](::runtime::v1::PodSandboxConfig config, const char* words) {
    std::string id;
    auto status = RunPod(config, &id);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << words << ": " << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), words)) << status.error_message();
    EXPECT_TRUE(id.empty());
  };
  auto userns_of = [](::runtime::v1::PodSandboxConfig& config) {
    return config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->mutable_userns_options();
  };
  auto two = UsernsPodConfig("two");
  MapIds(userns_of(two), 70000, 300000, 10);
  refused(two, "exactly one uid mapping");
  auto unmapped_root = PodConfig("unmapped");
  userns_of(unmapped_root)->set_mode(::runtime::v1::POD);
  MapIds(userns_of(unmapped_root), 1, kHostBase, kLength);
  refused(unmapped_root, "must map container id 0");
  auto container_mode = PodConfig("container-mode");
  userns_of(container_mode)->set_mode(::runtime::v1::CONTAINER);
  refused(container_mode, "mode CONTAINER is not supported");
  auto target_mode = PodConfig("target-mode");
  userns_of(target_mode)->set_mode(::runtime::v1::TARGET);
  refused(target_mode, "mode TARGET is not supported");
  auto host_root = PodConfig("host-root");
  userns_of(host_root)->set_mode(::runtime::v1::POD);
  MapIds(userns_of(host_root), 0, 0, kLength);
  refused(host_root, "host id 0");
  auto host_network = UsernsPodConfig("host-network");
  host_network.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  refused(host_network, "host's network");

  // A container naming other mappings than its pod's.
  auto pod_config = UsernsPodConfig("mismatch");
  std::string pod = RunPod(pod_config);
  auto config = UsernsContainerConfig(pod_config, "c", {"/bin/true"});
  auto* userns = config.mutable_linux()->mutable_security_context()->mutable_namespace_options()
                     ->mutable_userns_options();
  userns->mutable_uids(0)->set_host_id(kHostBase + 1);
  std::string id;
  auto status = Create(pod, pod_config, config, &id);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "other than its pod's")) << status.error_message();
  ASSERT_TRUE(RemovePod(pod).ok());
}

INSTANTIATE_TEST_SUITE_P(Handlers, UserNamespaceTest, ::testing::Values("berth", "runc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
