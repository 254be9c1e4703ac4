#include "pods/config.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace berth::pods {
namespace {

TEST(ConfigTest, EmptyDocumentGivesDefaults) {
  auto config = ParseConfig("", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->socket, "/run/berth/berth.sock");
  EXPECT_EQ(config->root, "/var/lib/berth");
  EXPECT_EQ(config->cni.conf_dir, "/etc/cni/net.d");
  EXPECT_EQ(config->log_level, LogLevel::kInfo);
}

TEST(ConfigTest, ReadsEveryKey) {
  auto config = ParseConfig(R"(
socket: /tmp/x/berth.sock
root: /tmp/x/root
state_dir: /tmp/x/run
log_level: debug
cgroup_driver: cgroupfs
cni:
  conf_dir: /tmp/x/net.d
  bin_dirs: [/tmp/x/bin, /usr/lib/cni]
)",
                            "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->socket, "/tmp/x/berth.sock");
  EXPECT_EQ(config->state_dir, "/tmp/x/run");
  EXPECT_EQ(config->log_level, LogLevel::kDebug);
  EXPECT_EQ(config->cni.bin_dirs, (std::vector<std::string>{"/tmp/x/bin", "/usr/lib/cni"}));
}

TEST(ConfigTest, ReadsStreamingSettingsAndChecksTls) {
  auto config = ParseConfig(R"(
streaming:
  address: 0.0.0.0
  port: 10010
  tls_cert_file: /etc/berth/tls.pem
  tls_key_file: /etc/berth/tls.key
  tls_client_ca_file: /etc/berth/ca.pem
)",
                            "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->streaming.port, 10010);
  EXPECT_EQ(config->streaming.tls_client_ca_file, "/etc/berth/ca.pem");
  auto again = ParseConfig(config->ToYaml(), "again.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->streaming.tls_key_file, "/etc/berth/tls.key");

  auto cert_alone = ParseConfig("streaming:\n  tls_cert_file: /etc/berth/tls.pem\n", "test.yaml");
  ASSERT_FALSE(cert_alone.ok());
  EXPECT_NE(cert_alone.status().message().find("go together"), std::string::npos) << cert_alone.status();
  EXPECT_FALSE(ParseConfig("streaming:\n  tls_client_ca_file: /etc/berth/ca.pem\n", "test.yaml").ok());
  EXPECT_FALSE(
      ParseConfig("streaming:\n  tls_cert_file: tls.pem\n  tls_key_file: /etc/berth/tls.key\n", "test.yaml").ok())
      << "a relative path";
}

TEST(ConfigTest, MetricsAreOffByDefaultAndTakeHostAndPort) {
  auto defaults = ParseConfig("", "test.yaml");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->metrics.address, "");
  auto config = ParseConfig("metrics:\n  address: 127.0.0.1:9101\n", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics.address, "127.0.0.1:9101");
  auto again = ParseConfig(config->ToYaml(), "again.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->metrics.address, "127.0.0.1:9101");
  for (const char* bad : {"9101", ":9101", "127.0.0.1:http", "127.0.0.1:70000"}) {
    auto refused = ParseConfig(absl::StrCat("metrics:\n  address: \"", bad, "\"\n"), "test.yaml");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("metrics.address"), std::string::npos) << refused.status();
  }
}

TEST(ConfigTest, CdiSpecDirsDefaultAsCdiSaysAndRoundTrip) {
  auto defaults = ParseConfig("", "test.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->cdi.spec_dirs, (std::vector<std::string>{"/etc/cdi", "/var/run/cdi"}));
  auto config = ParseConfig("cdi:\n  spec_dirs: [/srv/cdi]\n", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cdi.spec_dirs, std::vector<std::string>{"/srv/cdi"});
  auto again = ParseConfig(config->ToYaml(), "again.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->cdi.spec_dirs, std::vector<std::string>{"/srv/cdi"});
  EXPECT_FALSE(ParseConfig("cdi:\n  dirs: [/srv/cdi]\n", "test.yaml").ok()) << "unknown keys are refused";
}

TEST(ConfigTest, ReadsRegistryMirrorsAndImageSettings) {
  auto config = ParseConfig(R"(
registry:
  hosts:
    docker.io:
      mirrors: ["http://127.0.0.1:5000"]
      skip_upstream: true
    "*":
      mirrors: ["https://mirror.example"]
  insecure: ["reg.local:5000"]
images:
  pinned: ["registry.k8s.io/pause:3.9"]
  max_concurrent_downloads: 5
  pull_progress_timeout_seconds: 20
  max_layer_bytes: 10737418240
)",
                            "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->registry.hosts.at("docker.io").mirrors[0], "http://127.0.0.1:5000");
  EXPECT_TRUE(config->registry.hosts.at("docker.io").skip_upstream);
  EXPECT_FALSE(config->registry.hosts.at("*").skip_upstream);
  EXPECT_EQ(config->registry.insecure[0], "reg.local:5000");
  EXPECT_EQ(config->images.pinned[0], "registry.k8s.io/pause:3.9");
  EXPECT_EQ(config->images.max_concurrent_downloads, 5);
  EXPECT_EQ(config->images.pull_progress_timeout_seconds, 20);
  EXPECT_EQ(config->images.max_layer_bytes, int64_t{10} << 30);
  auto again = ParseConfig(config->ToYaml(), "again.yaml");
  ASSERT_TRUE(again.ok()) << again.status() << config->ToYaml();
  EXPECT_TRUE(again->registry.hosts.at("docker.io").skip_upstream);
}

TEST(ConfigTest, RoundTripsThroughToYaml) {
  auto config = ParseConfig("root: /srv/berth\ncni:\n  conf_dir: /srv/net.d\n", "a.yaml");
  ASSERT_TRUE(config.ok());
  auto again = ParseConfig(config->ToYaml(), "b.yaml");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << config->ToYaml();
  EXPECT_EQ(again->root, "/srv/berth");
  EXPECT_EQ(again->cni.conf_dir, "/srv/net.d");
}

TEST(ConfigTest, NamedHandlersRunABuiltInRuntimeAndRoundTrip) {
  auto config = ParseConfig(R"(
default_runtime_handler: test-handler
runtimes:
  handlers:
    test-handler: {runtime: runc}
    fast: {runtime: berth}
)",
                            "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->runtimes.handlers,
            (std::map<std::string, std::string>{{"fast", "berth"}, {"test-handler", "runc"}}));
  auto again = ParseConfig(config->ToYaml(), "again.yaml");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << config->ToYaml();
  EXPECT_EQ(again->runtimes.handlers, config->runtimes.handlers);
  EXPECT_EQ(again->default_runtime_handler, "test-handler");
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* expected_in_message;
};

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, IsInvalidArgumentNamingTheProblem) {
  auto config = ParseConfig(GetParam().yaml, "bad.yaml");
  ASSERT_FALSE(config.ok()) << GetParam().yaml;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(GetParam().expected_in_message), absl::string_view::npos)
      << config.status();
  EXPECT_NE(config.status().message().find("bad.yaml"), absl::string_view::npos) << config.status();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadCase{"UnknownTopKey", "sockett: /x\n", "unknown config key \"sockett\" (line 1)"},
        BadCase{"UnknownNestedKey", "cni:\n  confdir: /x\n", "unknown config key \"cni.confdir\" (line 2)"},
        BadCase{"BadLogLevel", "log_level: loud\n", "\"log_level\" (line 1): unknown log level \"loud\""},
        BadCase{"RelativePath", "root: relative/dir\n", "\"root\": \"relative/dir\" is not an absolute path"},
        BadCase{"ListExpected", "cni:\n  bin_dirs: /opt/cni/bin\n", "\"cni.bin_dirs\" (line 2): want a list"},
        BadCase{"MappingExpected", "cni: [a, b]\n", "\"cni\" (line 1): want a mapping"},
        BadCase{"StringExpected", "socket: [a]\n", "\"socket\" (line 1): want a string"},
        BadCase{"SystemdDriver", "cgroup_driver: systemd\n", "\"cgroup_driver\": \"systemd\" is not supported"},
        BadCase{"SameRootAndState", "root: /a\nstate_dir: /a\n", "must differ"},
        BadCase{"BrokenYaml", "socket: [unclosed\n", "invalid YAML"},
        BadCase{"MirrorWithoutScheme", "registry:\n  hosts:\n    docker.io:\n      mirrors: [127.0.0.1:5000]\n",
                "must start with http:// or https://"},
        BadCase{"UnknownHostKey", "registry:\n  hosts:\n    docker.io:\n      mirror: [x]\n",
                "unknown config key \"registry.hosts.docker.io.mirror\" (line 4)"},
        BadCase{"SkipUpstreamNotBool", "registry:\n  hosts:\n    a.io:\n      mirrors: [http://x]\n      skip_upstream: maybe\n",
                "want true or false"},
        BadCase{"SkipUpstreamWithoutMirrors", "registry:\n  hosts:\n    a.io:\n      skip_upstream: true\n",
                "no mirrors to use instead"},
        BadCase{"DownloadsOutOfRange", "images:\n  max_concurrent_downloads: 0\n", "is not in 1..64"},
        BadCase{"ProgressTimeoutZero", "images:\n  pull_progress_timeout_seconds: 0\n", "is not in 1..3600"},
        BadCase{"NegativeLayerCap", "images:\n  max_layer_bytes: -1\n", "is negative"},
        BadCase{"HandlerOfUnknownRuntime", "runtimes:\n  handlers:\n    x: {runtime: kata}\n",
                "\"runtimes.handlers.x.runtime\": \"kata\" is not berth, runc or crun"},
        BadCase{"HandlerWithoutRuntime", "runtimes:\n  handlers:\n    x: {}\n", "\"runtimes.handlers.x\": no runtime"},
        BadCase{"HandlerNamedLikeABuiltIn", "runtimes:\n  handlers:\n    runc: {runtime: crun}\n",
                "runc is a built-in handler already"},
        BadCase{"HandlerNameNotALabel", "runtimes:\n  handlers:\n    Test_Handler: {runtime: runc}\n",
                "\"Test_Handler\" is not a handler name"},
        BadCase{"DefaultHandlerUnknown", "default_runtime_handler: kata\n", "\"kata\" is not berth, runc, crun"},
        BadCase{"TopLevelNotMapping", "- just\n- a list\n", "want a mapping"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace berth::pods
