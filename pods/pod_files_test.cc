#include "pods/pod_files.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

TEST(PodFilesTest, HostsNameEveryPodAddressAfterTheLocalNames) {
  std::string hosts = RenderHosts("web-0", {"10.87.0.5", "fd00::5"});
  EXPECT_EQ(hosts.find("127.0.0.1\tlocalhost\n"), 0u) << hosts;
  EXPECT_NE(hosts.find("::1\tlocalhost ip6-localhost ip6-loopback\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("\n10.87.0.5\tweb-0\nfd00::5\tweb-0\n"), std::string::npos) << hosts;
  EXPECT_EQ(RenderHosts("web-0", {}).find("web-0"), std::string::npos);
}

TEST(PodFilesTest, ResolvConfHasWhatKubeletAsked) {
  DnsSpec dns;
  dns.servers = {"10.96.0.10", "10.96.0.11"};
  dns.searches = {"default.svc.cluster.local", "svc.cluster.local"};
  dns.options = {"ndots:5"};
  EXPECT_EQ(RenderResolvConf(dns),
            "nameserver 10.96.0.10\nnameserver 10.96.0.11\n"
            "search default.svc.cluster.local svc.cluster.local\noptions ndots:5\n");
  EXPECT_EQ(RenderResolvConf(DnsSpec{}), "");
}

TEST(PodFilesTest, HostNetworkPodsCarryTheHostsName) {
  PodSpec own;
  own.hostname = "mine";
  EXPECT_EQ(PodHostname(own), "mine");
  PodSpec host = own;
  host.network = NamespaceMode::kNode;
  EXPECT_NE(PodHostname(host), "mine");
  EXPECT_FALSE(PodHostname(host).empty());
}

}  // namespace
}  // namespace berth::pods
