#include "network/cni.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace berth::network {
namespace {

using nlohmann::json;

constexpr char kFirstResult[] =
    R"({"cniVersion":"1.0.0","interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/x"}],)"
    R"("ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":1}]})";

// Shell plugins that log each call to calls.log and keep each input, so the test
// sees exactly what berth handed them.
class CniNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cni-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MakeDirs(dir_ + "/conf").ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/bin").ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/first-result.json", kFirstResult).ok());
    for (const char* name : {"first", "second", "third"}) {
      std::string script = absl::StrCat(
          "#!/bin/sh\n"
          "cat > ", dir_, "/", name, ".$CNI_COMMAND.json\n"
          "echo \"$CNI_COMMAND ", name, " $CNI_CONTAINERID $CNI_IFNAME $CNI_ARGS\" >> ", dir_, "/calls.log\n"
          "if [ -e ", dir_, "/fail-", name, " ]; then\n"
          "  echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no addresses left\",\"details\":\"pool full\"}'\n"
          "  exit 1\n"
          "fi\n"
          "[ \"$CNI_COMMAND\" = ADD ] && cat ", dir_, "/first-result.json\n"
          "exit 0\n");
      ASSERT_TRUE(WriteFileAtomically(absl::StrCat(dir_, "/bin/", name), script, 0755).ok());
    }
    WriteConf({"first", "second"});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteConf(const std::vector<std::string>& plugins) {
    json list = {{"cniVersion", "1.0.0"}, {"name", "testnet"}, {"plugins", json::array()}};
    for (const auto& p : plugins) {
      json plugin = {{"type", p}};
      if (p == "second") plugin["capabilities"] = {{"portMappings", true}, {"dns", false}};
      list["plugins"].push_back(plugin);
    }
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/conf/10-test.conflist", list.dump()).ok());
  }

  CniNetwork Network() {
    return CniNetwork({dir_ + "/conf", {dir_ + "/bin"}, dir_ + "/cache", "eth0", std::chrono::seconds(10)});
  }
  PodNetworkRequest Request() {
    PodNetworkRequest request;
    request.pod_id = "pod1";
    request.netns_path = "/proc/self/ns/net";
    request.pod_name = "web";
    request.pod_namespace = "default";
    request.pod_uid = "uid-1";
    request.port_mappings = {{"tcp", 80, 8080, ""}, {"tcp", 81, 0, ""}};
    request.dns = Dns{{"10.0.0.10"}, {}, {}};
    return request;
  }
  std::string Calls() { return ReadFile(dir_ + "/calls.log").value_or(""); }
  json Input(const std::string& name) { return json::parse(ReadFile(dir_ + "/" + name + ".json").value_or("null")); }

  std::string dir_;
};

TEST_F(CniNetworkTest, AddChainsResultsAndFiltersRuntimeConfigByCapability) {
  CniNetwork network = Network();
  auto attached = network.Attach(Request());
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_EQ(attached->ips, std::vector<std::string>{"10.1.0.5"});
  EXPECT_EQ(attached->network_name, "testnet");
  EXPECT_EQ(Calls(),
            "ADD first pod1 eth0 IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
            "K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=uid-1\n"
            "ADD second pod1 eth0 IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
            "K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=uid-1\n");
  json first = Input("first.ADD");
  EXPECT_EQ(first["name"], "testnet");
  EXPECT_EQ(first["cniVersion"], "1.0.0");
  EXPECT_FALSE(first.contains("prevResult"));
  EXPECT_FALSE(first.contains("runtimeConfig"));
  json second = Input("second.ADD");
  EXPECT_EQ(second["prevResult"], json::parse(kFirstResult));
  // Only the capability it declared true, and only mappings with a host port.
  EXPECT_EQ(second["runtimeConfig"],
            json::parse(R"({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})"));
  EXPECT_EQ(network.CachedPods(), std::vector<std::string>{"pod1"});
  EXPECT_TRUE(network.Check("pod1").ok());
  EXPECT_EQ(Input("first.CHECK")["prevResult"], json::parse(kFirstResult));
}

TEST_F(CniNetworkTest, DelRunsInReverseWithTheConfigAddUsed) {
  CniNetwork network = Network();
  ASSERT_TRUE(network.Attach(Request()).ok());
  // The operator changes the network: DEL must still undo what ADD did.
  WriteConf({"third"});
  ASSERT_TRUE(std::filesystem::remove(dir_ + "/calls.log"));
  ASSERT_TRUE(network.Detach("pod1").ok());
  std::string calls = Calls();
  EXPECT_EQ(calls.find("DEL second"), 0u) << calls;
  EXPECT_NE(calls.find("DEL first"), std::string::npos) << calls;
  EXPECT_EQ(calls.find("third"), std::string::npos) << calls;
  EXPECT_EQ(Input("first.DEL")["prevResult"], json::parse(kFirstResult));
  EXPECT_TRUE(network.CachedPods().empty());
  // A second DEL has nothing cached and runs the current network, harmlessly.
  EXPECT_TRUE(network.Detach("pod1").ok());
}

TEST_F(CniNetworkTest, FailedAddIsUndoneAndReportsThePluginsMessage) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/fail-second", "").ok());
  CniNetwork network = Network();
  auto attached = network.Attach(Request());
  ASSERT_FALSE(attached.ok());
  EXPECT_NE(attached.status().message().find("no addresses left: pool full (code 11)"), std::string::npos)
      << attached.status();
  EXPECT_NE(attached.status().message().find("second ADD"), std::string::npos) << attached.status();
  std::string calls = Calls();
  EXPECT_NE(calls.find("DEL second"), std::string::npos) << calls;
  EXPECT_NE(calls.find("DEL first"), std::string::npos) << calls;
  // The failed DEL of "second" keeps the entry: the DEL is still owed.
  EXPECT_EQ(network.CachedPods(), std::vector<std::string>{"pod1"});
  ASSERT_TRUE(std::filesystem::remove(dir_ + "/fail-second"));
  EXPECT_TRUE(network.Detach("pod1").ok());
  EXPECT_TRUE(network.CachedPods().empty());
}

TEST_F(CniNetworkTest, AnErrorOfAnotherShapeIsReportedAsItCame) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/bin/first", "#!/bin/sh\necho '{\"msg\":{\"x\":1},\"details\":[2]}'\nexit 1\n",
                                  0755).ok());
  auto attached = Network().Attach(Request());
  ASSERT_EQ(attached.status().code(), StatusCode::kUnknown) << attached.status();
  EXPECT_NE(attached.status().message().find(R"(failed: {"msg":{"x":1},"details":[2]})"), std::string::npos)
      << attached.status();
}

TEST_F(CniNetworkTest, PluginTimeoutIsADeadline) {
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/bin/first", "#!/bin/sh\nexec sleep 5\n", 0755).ok());
  CniNetwork network({dir_ + "/conf", {dir_ + "/bin"}, dir_ + "/cache", "eth0", std::chrono::milliseconds(200)});
  auto attached = network.Attach(Request());
  EXPECT_EQ(attached.status().code(), StatusCode::kDeadlineExceeded) << attached.status();
}

TEST(PodIpsFromResult, PicksThePodInterfaceAcrossVersions) {
  auto v1 = PodIpsFromResult(
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"cni0"},{"name":"veth1"},{"name":"eth0","sandbox":"/ns"},)"
      R"({"name":"lo","sandbox":"/ns"}],"ips":[{"address":"fd00::7/64","interface":2},)"
      R"({"address":"10.88.0.7/16","interface":2},{"address":"10.88.0.1/16","interface":0},)"
      R"({"address":"127.0.0.1/8","interface":3}]})",
      "eth0");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, (std::vector<std::string>{"10.88.0.7", "fd00::7"}));
  auto v03 = PodIpsFromResult(R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.2.0.3/24"}]})", "eth0");
  ASSERT_TRUE(v03.ok());
  EXPECT_EQ(*v03, std::vector<std::string>{"10.2.0.3"});
  auto v02 = PodIpsFromResult(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.3.0.4/16"},"ip6":{"ip":"fd01::4/64"}})",
                              "eth0");
  ASSERT_TRUE(v02.ok());
  EXPECT_EQ(*v02, (std::vector<std::string>{"10.3.0.4", "fd01::4"}));
  auto loopback_only = PodIpsFromResult(
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"lo","sandbox":"/ns"}],)"
      R"("ips":[{"address":"127.0.0.1/8","interface":0},{"address":"::1/128","interface":0}]})",
      "eth0");
  ASSERT_TRUE(loopback_only.ok());
  EXPECT_TRUE(loopback_only->empty());
  EXPECT_FALSE(PodIpsFromResult("not json", "eth0").ok());
}

TEST(PodIpsFromResult, SkipsWhatAPluginGotWrong) {
  // Plugins are not trusted: interfaces that are not a list, indexes past it or of
  // another type, addresses that are not strings are skipped, never thrown.
  auto ips = PodIpsFromResult(
      R"({"interfaces":"eth0","ips":[{"address":"10.0.0.1/8","interface":0},{"address":7},)"
      R"({"address":"10.0.0.2/8","interface":18446744073709551615},{"address":"10.0.0.3/8"}]})",
      "eth0");
  ASSERT_TRUE(ips.ok()) << ips.status();
  EXPECT_EQ(*ips, std::vector<std::string>{"10.0.0.3"});
  auto old = PodIpsFromResult(R"({"ip4":{"ip":4},"ip6":"fd00::1"})", "eth0");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_TRUE(old->empty());
}

TEST(RenderConfigTemplate, SubstitutesThePodCidr) {
  char tmpl[] = "/tmp/berth-cni-tmpl-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(WriteFileAtomically(dir + "/t", R"({"subnet":"{{.PodCIDR}}"})").ok());
  ASSERT_TRUE(RenderConfigTemplate(dir + "/t", "10.244.1.0/24,fd00:1::/64", dir + "/net.d/10-berth.conflist").ok());
  EXPECT_EQ(ReadFile(dir + "/net.d/10-berth.conflist").value_or(""), R"({"subnet":"10.244.1.0/24"})");
  ASSERT_TRUE(WriteFileAtomically(dir + "/bad", R"({"subnet":{{.PodCIDR}}})").ok());
  EXPECT_FALSE(RenderConfigTemplate(dir + "/bad", "10.244.1.0/24", dir + "/out").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::network
