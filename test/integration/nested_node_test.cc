// berth nested: berthd inside a privileged berth container, as berthctl cluster's
// nodes run it. The node container gets the host's /usr read-only, berth's binaries,
// a state root on a volume and the host's network namespace file; berth-node checks
// it, gives it a cgroup namespace, forwards the host's loopback registry into it and
// runs berthd. A pod run by the nested berthd pulls through that forward, its
// cgroups nest below the node's, and its traffic out of the node is masqueraded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/unique_fd.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/test_images.h"

namespace berth::testing {
namespace {

constexpr char kBridge[] = "bnode0";
constexpr char kBerthBin[] = BERTH_BINARY_DIR "/cmd";
constexpr char kNestedSubnet[] = "10.124.0.0/24";

class NestedNodeTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    LinkCniPlugins();
    if (IsSkipped()) return;
    if (::access("/usr/lib/cni/bridge", X_OK) != 0) GTEST_SKIP() << "the nested berthd needs /usr/lib/cni";
    // The node's own pod network, a bridge of this test's.
    ASSERT_TRUE(WriteFileAtomically(cni_conf_ + "/10-node.conflist", Conflist("node", kBridge, "10.123.0.0/24",
                                                                               dir_ + "/ipam")).ok());
    StartWithImages({});
    if (HasFatalFailure()) return;
    ASSERT_TRUE(PushNodeImage().ok());
    Pull(node_image_);
  }

  void CleanUpHost() override {
    (void)RunProcess({"/usr/bin/ip", "link", "del", kBridge}, {});
    (void)RunProcess({"/usr/bin/ip", "route", "del", "unreachable", kNestedSubnet}, {});
  }

  static std::string Conflist(const std::string& name, const std::string& bridge, const std::string& subnet,
                              const std::string& ipam_dir) {
    return absl::StrCat(R"({"cniVersion": "1.0.0", "name": ")", name, R"(", "plugins": [)",
                        R"({"type": "bridge", "bridge": ")", bridge, R"(", "isGateway": true, "ipMasq": false,)",
                        R"( "ipam": {"type": "host-local", "ranges": [[{"subnet": ")", subnet, R"("}]],)",
                        R"( "routes": [{"dst": "0.0.0.0/0"}], "dataDir": ")", ipam_dir, R"("}},)",
                        R"( {"type": "loopback"}]})");
  }

  // The node image: the merged-/usr links, /etc's basics and the mount points; what
  // runs comes from the host's /usr and berth's build, mounted in.
  Status PushNodeImage() {
    std::vector<TarEntry> entries = {
        Dir("usr"),           Symlink("bin", "usr/bin"),   Symlink("sbin", "usr/sbin"),
        Symlink("lib", "usr/lib"), Symlink("lib64", "usr/lib64"), Dir("etc"),
        File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), File("etc/group", "root:x:0:\n"),
        Dir("tmp", 01777),    Dir("run"),                  Dir("var"),
        Dir("var/lib"),       Dir("var/log"),              Dir("root", 0700),
    };
    ASSIGN_OR_RETURN(Layer layer, BuildLayer(entries));
    ImageSpec spec;
    spec.entrypoint = {"/opt/berth/bin/berth-node"};
    ASSIGN_OR_RETURN(Image image, BuildImage(spec, {std::move(layer)}));
    RegistryClient push = registry_->Client();
    RETURN_IF_ERROR(PushImage(push, "berth-test/node", "latest", image).status());
    node_image_ = registry_->host_port() + "/berth-test/node:latest";
    return absl::OkStatus();
  }

  static void Mount(::runtime::v1::ContainerConfig& config, const std::string& host, const std::string& container,
                    bool readonly) {
    auto* mount = config.add_mounts();
    mount->set_host_path(host);
    mount->set_container_path(container);
    mount->set_readonly(readonly);
  }

  // Writes the node's config dir and starts a node pod; returns the node container.
  std::string StartNode() {
    const std::string config_dir = dir_ + "/node-config";
    const std::string state = dir_ + "/node-state";
    EXPECT_EQ(::mkdir(config_dir.c_str(), 0755), 0);
    EXPECT_EQ(::mkdir((config_dir + "/cni").c_str(), 0755), 0);
    EXPECT_EQ(::mkdir(state.c_str(), 0700), 0);
    const std::string port = absl::StrCat(registry_->port());
    auto write = [&](const std::string& name, const std::string& text) {
      EXPECT_TRUE(WriteFileAtomically(config_dir + "/" + name, text).ok()) << name;
    };
    write("node.yaml", absl::StrCat("berthd: [/opt/berth/bin/berthd, --config, /etc/berth-node/berthd.yaml]\n",
                                    "state_dirs: [/var/lib/berth]\n",
                                    "forward: [{port: ", port, ", netns: /run/berth-node/host-netns}]\n",
                                    "masquerade: ", kNestedSubnet, "\n"));
    write("berthd.yaml", "root: /var/lib/berth\nstate_dir: /run/berth\nsocket: /run/berth/berth.sock\n"
                         "cni: {conf_dir: /etc/berth-node/cni, bin_dirs: [/usr/lib/cni]}\n");
    write("cni/10-nest.conflist", Conflist("nest", "nest0", kNestedSubnet, "/var/lib/berth/ipam"));
    write("overlay.yaml", "berthd: [/opt/berth/bin/berthd]\nstate_dirs: [/var/lib/not-a-volume]\n");
    write("pod.yaml", absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: {name: nested, namespace: default}\n",
                                   "spec:\n  containers:\n  - name: sleeper\n    image: ", image_, "\n",
                                   "    command: [sleep, \"3600\"]\n"));

    pod_config_ = PodConfig("node");
    pod_config_.mutable_linux()->mutable_security_context()->set_privileged(true);
    pod_ = RunPod(pod_config_);
    auto config = ContainerConfig("node", {});
    config.mutable_image()->set_image(node_image_);
    config.mutable_linux()->mutable_security_context()->set_privileged(true);
    Mount(config, "/usr", "/usr", true);
    if (std::filesystem::exists("/etc/alternatives")) Mount(config, "/etc/alternatives", "/etc/alternatives", true);
    Mount(config, kBerthBin, "/opt/berth/bin", true);
    Mount(config, config_dir, "/etc/berth-node", true);
    Mount(config, state, "/var/lib/berth", false);
    Mount(config, absl::StrCat("/proc/", ::getpid(), "/ns/net"), "/run/berth-node/host-netns", true);
    node_log_ = logs_ + "/node/node.log";
    return CreateAndStart(pod_, pod_config_, config);
  }

  // Waits for the node's log to say what; fails the test with the log after a minute.
  bool WaitForNodeLog(const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string log;
    while (std::chrono::steady_clock::now() < deadline) {
      log = ReadFile(node_log_).value_or("");
      if (absl::StrContains(log, what)) return true;
      if (absl::StrContains(log, "berth-node: the node container is not fit")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the node's log never said " << what << ":\n" << log;
    return false;
  }

  // The nested berthd pulls the test image through the forward and runs a pod of it;
  // returns its container.
  std::string RunNestedPod(const std::string& node) {
    auto pulled = NestedBerthctl(node, {"pull", image_});
    EXPECT_EQ(pulled.exit_code(), 0) << pulled.stdout() << pulled.stderr();
    auto played = NestedBerthctl(node, {"play", "/etc/berth-node/pod.yaml"});
    EXPECT_EQ(played.exit_code(), 0) << played.stdout() << played.stderr();
    return std::string(absl::StripAsciiWhitespace(NestedBerthctl(node, {"ps", "-q"}).stdout()));
  }

  // berthctl inside the node, against the nested berthd.
  ::runtime::v1::ExecSyncResponse NestedBerthctl(const std::string& node, std::vector<std::string> args) {
    std::vector<std::string> cmd = {"/opt/berth/bin/berthctl", "--endpoint", "unix:///run/berth/berth.sock"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    return Exec(node, cmd, 25);
  }

  std::string node_image_;
  std::string node_log_;
  std::string pod_;
  ::runtime::v1::PodSandboxConfig pod_config_;
};

TEST_F(NestedNodeTest, ANestedBerthdRunsAPodPulledThroughTheHostsLoopbackRegistry) {
  std::string node = StartNode();
  ASSERT_FALSE(node.empty());
  ASSERT_TRUE(WaitForNodeLog("berthd is ready"));

  // berth-node is the root of the node's own cgroup namespace.
  std::string own = Exec(node, {"cat", "/proc/1/cgroup"}).stdout();
  for (absl::string_view line : absl::StrSplit(own, '\n', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::EndsWith(line, ":/")) << own;
  }

  // The host's network namespace file is gone from the node once the forward holds
  // the namespace: no workload of the node can mount it.
  EXPECT_NE(Exec(node, {"stat", "-f", "-c", "%T", "/run/berth-node/host-netns"}).stdout(), "nsfs\n");

  std::string nested = RunNestedPod(node);
  ASSERT_FALSE(nested.empty());
  auto cgroup = NestedBerthctl(node, {"exec", nested, "--", "cat", "/proc/self/cgroup"});
  ASSERT_EQ(cgroup.exit_code(), 0) << cgroup.stderr();

  // The nested container's memory cgroup, as the node sees it, sits below the node
  // container's on the host.
  std::string inner;
  for (absl::string_view line : absl::StrSplit(cgroup.stdout(), '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() == 3 && fields[1] == "memory") inner = fields[2];
  }
  // On v2 (the one hierarchy, "0::PATH") the same holds; this host's v2 has no
  // controllers, so the check is of v1's memory hierarchy.
  if (!inner.empty()) {
    const std::string pid = absl::StrCat(VerboseContainerInfo(node).value("pid", 0));
    std::string outer;
    for (absl::string_view line : absl::StrSplit(ReadFile("/proc/" + pid + "/cgroup").value_or(""), '\n')) {
      std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
      if (fields.size() == 3 && fields[1] == "memory") outer = fields[2];
    }
    ASSERT_FALSE(outer.empty());
    EXPECT_TRUE(inner != "/" && std::filesystem::is_directory("/sys/fs/cgroup/memory" + outer + inner))
        << "the nested container's cgroup " << inner << " is not below the node's " << outer;
  }

  EXPECT_TRUE(StopContainer(node, 30).ok());
  EXPECT_TRUE(WaitForNodeLog("stopped program=berthd"));
  EXPECT_EQ(StatusOf(node).exit_code(), 0) << ReadFile(node_log_).value_or("");
}

TEST_F(NestedNodeTest, APodsTrafficOutOfTheNodeCarriesTheNodesAddress) {
  // Should the masquerade be missing, the host's answer to a nested pod's address
  // must stop here rather than follow the default route off the machine.
  auto guarded = RunProcess({"/usr/bin/ip", "route", "replace", "unreachable", kNestedSubnet}, {});
  ASSERT_TRUE(guarded.ok() && guarded->exit_code == 0) << (guarded.ok() ? guarded->err : guarded.status().ToString());
  std::string node = StartNode();
  ASSERT_FALSE(node.empty());
  ASSERT_TRUE(WaitForNodeLog("berthd is ready"));
  std::string nested = RunNestedPod(node);
  ASSERT_FALSE(nested.empty());
  const std::string node_ip = PodStatus(pod_).network().ip();
  ASSERT_FALSE(node_ip.empty());

  // A listener on the host's end of the node's bridge.
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ASSERT_EQ(::inet_pton(AF_INET, "10.123.0.1", &address.sin_addr), 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0) << errno;
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = absl::StrCat(ntohs(address.sin_port));
  std::thread client([&] {
    (void)NestedBerthctl(node, {"exec", nested, "--", "sh", "-c", "echo hello | nc -w 3 10.123.0.1 " + port});
  });
  absl::Cleanup join_client = [&] { client.join(); };  // on every way out (nc gives up after 3 s)
  pollfd ready = {listener.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 30000), 1) << "the nested pod's connection never arrived";
  sockaddr_in peer{};
  length = sizeof(peer);
  UniqueFd connection(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC));
  ASSERT_TRUE(connection.valid());
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
  EXPECT_EQ(std::string(text), node_ip) << "the nested pod's traffic did not leave with the node's address";
}

TEST_F(NestedNodeTest, WhatTheNodeContainerLacksIsNamed) {
  std::string node = StartNode();
  ASSERT_FALSE(node.empty());
  ASSERT_TRUE(WaitForNodeLog("berthd is ready"));

  // A state directory on the container's overlayfs.
  auto overlay = Exec(node, {"/opt/berth/bin/berth-node", "--check", "--config", "/etc/berth-node/overlay.yaml"});
  EXPECT_EQ(overlay.exit_code(), 1);
  EXPECT_TRUE(absl::StrContains(overlay.stderr(), "/var/lib/not-a-volume is on overlayfs")) << overlay.stderr();
  auto fit = Exec(node, {"/opt/berth/bin/berth-node", "--check"});
  EXPECT_EQ(fit.exit_code(), 0) << fit.stderr();

  // An unprivileged container beside it.
  auto config = ContainerConfig("unprivileged", {"/opt/berth/bin/berth-node", "--check"});
  config.mutable_image()->set_image(node_image_);
  Mount(config, "/usr", "/usr", true);
  Mount(config, kBerthBin, "/opt/berth/bin", true);
  Mount(config, dir_ + "/node-config", "/etc/berth-node", true);
  Mount(config, dir_ + "/node-state", "/var/lib/berth", false);
  std::string unprivileged = CreateAndStart(pod_, pod_config_, config);
  EXPECT_EQ(WaitForExit(unprivileged).exit_code(), 1);
  std::string log = ReadFile(logs_ + "/node/unprivileged.log").value_or("");
  EXPECT_TRUE(absl::StrContains(log, "CAP_SYS_ADMIN is missing: run the node container privileged")) << log;
  EXPECT_TRUE(absl::StrContains(log, "/sys is read-only")) << log;
  EXPECT_TRUE(absl::StrContains(log, "cannot open /run/berth-node/host-netns")) << log;
}

}  // namespace
}  // namespace berth::testing
