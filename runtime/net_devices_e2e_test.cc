// End-to-end tests of linux.netDevices (runtime/net_devices.h): host veth links
// moved into a container's new network namespace, renamed, with their addresses,
// and given back when the create fails. The links are the test's own (brtnd*);
// a moved one dies with the container's namespace, the rest are deleted after.
#include <net/if.h>

#include "absl/strings/str_join.h"
#include "runtime/e2e_fixture.h"

namespace berth::runtime_test {
namespace {

constexpr char kIp[] = "/bin/ip";

class NetDevicesE2eTest : public RuntimeE2eTest {
 protected:
  void TearDown() override {
    RuntimeE2eTest::TearDown();
    for (const std::string& link : links_) {
      if (Exists("/sys/class/net/" + link)) RunCommand({kIp, "link", "del", link});
    }
  }

  // A veth pair with permanent global addresses (and a link-local one the kernel
  // adds, which does not move); the peer stays on the host.
  void AddVeth(const std::string& name, int host_number) {
    links_.push_back(name);
    links_.push_back(name + "p");
    const std::string n = std::to_string(host_number);
    for (std::vector<std::string> argv : std::vector<std::vector<std::string>>{
             {kIp, "link", "add", name, "type", "veth", "peer", "name", name + "p"},
             {kIp, "addr", "add", "10.213.7." + n + "/24", "dev", name},
             {kIp, "-6", "addr", "add", "fd00:213:7::" + n + "/64", "dev", name, "nodad"},
             {kIp, "link", "set", name, "up"}}) {
      Result r = RunCommand(argv);
      ASSERT_EQ(r.exit_code, 0) << absl::StrJoin(argv, " ") << ": " << r.err;
    }
  }

  // "inet 10.213.7.2/24 inet6 fd00:213:7::2/64": the link's global addresses.
  std::string HostAddresses(const std::string& name) {
    Result r = RunCommand({kIp, "-o", "addr", "show", "dev", name, "scope", "global"});
    std::vector<std::string> words = absl::StrSplit(r.out, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    std::string addresses;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "inet" || words[i] == "inet6") absl::StrAppend(&addresses, words[i], " ", words[i + 1], " ");
    }
    return addresses;
  }

  bool IsUp(const std::string& name) {
    auto flags = ReadFile("/sys/class/net/" + name + "/flags");
    return flags.ok() && (std::stoul(Trimmed(*flags), nullptr, 16) & IFF_UP) != 0;
  }

  std::vector<std::string> links_;
};

TEST_F(NetDevicesE2eTest, LinksMoveRenamedWithTheirAddressesAndUp) {
  AddVeth("brtnd0", 2);
  AddVeth("brtnd1", 4);
  json config = Config("netdev", {"sh", "-c",
                                  "ip -o addr show dev net0 scope global | sed 's/.* inet/inet/; s/ scope.*//'; "
                                  "ip -o addr show dev eth0 scope global | sed 's/.* inet/inet/; s/ scope.*//'; "
                                  "ip link show net0 | grep -c ',UP'"});
  // eth%d: the kernel numbers it, in a namespace that has only lo: eth0.
  config["linux"]["netDevices"] = {{"brtnd0", {{"name", "net0"}}}, {"brtnd1", {{"name", "eth%d"}}}};
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "netdev", config, &out);
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(Exists("/sys/class/net/brtnd0")) << "moved out of the host's namespace";
  EXPECT_FALSE(Exists("/sys/class/net/brtnd1"));
  Result start = RunCommand({kBerthRuntime, "--root", state_, "start", "netdev"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(ReadUntilEof(out.get()),
            "inet 10.213.7.2/24\ninet6 fd00:213:7::2/64\n"
            "inet 10.213.7.4/24\ninet6 fd00:213:7::4/64\n"
            "1\n");
  EXPECT_EQ(WaitExit(pid), 0);
  Result del = RunCommand({kBerthRuntime, "--root", state_, "delete", "netdev"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  ExpectGone("netdev");
}

TEST_F(NetDevicesE2eTest, AFailedCreateGivesTheLinksBack) {
  AddVeth("brtnd2", 2);
  const std::string addresses = HostAddresses("brtnd2");
  ASSERT_EQ(addresses, "inet 10.213.7.2/24 inet6 fd00:213:7::2/64 ");

  // The second link is not there: the first, moved already, comes back.
  json config = Config("netdev-missing", {"true"});
  config["linux"]["netDevices"] = {{"brtnd2", {{"name", "net0"}}}, {"brtndz", json::object()}};
  UniqueFd out;
  Result result;
  EXPECT_EQ(Create(kBerthRuntime, "netdev-missing", config, &out, &result), 0);
  EXPECT_NE(result.err.find("network device brtndz in the runtime's network namespace"), std::string::npos)
      << result.err;
  EXPECT_EQ(HostAddresses("brtnd2"), addresses);
  EXPECT_TRUE(IsUp("brtnd2")) << "up again";
  ExpectGone("netdev-missing");

  // A name the container's namespace has already (lo) is refused before anything moves.
  config = Config("netdev-clash", {"true"});
  config["linux"]["netDevices"] = {{"brtnd2", {{"name", "lo"}}}};
  EXPECT_EQ(Create(kBerthRuntime, "netdev-clash", config, &out, &result), 0);
  EXPECT_NE(result.err.find("has a device named lo already"), std::string::npos) << result.err;
  EXPECT_EQ(HostAddresses("brtnd2"), addresses);
  ExpectGone("netdev-clash");
}

TEST_F(NetDevicesE2eTest, WhatCannotBeMovedIsRefusedAtCreate) {
  UniqueFd out;
  Result result;
  // Without a network namespace of its own the link would stay where it is.
  json config = Config("netdev-host", {"true"});
  config["linux"]["namespaces"] = {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}};
  config["linux"]["netDevices"] = {{"brtnd3", json::object()}};
  EXPECT_EQ(Create(kBerthRuntime, "netdev-host", config, &out, &result), 0);
  EXPECT_NE(result.err.find("linux.netDevices needs a private network namespace"), std::string::npos) << result.err;
  ExpectGone("netdev-host");

  config = Config("netdev-name", {"true"});
  config["linux"]["netDevices"] = {{"brtnd3", {{"name", "a/b"}}}};
  EXPECT_EQ(Create(kBerthRuntime, "netdev-name", config, &out, &result), 0);
  EXPECT_NE(result.err.find("name in the container \"a/b\" holds '/'"), std::string::npos) << result.err;
  ExpectGone("netdev-name");
}

TEST_F(NetDevicesE2eTest, TheFeaturesDocumentSaysSo) {
  Result r = RunCommand({kBerthRuntime, "features"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["linux"]["netDevices"]["enabled"], true);
}

}  // namespace
}  // namespace berth::runtime_test
