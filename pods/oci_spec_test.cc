#include "pods/oci_spec.h"

#include <stdlib.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "base/file_util.h"

namespace berth::pods {
namespace {

// A pod, a container and an image whose rootfs (a plain directory) has the users
// and groups the tests look up.
class OciSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-oci-spec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    rootfs_ = tmpl;
    ASSERT_TRUE(MakeDirs(rootfs_ + "/etc", 0755).ok());
    ASSERT_TRUE(WriteFileAtomically(rootfs_ + "/etc/passwd",
                                    "root:x:0:0:root:/root:/bin/sh\n"
                                    "app:x:1000:1001:app:/home/app:/bin/sh\n",
                                    0644, Durability::kCrash)
                    .ok());
    ASSERT_TRUE(WriteFileAtomically(rootfs_ + "/etc/group",
                                    "root:x:0:\nappgroup:x:1001:\nvideo:x:44:app,other\naudio:x:63:other\n", 0644,
                                    Durability::kCrash)
                    .ok());
    pod_.id = "pod1";
    pod_.dir = "/run/berth/pods/pod1";
    pod_.netns_path = pod_.dir + "/net";
    pod_.ipcns_path = pod_.dir + "/ipc";
    pod_.utsns_path = pod_.dir + "/uts";
    pod_.shm_path = pod_.dir + "/shm";
    pod_.spec.hostname = "web-0";
    container_.name = "app";
    image_.entrypoint = {"/entry"};
    image_.cmd = {"--default"};
    image_.env = {"PATH=/opt/bin", "LANG=C"};
  }
  void TearDown() override { (void)RemoveAll(rootfs_); }

  StatusOr<runtime::Spec> Build() {
    SpecInputs in;
    in.pod = &pod_;
    in.container = &container_;
    in.image = &image_;
    in.container_id = "c1";
    in.rootfs = rootfs_;
    in.cgroup_path = "/kubepods/pod1/c1";
    in.cgroup_controllers = {"cpu", "memory", "pids"};
    return BuildOciSpec(in);
  }

  static const runtime::Mount* MountAt(const runtime::Spec& spec, const std::string& destination) {
    for (const auto& m : spec.mounts) {
      if (m.destination == destination) return &m;
    }
    return nullptr;
  }

  std::string rootfs_;
  SandboxRecord pod_;
  ContainerSpec container_;
  image::ImageConfig image_;
};

TEST_F(OciSpecTest, CommandAndArgsMeetTheImagesEntrypointAndCmd) {
  EXPECT_EQ(Build()->process.args, (std::vector<std::string>{"/entry", "--default"}));
  container_.args = {"--mine"};
  EXPECT_EQ(Build()->process.args, (std::vector<std::string>{"/entry", "--mine"}));
  container_.command = {"/bin/other"};
  EXPECT_EQ(Build()->process.args, (std::vector<std::string>{"/bin/other", "--mine"}));
  image_.entrypoint.clear();
  image_.cmd.clear();
  container_.command.clear();
  container_.args.clear();
  EXPECT_EQ(Build().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OciSpecTest, EnvironmentIsTheImagesWithTheContainersOnTop) {
  container_.env = {{"LANG", "en_US.UTF-8"}, {"MODE", "test"}};
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->process.env,
            (std::vector<std::string>{"PATH=/opt/bin", "LANG=en_US.UTF-8", "HOSTNAME=web-0", "MODE=test"}));
  image_.env.clear();
  EXPECT_EQ(Build()->process.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
      << "a default PATH when the image gives none";
}

TEST_F(OciSpecTest, UsersAndGroupsComeFromTheImage) {
  image_.user = "app";
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->process.user.uid, 1000u);
  EXPECT_EQ(spec->process.user.gid, 1001u);
  EXPECT_EQ(spec->process.user.additional_gids, (std::vector<gid_t>{44, 1001})) << "video lists app";

  container_.security.strict_supplemental_groups = true;
  container_.security.supplemental_groups = {63};
  EXPECT_EQ(Build()->process.user.additional_gids, (std::vector<gid_t>{63, 1001}))
      << "Strict: the image's /etc/group is not read";

  container_.security.run_as_username = "nobody-here";
  EXPECT_EQ(Build().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OciSpecTest, AnEtcThatLeavesTheRootfsIsReadInsideIt) {
  ASSERT_TRUE(RemoveAll(rootfs_ + "/etc").ok());
  ASSERT_EQ(::symlink("/etc", (rootfs_ + "/etc").c_str()), 0);
  image_.user = "root";  // in the host's /etc/passwd, not in the image's
  EXPECT_EQ(Build().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OciSpecTest, PodFilesAreMountedUnlessTheContainerBringsItsOwn) {
  container_.mounts.push_back(MountSpec::Bind("/etc/hosts", "/srv/hosts", true));
  container_.mounts.push_back(MountSpec::Bind("/data", "/srv/data", true, 1));
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(MountAt(*spec, "/etc/resolv.conf")->source, "/run/berth/pods/pod1/resolv.conf");
  EXPECT_EQ(MountAt(*spec, "/etc/hosts")->source, "/srv/hosts");
  EXPECT_EQ(MountAt(*spec, "/dev/shm")->source, "/run/berth/pods/pod1/shm");
  const auto* data = MountAt(*spec, "/data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->options, (std::vector<std::string>{"rbind", "rslave", "ro"}));
  EXPECT_EQ(spec->rootfs_propagation, "rslave");
}

TEST_F(OciSpecTest, BadMountsAreRefusedWithTheReason) {
  container_.mounts = {MountSpec::Bind("relative", "/srv", false)};
  EXPECT_NE(Build().status().message().find("must be absolute"), std::string::npos);
  container_.mounts = {MountSpec::Bind("/data", "/srv", false, 0, true)};
  EXPECT_NE(Build().status().message().find("needs readonly"), std::string::npos);
  container_.mounts = {MountSpec::Bind("/data", "/srv", true, 2, true)};
  EXPECT_NE(Build().status().message().find("needs private propagation"), std::string::npos);
}

TEST_F(OciSpecTest, NamespacesJoinThePodsOrTheNodes) {
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->FindNamespace("network")->path, pod_.netns_path);
  EXPECT_EQ(spec->FindNamespace("uts")->path, pod_.utsns_path);
  EXPECT_EQ(spec->FindNamespace("pid")->path, "") << "a PID namespace of its own";
  EXPECT_EQ(spec->hostname, "web-0");

  pod_.spec.network = NamespaceMode::kNode;
  container_.security.pid = NamespaceMode::kPod;
  EXPECT_EQ(Build().status().code(), StatusCode::kFailedPrecondition) << "the pod has no init";
  pod_.init_pid = 42;
  spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->FindNamespace("network"), nullptr);
  EXPECT_EQ(spec->FindNamespace("uts"), nullptr);
  EXPECT_EQ(spec->FindNamespace("pid")->path, "/proc/42/ns/pid");
  EXPECT_EQ(spec->hostname, "") << "the node's hostname is not the pod's to set";
}

TEST_F(OciSpecTest, UnprivilegedContainersAreConfined) {
  container_.security.seccomp.type = "runtime/default";
  container_.devices.push_back({"/dev/mynull", "/dev/null", "rw"});
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->masked_paths.empty());
  EXPECT_TRUE(spec->seccomp.has_value());
  ASSERT_EQ(spec->devices.size(), 1u);
  EXPECT_EQ(spec->devices[0].path, "/dev/mynull");
  EXPECT_EQ(spec->devices[0].major, 1);
  ASSERT_EQ(spec->resources->devices.size(), 2u);
  EXPECT_FALSE(spec->resources->devices[0].allow) << "everything denied first";
  EXPECT_EQ(spec->resources->devices[1].access, "rw");
  EXPECT_EQ(MountAt(*spec, "/sys")->options.back(), "ro");
  const auto& caps = spec->process.capabilities->bounding;
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "CAP_SYS_ADMIN"), 0);

  container_.devices = {{"/dev/x", "/etc/passwd", "rw"}};
  EXPECT_NE(Build().status().message().find("is not a device"), std::string::npos);
}

TEST_F(OciSpecTest, ALocalhostSeccompProfileMustBeOciJson) {
  container_.security.seccomp = {"localhost", rootfs_ + "/profile.json"};
  ASSERT_TRUE(WriteFileAtomically(rootfs_ + "/profile.json",
                                  R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                                       {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})",
                                  0644, Durability::kCrash)
                  .ok());
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->seccomp.has_value());
  EXPECT_EQ(spec->seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(spec->seccomp->syscalls[0].names.size(), 2u);

  ASSERT_TRUE(WriteFileAtomically(rootfs_ + "/profile.json", "{not json", 0644, Durability::kCrash).ok());
  EXPECT_EQ(Build().status().code(), StatusCode::kInvalidArgument);
  container_.security.seccomp.localhost_ref = "relative.json";
  EXPECT_NE(Build().status().message().find("must be absolute"), std::string::npos);
}

TEST_F(OciSpecTest, ExecRunsWithTheContainersIdentityAndNewArgs) {
  image_.user = "app";
  container_.tty = true;
  container_.resources.oom_score_adj = 500;
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  runtime::Process exec = ProcessForExec(*spec, {"ls", "-l"});
  EXPECT_EQ(exec.args, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(exec.user.uid, 1000u);
  EXPECT_EQ(exec.env, spec->process.env);
  EXPECT_FALSE(exec.terminal);
  EXPECT_FALSE(exec.oom_score_adj.has_value());
}

}  // namespace
}  // namespace berth::pods
