#include "node/node_watch.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace berth::node {
namespace {

const RoutePolicy kPolicy{.self = "w1", .pod_subnet = "10.244.0.0/16"};

TEST(NodeWatchTest, AnAddedOrModifiedNodeAsksForARouteToEachCidr) {
  auto added = RoutesFromWatchEvent(
      R"({"type":"ADDED","object":{"metadata":{"name":"w2"},"spec":{"podCIDR":"10.244.2.0/24",)"
      R"("podCIDRs":["10.244.2.0/24","fd00:10:244:2::/64"]},"status":{"addresses":[)"
      R"({"type":"Hostname","address":"w2"},{"type":"InternalIP","address":"10.87.0.7"},)"
      R"({"type":"InternalIP","address":"fd00::7"}]}}})",
      kPolicy);
  // The IPv6 CIDR is outside this policy's pod subnet.
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->node, "w2");
  ASSERT_EQ(added->routes.size(), 1u);
  EXPECT_EQ(added->routes[0].cidr, "10.244.2.0/24");
  EXPECT_EQ(added->routes[0].via, "10.87.0.7");
  auto modified = RoutesFromWatchEvent(
      R"({"type":"MODIFIED","object":{"metadata":{"name":"w3"},"spec":{"podCIDR":"10.244.3.0/24"},)"
      R"("status":{"addresses":[{"type":"InternalIP","address":"10.87.0.8"}]}}})",
      kPolicy);
  ASSERT_TRUE(modified.has_value());
  ASSERT_EQ(modified->routes.size(), 1u);
  EXPECT_EQ(modified->routes[0].node, "w3");
  // A node without its CIDR or address yet has no routes (any it had go).
  auto bare = RoutesFromWatchEvent(R"({"type":"ADDED","object":{"metadata":{"name":"w2"}}})", kPolicy);
  ASSERT_TRUE(bare.has_value());
  EXPECT_TRUE(bare->routes.empty());
}

TEST(NodeWatchTest, ADeletedNodeHasNoRoutes) {
  auto deleted = RoutesFromWatchEvent(R"({"type":"DELETED","object":{"metadata":{"name":"w2"}}})", kPolicy);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->node, "w2");
  EXPECT_TRUE(deleted->routes.empty());
}

TEST(NodeWatchTest, AListGivesEveryOtherNodeAndWhereToWatchFrom) {
  auto list = RoutesFromNodeList(
      R"({"kind":"NodeList","metadata":{"resourceVersion":"4711"},"items":[)"
      R"({"metadata":{"name":"w1"},"spec":{"podCIDR":"10.244.1.0/24"}},)"
      R"({"metadata":{"name":"w2"},"spec":{"podCIDR":"10.244.2.0/24"},)"
      R"("status":{"addresses":[{"type":"InternalIP","address":"10.87.0.7"}]}},)"
      R"({"metadata":{"name":"w3"}}, 7, {"metadata":{"name":5}}]})",
      kPolicy);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->resource_version, "4711");
  // w1 is this node; w3 has no CIDR yet (so no routes, and any it had go).
  ASSERT_EQ(list->nodes.size(), 2u);
  EXPECT_EQ(list->nodes[0].node, "w2");
  ASSERT_EQ(list->nodes[0].routes.size(), 1u);
  EXPECT_EQ(list->nodes[0].routes[0].via, "10.87.0.7");
  EXPECT_EQ(list->nodes[1].node, "w3");
  EXPECT_TRUE(list->nodes[1].routes.empty());
  for (const char* bad : {"", "[]", R"({"items":{}})", "not json"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(RoutesFromNodeList(bad, kPolicy).status())) << bad;
  }
}

TEST(NodeWatchTest, NothingForItselfErrorsOrNoise) {
  const char* self = R"({"type":"ADDED","object":{"metadata":{"name":"w1"},"spec":{"podCIDR":"10.244.1.0/24"},)"
                     R"("status":{"addresses":[{"type":"InternalIP","address":"10.87.0.6"}]}}})";
  EXPECT_FALSE(RoutesFromWatchEvent(self, kPolicy).has_value());
  EXPECT_FALSE(RoutesFromWatchEvent(R"({"type":"ERROR","object":{"code":410}})", kPolicy).has_value());
  EXPECT_FALSE(RoutesFromWatchEvent(R"({"type":"BOOKMARK","object":{"metadata":{"name":"w2"}}})", kPolicy));
  EXPECT_FALSE(RoutesFromWatchEvent(R"({"type":"DELETED","object":{"metadata":{}}})", kPolicy).has_value());
  EXPECT_FALSE(RoutesFromWatchEvent("not json", kPolicy).has_value());
  EXPECT_FALSE(RoutesFromWatchEvent("[1,2]", kPolicy).has_value());
  // Wrong types anywhere are skipped, not thrown.
  for (const char* odd : {R"({"type":7,"object":{}})", R"({"type":"ADDED","object":[]})",
                          R"({"type":"ADDED","object":{"metadata":{"name":3},"spec":{"podCIDR":1}}})",
                          R"({"type":"ADDED","object":{"metadata":{"name":"w2"},"spec":{"podCIDRs":"x"},)"
                          R"("status":{"addresses":[1,{"type":"InternalIP","address":5}]}}})",
                          R"({"type":"ADDED","object":{"metadata":"w2","spec":[],"status":"s"}})"}) {
    auto routes = RoutesFromWatchEvent(odd, kPolicy);
    EXPECT_TRUE(!routes.has_value() || routes->routes.empty()) << odd;
  }
}

TEST(NodeWatchTest, KubeconfigCredentialsInlineOrInFiles) {
  char dir_template[] = "/tmp/berth-kubeconfig-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  std::ofstream(dir + "/ca.crt") << "CA PEM";
  std::ofstream(dir + "/inline.conf") << R"(apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://10.87.0.2:6443", certificate-authority-data: Q0EgUEVN}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==, client-key: ca.crt}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)";
  auto credentials = ReadKubeconfig(dir + "/inline.conf");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->server, "https://10.87.0.2:6443");
  EXPECT_EQ(credentials->ca_pem, "CA PEM");
  EXPECT_EQ(credentials->client_cert_pem, "CERT");
  EXPECT_EQ(credentials->client_key_pem, "CA PEM");  // a file beside the kubeconfig
  std::ofstream(dir + "/nocontext.conf") << "apiVersion: v1\nkind: Config\ncurrent-context: missing\n";
  EXPECT_FALSE(ReadKubeconfig(dir + "/nocontext.conf").ok());
  EXPECT_FALSE(ReadKubeconfig(dir + "/absent.conf").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::node
