#include "cluster/cluster_dns.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "cluster/node_files.h"
#include "yaml-cpp/yaml.h"

namespace berth::cluster {
namespace {

TEST(ClusterDnsTest, TheCorefileForwardsOnlyWhenThereAreUpstreams) {
  std::string forwarding = Corefile({"10.0.0.53", "10.0.1.53"});
  EXPECT_TRUE(absl::StrContains(forwarding, "kubernetes cluster.local in-addr.arpa ip6.arpa {"));
  EXPECT_TRUE(absl::StrContains(forwarding, "forward . 10.0.0.53 10.0.1.53 {"));
  EXPECT_TRUE(absl::StrContains(forwarding, "fallthrough in-addr.arpa ip6.arpa"));
  EXPECT_TRUE(absl::StrContains(forwarding, "    loop\n"));
  EXPECT_TRUE(absl::StrContains(forwarding, "disable success cluster.local"));
  std::string closed = Corefile({});
  EXPECT_FALSE(absl::StrContains(closed, "forward"));
  EXPECT_FALSE(absl::StrContains(closed, "fallthrough"));
  EXPECT_FALSE(absl::StrContains(closed, "loop"));
  EXPECT_TRUE(absl::StrContains(closed, "    ready\n"));
  // Balanced braces: CoreDNS refuses a block left open.
  EXPECT_EQ(std::count(closed.begin(), closed.end(), '{'), std::count(closed.begin(), closed.end(), '}'));
  EXPECT_EQ(std::count(forwarding.begin(), forwarding.end(), '{'),
            std::count(forwarding.begin(), forwarding.end(), '}'));
}

TEST(ClusterDnsTest, ObjectsComeInTheOrderTheyNeedEachOther) {
  auto objects = ClusterDnsObjects(
      {.service_ip = "10.96.0.10", .image = "registry.k8s.io/coredns/coredns:v1.15.0", .upstreams = {}});
  std::vector<std::string> kinds;
  for (const auto& o : objects) kinds.push_back(o.object["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap",
                                             "Deployment", "Service"}));
  const auto& deployment = objects[4];
  EXPECT_EQ(deployment.collection, "/apis/apps/v1/namespaces/kube-system/deployments");
  const auto& pod = deployment.object["spec"]["template"]["spec"];
  EXPECT_EQ(pod["containers"][0]["image"], "registry.k8s.io/coredns/coredns:v1.15.0");
  EXPECT_EQ(pod["serviceAccountName"], "coredns");
  EXPECT_EQ(pod["dnsPolicy"], "Default");
  EXPECT_EQ(deployment.object["spec"]["selector"]["matchLabels"],
            deployment.object["spec"]["template"]["metadata"]["labels"]);
  const auto& service = objects[5].object;
  EXPECT_EQ(service["spec"]["clusterIP"], "10.96.0.10");
  EXPECT_EQ(service["spec"]["selector"], deployment.object["spec"]["selector"]["matchLabels"]);
  EXPECT_EQ(service["spec"]["ports"].size(), 3u);
  EXPECT_EQ(objects[3].object["data"]["Corefile"], Corefile({}));
  EXPECT_EQ(objects[2].object["subjects"][0]["name"], objects[0].object["metadata"]["name"]);
}

TEST(ClusterDnsTest, PodsReachOnlyNonLoopbackIpv4Nameservers) {
  EXPECT_EQ(PodReachableNameservers("nameserver 10.255.255.53\n"), std::vector<std::string>{"10.255.255.53"});
  EXPECT_EQ(PodReachableNameservers("# a comment\nsearch example\n nameserver\t192.0.2.1 \nnameserver 192.0.2.1\n"
                                    "nameserver 127.0.0.53\nnameserver ::1\nnameserver 2001:db8::1\n"
                                    "nameservers 192.0.2.9\nnameserver\nnameserver 192.0.2.2\n"),
            (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_TRUE(PodReachableNameservers("nameserver 127.0.0.53\noptions edns0\n").empty());
  EXPECT_TRUE(PodReachableNameservers("").empty());
}

TEST(ClusterDnsTest, UpstreamFlag) {
  EXPECT_EQ(ParseUpstreams("none").value(), std::vector<std::string>{});
  EXPECT_EQ(ParseUpstreams("10.0.0.1, 10.0.0.2:5353").value(),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2:5353"}));
  for (const char* bad : {"", "dns.example", "10.0.0.1,", "2001:db8::1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:x",
                          "10.0.0.1:70000", "none,10.0.0.1"}) {
    auto parsed = ParseUpstreams(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << bad;
  }
}

TEST(ClusterDnsTest, KubeletIsGivenClusterDnsOnlyWhenThereIsOne) {
  EXPECT_EQ(ServiceIp("10.96.0.0/16", 1).value(), "10.96.0.1");
  EXPECT_EQ(ServiceIp("10.96.0.0/16", 10).value(), "10.96.0.10");
  EXPECT_EQ(ServiceIp("10.96.0.250/16", 10).value(), "10.96.1.4");
  for (auto [subnet, n] : {std::pair{"not an address", 10}, {"10.96.0.0", 10}, {"10.96.0.0/29", 10},
                           {"10.96.0.0/31", 1}, {"10.96.0.0/x", 1}}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ServiceIp(subnet, n).status())) << subnet << " " << n;
  }
  auto pki = NewClusterPki();
  ASSERT_TRUE(pki.ok()) << pki.status();
  ClusterSpec cluster{.name = "dev", .kubernetes_version = "v1.37.2", .etcd_version = "3.6.5",
                      .control_plane_name = "dev-control-plane", .control_plane_ip = "10.87.0.2"};
  auto without = NodeFiles(cluster, {"dev-worker", "10.87.0.3", false}, *pki);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_FALSE(YAML::Load(without->at("kubelet/config.yaml"))["clusterDNS"]);
  cluster.dns_ip = "10.96.0.10";
  auto with = NodeFiles(cluster, {"dev-worker", "10.87.0.3", false}, *pki);
  ASSERT_TRUE(with.ok());
  YAML::Node kubelet = YAML::Load(with->at("kubelet/config.yaml"));
  EXPECT_EQ(kubelet["clusterDNS"][0].as<std::string>(), "10.96.0.10");
  EXPECT_EQ(kubelet["clusterDomain"].as<std::string>(), "cluster.local");
}

}  // namespace
}  // namespace berth::cluster
