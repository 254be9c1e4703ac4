#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "cdi/edits.h"
#include "cdi/registry.h"
#include "cdi/spec.h"

namespace berth::cdi {
namespace {

constexpr char kVendorJson[] = R"({
  "cdiVersion": "0.6.0",
  "kind": "vendor.example/gpu",
  "devices": [
    {"name": "gpu0",
     "containerEdits": {
       "env": ["GPU=0"],
       "deviceNodes": [{"path": "/dev/gpu0", "hostPath": "/dev/null", "permissions": "rw"}],
       "mounts": [{"hostPath": "/opt/gpu/lib", "containerPath": "/usr/lib/gpu", "options": ["ro", "rbind"]}]}},
    {"name": "gpu1",
     "containerEdits": {"env": ["GPU=1"],
       "deviceNodes": [{"path": "/dev/gpu1", "type": "c", "major": 195, "minor": 1, "fileMode": 438}]}}
  ],
  "containerEdits": {
    "env": ["GPU_DRIVER=9"],
    "hooks": [{"hookName": "createContainer", "path": "/usr/bin/gpu-hook", "args": ["gpu-hook", "ldcache"],
               "timeout": 5}],
    "additionalGids": [44, 0]
  }
})";

constexpr char kVendorYaml[] = R"(cdiVersion: 0.5.0
kind: vendor.example/fpga
devices:
  - name: "0"
    containerEdits:
      env: [FPGA=0]
)";

runtime::Spec BaseSpec() {
  runtime::Spec spec;
  spec.process.args = {"sh"};
  spec.process.env = {"PATH=/bin", "GPU=none"};
  spec.mounts = {{"/proc", "proc", "proc", {}}, {"/usr/lib/gpu", "bind", "/elsewhere", {"rbind"}}};
  return spec;
}

TEST(CdiSpecTest, ParsesJsonAndYaml) {
  auto json = ParseSpec(kVendorJson, "vendor.json");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->kind, "vendor.example/gpu");
  ASSERT_EQ(json->devices.size(), 2u);
  EXPECT_EQ(json->devices[1].edits.device_nodes[0].major, 195);
  EXPECT_EQ(json->devices[1].edits.device_nodes[0].file_mode, 438u);
  ASSERT_EQ(json->edits.hooks.size(), 1u);
  EXPECT_EQ(json->edits.hooks[0].hook.timeout, 5);
  auto yaml = ParseSpec(kVendorYaml, "vendor.yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  EXPECT_EQ(yaml->devices[0].name, "0") << "a device name may start with a digit";
}

TEST(CdiSpecTest, RefusesWhatTheSpecForbidsSayingWhere) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"[]", "not a CDI spec"},
           {"kind: a.b/c\ndevices: [{name: x}]", "cdiVersion is missing"},
           {"cdiVersion: 0.6.0\nkind: nokind\ndevices: [{name: x}]", "kind \"nokind\" is not vendor.com/class"},
           {"cdiVersion: 0.6.0\nkind: a.b/c/d\ndevices: [{name: x}]", "is not vendor.com/class"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: []", "describes no devices"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: [{name: -x}]", "devices[0].name \"-x\" is invalid"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: [{name: x, containerEdits: {deviceNodes: [{path: dev/x}]}}]",
            "devices[0].containerEdits.deviceNodes[0].path \"dev/x\" is not absolute"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: [{name: x, containerEdits: {deviceNodes: [{path: /x, major: "
            "lots}]}}]",
            "major has the wrong type"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: [{name: x}]\ncontainerEdits: {hooks: [{hookName: later, path: "
            "/x}]}",
            "hookName \"later\" is no OCI hook"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: [{name: x, containerEdits: {env: [NOVALUE]}}]",
            "is not NAME=value"},
           {"cdiVersion: 0.6.0\nkind: a.b/c\ndevices: {name: x}", "devices is not a list"},
           {"{{{", "invalid YAML or JSON"},
       }) {
    auto parsed = ParseSpec(c.text, "f");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.says), std::string::npos) << parsed.status();
  }
}

TEST(CdiSpecTest, QualifiedNames) {
  auto name = ParseQualifiedName("vendor.example/gpu=gpu0");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->kind, "vendor.example/gpu");
  EXPECT_EQ(name->name, "gpu0");
  for (const char* bad : {"gpu0", "vendor/gpu", "=gpu0", "vendor.example/gpu=", "vendor.example/gpu=a/b",
                          "vendor..example/gpu=x", "vendor.example/gpu=x=y"}) {
    EXPECT_EQ(ParseQualifiedName(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(CdiEditsTest, DeviceNodesTakeWhatIsLeftOutFromTheHost) {
  runtime::Spec spec = BaseSpec();
  auto parsed = ParseSpec(kVendorJson, "vendor.json");
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(ApplyEdits(parsed->devices[0].edits, &spec).ok());
  struct stat null_device;
  ASSERT_EQ(::stat("/dev/null", &null_device), 0);
  ASSERT_EQ(spec.devices.size(), 1u);
  EXPECT_EQ(spec.devices[0].path, "/dev/gpu0");
  EXPECT_EQ(spec.devices[0].type, 'c');
  EXPECT_EQ(spec.devices[0].major, static_cast<int64_t>(major(null_device.st_rdev)));
  EXPECT_EQ(spec.devices[0].minor, static_cast<int64_t>(minor(null_device.st_rdev)));
  EXPECT_EQ(spec.devices[0].file_mode, null_device.st_mode & 07777);
  ASSERT_TRUE(spec.resources);
  ASSERT_EQ(spec.resources->devices.size(), 1u);
  EXPECT_EQ(spec.resources->devices[0].access, "rw");
  EXPECT_EQ(spec.process.env, (std::vector<std::string>{"PATH=/bin", "GPU=0"})) << "replaced, not doubled";
  ASSERT_EQ(spec.mounts.size(), 2u);
  EXPECT_EQ(spec.mounts[1].destination, "/usr/lib/gpu");
  EXPECT_EQ(spec.mounts[1].source, "/opt/gpu/lib") << "the device's mount replaces the one at its path";

  // A node the host lacks must be described in full; one described so is made.
  runtime::Spec other = BaseSpec();
  ContainerEdits missing;
  missing.device_nodes.push_back({"/dev/none", "/dev/berth-no-such-node", "", {}, {}, {}, "", {}, {}});
  EXPECT_EQ(ApplyEdits(missing, &other).code(), StatusCode::kNotFound);
  ASSERT_TRUE(ApplyEdits(parsed->devices[1].edits, &other).ok());
  EXPECT_EQ(other.devices[0].major, 195);
  EXPECT_EQ(other.devices[0].file_mode, 438u);

  ContainerEdits rdt;
  rdt.intel_rdt = true;
  EXPECT_EQ(ApplyEdits(rdt, &other).code(), StatusCode::kFailedPrecondition);
}

TEST(CdiEditsTest, NetDevicesAreMovedUnderTheirNewName) {
  auto parsed = ParseSpec(R"({"cdiVersion": "0.7.0", "kind": "vendor.example/nic", "devices": [
      {"name": "vf0", "containerEdits": {"netDevices": [{"hostInterfaceName": "enp1s0f0v0", "name": "net0"}]}},
      {"name": "vf0-again",
       "containerEdits": {"netDevices": [{"hostInterfaceName": "enp1s0f0v0", "name": "eth9"}]}}]})",
                          "nic.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  runtime::Spec spec = BaseSpec();
  ASSERT_TRUE(ApplyEdits(parsed->devices[0].edits, &spec).ok());
  ASSERT_EQ(spec.net_devices.size(), 1u);
  EXPECT_EQ(spec.net_devices["enp1s0f0v0"].name, "net0");
  ASSERT_TRUE(ApplyEdits(parsed->devices[0].edits, &spec).ok()) << "the same device twice asks for the same thing";
  Status clash = ApplyEdits(parsed->devices[1].edits, &spec);
  EXPECT_EQ(clash.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(clash.message().find("as net0 and as eth9"), absl::string_view::npos) << clash;

  auto nameless = ParseSpec(R"({"cdiVersion": "0.7.0", "kind": "vendor.example/nic", "devices": [
      {"name": "vf1", "containerEdits": {"netDevices": [{"hostInterfaceName": "enp1s0f0v1"}]}}]})",
                            "nic.json");
  EXPECT_EQ(nameless.status().code(), StatusCode::kInvalidArgument);
}

class CdiRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cdi-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MakeDirs(dir_ + "/etc", 0755).ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/run", 0755).ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  void Write(const std::string& path, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/" + path, text).ok());
  }
  Registry registry() const { return Registry({dir_ + "/etc", dir_ + "/run"}); }

  std::string dir_;
};

TEST_F(CdiRegistryTest, InjectsDevicesAndTheirSpecsEditsOnce) {
  Write("etc/vendor.json", kVendorJson);
  Write("etc/fpga.yaml", kVendorYaml);
  runtime::Spec spec = BaseSpec();
  ASSERT_TRUE(registry()
                  .InjectDevices({"vendor.example/gpu=gpu0", "vendor.example/gpu=gpu1", "vendor.example/gpu=gpu0",
                                  "vendor.example/fpga=0"},
                                 &spec)
                  .ok());
  EXPECT_EQ(spec.devices.size(), 2u);
  EXPECT_EQ(spec.hooks.create_container.size(), 1u) << "the spec's own edits, once";
  EXPECT_EQ(spec.process.user.additional_gids, std::vector<gid_t>{44}) << "gid 0 is ignored";
  EXPECT_EQ(spec.process.env,
            (std::vector<std::string>{"PATH=/bin", "GPU=1", "FPGA=0", "GPU_DRIVER=9"}));
}

TEST_F(CdiRegistryTest, ALaterDirectoryOverridesAndOneDirectoryConflicts) {
  Write("etc/vendor.json", kVendorJson);
  Write("run/vendor.yaml", "cdiVersion: 0.6.0\nkind: vendor.example/gpu\ndevices:\n"
                           "  - name: gpu0\n    containerEdits: {env: [FROM=run]}\n");
  runtime::Spec spec = BaseSpec();
  ASSERT_TRUE(registry().InjectDevices({"vendor.example/gpu=gpu0"}, &spec).ok());
  EXPECT_EQ(spec.process.env, (std::vector<std::string>{"PATH=/bin", "GPU=none", "FROM=run"}));

  Write("run/again.json", R"({"cdiVersion": "0.6.0", "kind": "vendor.example/gpu",
                             "devices": [{"name": "gpu0", "containerEdits": {"env": ["FROM=again"]}}]})");
  Status conflict = registry().InjectDevices({"vendor.example/gpu=gpu0"}, &spec);
  EXPECT_EQ(conflict.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(conflict.message().find("again.json"), std::string::npos) << conflict;
  EXPECT_NE(conflict.message().find("vendor.yaml"), std::string::npos) << conflict;
  // The other device of the overridden spec is still there.
  EXPECT_TRUE(registry().InjectDevices({"vendor.example/gpu=gpu1"}, &spec).ok());
}

TEST_F(CdiRegistryTest, AMissingDeviceIsNotFoundNamingTheUnreadableFiles) {
  Write("etc/broken.json", "{\"cdiVersion\": ");
  // A FIFO named like a spec is passed over, not waited on.
  ASSERT_EQ(::mkfifo((dir_ + "/run/fifo.json").c_str(), 0600), 0);
  runtime::Spec spec = BaseSpec();
  Status missing = registry().InjectDevices({"vendor.example/gpu=gpu9"}, &spec);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("broken.json"), std::string::npos) << missing;
  EXPECT_NE(missing.message().find("fifo.json: not a regular file"), std::string::npos) << missing;
  EXPECT_EQ(registry().InjectDevices({"not-qualified"}, &spec).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry().InjectDevices({}, &spec).ok()) << "no devices, no files read";
}

TEST(CdiAnnotationsTest, DevicesComeFromEveryCdiKey) {
  EXPECT_EQ(DevicesInAnnotations({{"cdi.k8s.io/b", "v.io/x=2"},
                                  {"cdi.k8s.io/a", " v.io/x=0 , v.io/x=1,"},
                                  {"cdi.k8s.io", "v.io/x=not-a-key"},
                                  {"other", "v.io/x=9"}}),
            (std::vector<std::string>{"v.io/x=0", "v.io/x=1", "v.io/x=2"}));
}

}  // namespace
}  // namespace berth::cdi
