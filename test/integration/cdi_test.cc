// CDI devices end to end: a vendor's spec file in berthd's spec directory, a
// container asking for its devices (CRI's CDIDevices, the cdi.k8s.io/ annotations,
// an NRI plugin), and what the container then has: the device node, the mount, the
// environment, the group, the hook, on both handlers.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "test/integration/nri_test_plugin.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

class CdiTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (GetParam() == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
    if (::access("/dev/loop-control", F_OK) != 0) GTEST_SKIP() << "the host has no /dev/loop-control to hand out";
    cdi_dir_ = dir_ + "/cdi";
    ASSERT_TRUE(MakeDirs(cdi_dir_, 0755).ok());
    nri_socket_ = dir_ + "/nri/nri.sock";
    const std::string config = dir_ + "/berth.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, absl::StrCat("default_runtime_handler: ", GetParam(),
                                                         "\ncdi:\n  spec_dirs: [", dir_, "/no-such-dir, ", cdi_dir_,
                                                         "]\nnri:\n  enable: true\n  socket_path: ", nri_socket_,
                                                         "\n  plugin_path: ", dir_, "/no-plugins\n"))
                    .ok());
    // The vendor's libraries, which its spec mounts into containers.
    ASSERT_TRUE(MakeDirs(dir_ + "/vendor-lib", 0755).ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/vendor-lib/version", "vendor 1.0\n").ok());
    ASSERT_TRUE(WriteFileAtomically(cdi_dir_ + "/vendor.yaml", absl::StrCat(R"(cdiVersion: 0.7.0
kind: example.test/widget
devices:
  - name: w0
    containerEdits:
      env: [WIDGET=w0]
      deviceNodes:
        - {path: /dev/widget0, hostPath: /dev/loop-control, permissions: r}
  - name: w1
    containerEdits:
      env: [WIDGET_ONE=w1]
      deviceNodes:
        - {path: /dev/widget1, hostPath: /dev/null}
containerEdits:
  mounts:
    - {hostPath: )", dir_, R"(/vendor-lib, containerPath: /opt/widget, options: [rbind, ro]}
  additionalGids: [4242]
  hooks:
    - {hookName: createRuntime, path: /bin/sh, args: [sh, -c, "cat > )", dir_, R"(/widget-hook.json"]}
)")).ok());
    StartWithImages({"--config", config});
  }

  std::string cdi_dir_;
  std::string nri_socket_;
};

TEST_P(CdiTest, CriDevicesAndAnnotationsReachTheContainer) {
  auto pod_config = PodConfig("cdi");
  const std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("widgets", {"sleep", "3600"});
  config.add_cdi_devices()->set_name("example.test/widget=w0");
  (*config.mutable_annotations())["cdi.k8s.io/widget"] = "example.test/widget=w1";
  const std::string container = CreateAndStart(pod, pod_config, config);
  auto seen = Exec(container, {"sh", "-c",
                               "echo $WIDGET $WIDGET_ONE; cat /opt/widget/version; id -G; "
                               "stat -c '%t:%T' /dev/widget0 /dev/widget1; true < /dev/widget0 && echo opened; "
                               "true > /dev/widget0 2>/dev/null || echo read-only"});
  // /dev/loop-control: a node no container has by default, so only the spec's rule
  // lets it open, and for reading only ("r"); opening it does nothing.
  struct stat loop_control, null;
  ASSERT_EQ(::stat("/dev/loop-control", &loop_control), 0);
  ASSERT_EQ(::stat("/dev/null", &null), 0);
  const std::string numbers =
      absl::StrCat(absl::Hex(major(loop_control.st_rdev)), ":", absl::Hex(minor(loop_control.st_rdev)), "\n",
                   absl::Hex(major(null.st_rdev)), ":", absl::Hex(minor(null.st_rdev)), "\n");
  EXPECT_EQ(seen.stdout(), absl::StrCat("w0 w1\nvendor 1.0\n0 4242\n", numbers, "opened\nread-only\n"))
      << seen.stderr();
  auto hook_state = nlohmann::json::parse(ReadFile(dir_ + "/widget-hook.json").value_or("{}"), nullptr, false);
  EXPECT_EQ(hook_state.value("id", ""), container) << "the spec's createRuntime hook ran";
}

TEST_P(CdiTest, AnUnknownDeviceFailsTheCreateSayingWhich) {
  auto pod_config = PodConfig("cdi-unknown");
  const std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("unknown", {"sleep", "3600"});
  config.add_cdi_devices()->set_name("example.test/widget=w9");
  std::string id;
  grpc::Status created = Create(pod, pod_config, config, &id);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(created.error_message().find("CDI device example.test/widget=w9 is described by no spec"),
            std::string::npos)
      << created.error_message();
  config.clear_cdi_devices();
  config.add_cdi_devices()->set_name("widget");
  created = Create(pod, pod_config, config, &id);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << created.error_message();
}

TEST_P(CdiTest, AnNriPluginsDevicesAreInjected) {
  auto plugin = NriTestPlugin::Connect(nri_socket_, "devices", "50");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  ASSERT_TRUE((*plugin)->AwaitSynchronized());
  nri::api::ContainerAdjustment adjust;
  adjust.add_cdi_devices()->set_name("example.test/widget=w1");
  (*plugin)->AdjustCreatedContainers(adjust);
  auto pod_config = PodConfig("cdi-nri");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("nri", {"sleep", "3600"}));
  auto seen = Exec(container, {"sh", "-c", "echo $WIDGET_ONE; test -c /dev/widget1 && echo node"});
  EXPECT_EQ(seen.stdout(), "w1\nnode\n") << seen.stderr();
}

INSTANTIATE_TEST_SUITE_P(Handlers, CdiTest, ::testing::Values("berth", "runc"));

}  // namespace
}  // namespace berth::testing
