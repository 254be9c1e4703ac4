#include "node/config.h"

#include <gtest/gtest.h>

namespace berth::node {
namespace {

TEST(NodeConfigTest, ReadsEveryKey) {
  auto config = ParseNodeConfig(R"(
berthd: [/opt/berth/bin/berthd, --config, /etc/berth-node/berthd.yaml]
services:
  - name: kubelet
    argv: [/opt/kubernetes/bin/kubelet, --config=/var/lib/kubelet/config.yaml]
  - name: kube-proxy
    argv: [/opt/kubernetes/bin/kube-proxy]
state_dirs: [/var/lib/berth, /var/lib/kubelet]
forward:
  - port: 5000
    netns: /run/berth-node/host-netns
publish:
  - {address: 127.0.0.1, port: 8080, target: 10.87.0.2, target_port: 30080, netns: /run/berth-node/host-netns}
routes: {kubeconfig: /etc/kubernetes/kube-proxy.conf, node_name: w1, pod_subnet: 10.244.0.0/16}
masquerade: 10.244.0.0/16
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->berthd.size(), 3u);
  ASSERT_EQ(config->services.size(), 2u);
  EXPECT_EQ(config->services[0].name, "kubelet");
  EXPECT_EQ(config->services[1].argv[0], "/opt/kubernetes/bin/kube-proxy");
  EXPECT_EQ(config->state_dirs[1], "/var/lib/kubelet");
  ASSERT_EQ(config->forward.size(), 1u);
  EXPECT_EQ(config->forward[0].port, 5000);
  EXPECT_EQ(config->forward[0].netns, "/run/berth-node/host-netns");
  ASSERT_TRUE(config->routes.has_value());
  EXPECT_EQ(config->routes->node_name, "w1");
  EXPECT_EQ(config->masquerade, "10.244.0.0/16");
  ASSERT_EQ(config->publish.size(), 1u);
  EXPECT_EQ(config->publish[0].address, "127.0.0.1");
  EXPECT_EQ(config->publish[0].port, 8080);
  EXPECT_EQ(config->publish[0].target, "10.87.0.2");
  EXPECT_EQ(config->publish[0].target_port, 30080);
}

TEST(NodeConfigTest, OnlyBerthdIsRequired) {
  auto config = ParseNodeConfig("berthd: [/usr/bin/berthd]\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->services.empty());
  EXPECT_FALSE(ParseNodeConfig("services: []\n").ok());
}

TEST(NodeConfigTest, RefusesWhatItCannotRun) {
  struct Case {
    const char* yaml;
    const char* says;
  } cases[] = {
      {"berthd: [berthd]", "absolute path"},
      {"berthd: []", "absolute path"},
      {"berthd: /usr/bin/berthd", "list of strings"},
      {"berthd: [/b]\nextra: 1", "unknown key extra"},
      {"berthd: [/b]\nservices: [{name: k, argv: [kubelet]}]", "services[0].argv"},
      {"berthd: [/b]\nservices: [{name: k, argv: [/k]}, {name: k, argv: [/k]}]", "named twice"},
      {"berthd: [/b]\nservices: [{name: k, argv: [/k], restart: no}]", "unknown key services[0].restart"},
      {"berthd: [/b]\nforward: [{port: 0, netns: /n}]", "forward[0].port"},
      {"berthd: [/b]\nforward: [{port: 70000, netns: /n}]", "forward[0].port"},
      {"berthd: [/b]\nforward: [{port: 5000, netns: n}]", "forward[0].netns"},
      {"berthd: [/b]\nstate_dirs: [var/lib/berth]", "state_dirs[0]"},
      {"berthd: [/b]\nroutes: {kubeconfig: c, node_name: n, pod_subnet: 10.244.0.0/16}", "routes.kubeconfig"},
      {"berthd: [/b]\nroutes: {kubeconfig: /c, pod_subnet: 10.244.0.0/16}", "routes.node_name"},
      {"berthd: [/b]\nroutes: {kubeconfig: /c, node_name: n}", "routes.pod_subnet"},
      {"berthd: [/b]\nroutes: {kubectl: /k, kubeconfig: /c, node_name: n}", "unknown key routes.kubectl"},
      {"berthd: [/b]\npublish: [{address: localhost, port: 1, target: 10.0.0.1, target_port: 2, netns: /n}]",
       "publish[0].address must be an IPv4 address"},
      {"berthd: [/b]\npublish: [{address: 0.0.0.0, port: 1, target: 10.0.0.1, netns: /n}]",
       "publish[0].target_port must be a port"},
      {"berthd: [/b]\npublish: [{address: 0.0.0.0, port: 1, target: 10.0.0.1, target_port: 2, netns: n}]",
       "publish[0].netns must be an absolute path"},
      {"berthd: [/b]\npublish: [{address: 0.0.0.0, port: 1, target: 10.0.0.1, target_port: 2, netns: /n, udp: 1}]",
       "unknown key publish[0].udp"},
      {"berthd: [/b]\nmasquerade: 10.244.0.0", "masquerade must be an IPv4 CIDR"},
      {"berthd: [/b]\nmasquerade: 10.244.0.0/33", "masquerade must be an IPv4 CIDR"},
      {"berthd: [/b]\nmasquerade: 10.244.0.0/", "masquerade must be an IPv4 CIDR"},
      {"berthd: [/b]\nmasquerade: fd00::/64", "masquerade must be an IPv4 CIDR"},
      {"berthd: [/b]\nmasquerade: [10.244.0.0/16]", "masquerade must be a non-empty string"},
      {"berthd: [/b", "not YAML"},
      {"- a", "must be a map"},
  };
  for (const auto& c : cases) {
    auto config = ParseNodeConfig(c.yaml);
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_NE(config.status().message().find(c.says), std::string::npos) << c.yaml << " -> " << config.status();
  }
}

}  // namespace
}  // namespace berth::node
