// berth under a real kubelet (standalone, static pods), built at the pinned
// Kubernetes version by test/k8s/build.sh into a cache outside the repository. The
// tests skip, saying how to build it, where the cache has no kubelet.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/process.h"
#include "test/integration/control_plane.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/stream_client.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kNodeName[] = "berth-kubelet-test";
constexpr char kBridge[] = "berthkube0";
// Host knobs kubelet sets when protectKernelDefaults is off (as it is by default).
constexpr const char* kKubeletSysctls[] = {"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic",
                                           "kernel/panic_on_oops", "kernel/keys/root_maxkeys",
                                           "kernel/keys/root_maxbytes"};
// Chains kubelet makes in every table of both families to notice iptables flushes.
constexpr const char* kKubeletChains[] = {"KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT", "KUBE-FIREWALL"};


// The tables and chains of one family's ruleset that match a name.
std::set<std::pair<std::string, std::string>> ChainsNamed(const char* save_command) {
  std::set<std::pair<std::string, std::string>> found;
  auto saved = RunProcess({save_command}, {});
  if (!saved.ok()) return found;
  std::string table;
  for (absl::string_view line : absl::StrSplit(saved->out, '\n', absl::SkipEmpty())) {
    if (line[0] == '*') table = std::string(line.substr(1));
    if (line[0] != ':') continue;
    std::string chain(line.substr(1, line.find(' ') - 1));
    for (const char* name : kKubeletChains) {
      if (chain == name) found.emplace(table, chain);
    }
  }
  return found;
}

class KubeletTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    kubelet_binary_ = K8sCache() + "/bin/kubelet";
    if (::access(kubelet_binary_.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "no kubelet at " << kubelet_binary_
                   << ": `./dev.sh test-k8s` (or test/k8s/build.sh kubelet) builds it";
    }
    LinkCniPlugins();
    if (IsSkipped()) return;
    UseShippedNetwork(kBridge);
    for (const char* knob : kKubeletSysctls) {
      sysctls_before_[knob] = ReadFile(absl::StrCat("/proc/sys/", knob)).value_or("");
    }
    kubepods_before_ = fs::exists("/sys/fs/cgroup/memory/kubepods") || fs::exists("/sys/fs/cgroup/kubepods");
    chains_before_ = ChainsNamed("/usr/sbin/iptables-save");
    chains6_before_ = ChainsNamed("/usr/sbin/ip6tables-save");
    for (const auto& entry : fs::directory_iterator("/var/log/containers", ec_)) {
      log_links_before_.insert(entry.path().string());
    }
  }

  void TearDown() override {
    if (kubelet_pid_ > 0) StopKubelet();
    if (HasFailure() && !kubelet_log_.empty()) {
      // The end of kubelet's log: the last few hundred lines say what it did last.
      std::string log = ReadFile(kubelet_log_).value_or("");
      std::cerr << "---- kubelet log (tail) ----\n" << log.substr(log.size() > 40000 ? log.size() - 40000 : 0)
                << "----------------------------\n";
    }
    PodFixture::TearDown();
  }

  void CleanUpHost() override {
    (void)RunProcess({"/usr/bin/ip", "link", "del", kBridge}, {});
    // The QoS cgroup tree an API-mode kubelet made (kubepods, kubepods/burstable, ...):
    // removed deepest first, in each hierarchy, where this test made it.
    if (!kubepods_before_) {
      for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ec_)) {
        std::vector<std::string> dirs;
        fs::path top = hierarchy.path() / "kubepods";
        if (!fs::is_directory(top, ec_)) continue;
        for (fs::recursive_directory_iterator it(top, ec_), end; !ec_ && it != end; it.increment(ec_)) {
          if (it->is_directory(ec_)) dirs.push_back(it->path().string());
        }
        std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
        dirs.push_back(top.string());
        for (const auto& dir : dirs) (void)::rmdir(dir.c_str());
      }
    }
    // kubelet bind-mounts its root directory onto itself (to make it shared).
    while (::umount2((dir_ + "/kubelet").c_str(), MNT_DETACH) == 0) {
    }
    // Put back what kubelet changed on the host: its kernel knobs, its canary
    // chains, the links it made in /var/log/containers to this test's logs.
    for (const auto& [knob, value] : sysctls_before_) {
      if (!value.empty()) (void)WriteFileAtomically(absl::StrCat("/proc/sys/", knob), value);
    }
    for (auto [save, command, before] : {std::tuple{"/usr/sbin/iptables-save", "/usr/sbin/iptables", &chains_before_},
                                         std::tuple{"/usr/sbin/ip6tables-save", "/usr/sbin/ip6tables", &chains6_before_}}) {
      for (const auto& [table, chain] : ChainsNamed(save)) {
        if (before->count({table, chain})) continue;
        // KUBE-FIREWALL is jumped to from INPUT and OUTPUT: those jumps go first.
        for (const char* from : {"INPUT", "OUTPUT"}) {
          while (RunProcess({command, "-t", table, "-D", from, "-j", chain}, {}).value_or(RunResult{}).exit_code == 0) {
          }
        }
        (void)RunProcess({command, "-t", table, "-F", chain}, {});
        (void)RunProcess({command, "-t", table, "-X", chain}, {});
      }
    }
    for (const auto& entry : fs::directory_iterator("/var/log/containers", ec_)) {
      std::string path = entry.path().string();
      if (log_links_before_.count(path)) continue;
      std::error_code ec;
      if (absl::StartsWith(fs::read_symlink(entry.path(), ec).string(), dir_)) fs::remove(entry.path(), ec);
    }
  }

  // serve: kubelet's own HTTPS server on the host's loopback at port (a
  // self-signed certificate, anonymous clients allowed everything), as a node's
  // kubelet serves kubectl exec, attach and port-forward through the API server.
  // feature_gates: a YAML flow mapping ("{EventedPLEG: true}"), or empty.
  // kubeconfig: an API server's (see ControlPlane); empty for a standalone kubelet.
  void StartKubelet(int serve_port = 0, const std::string& feature_gates = "", const std::string& kubeconfig = "") {
    std::string root = dir_ + "/kubelet";
    manifests_ = dir_ + "/manifests";
    ASSERT_TRUE(MakeDirs(manifests_).ok());
    ASSERT_TRUE(MakeDirs(root).ok());
    // Standalone: no API server, static pods from a directory, no HTTP server, no
    // QoS cgroup tree (pods go under berth's default parent), nothing that needs
    // capabilities this VM lacks (oomScoreAdj) or cgroup v2 (failCgroupV1).
    std::string config = absl::StrCat(
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "staticPodPath: ", manifests_, "\n"
        "fileCheckFrequency: 1s\n"
        "syncFrequency: 2s\n"
        "enableServer: ", serve_port > 0 ? "true" : "false", "\n",
        "address: 127.0.0.1\n"
        "port: ", serve_port, "\n"
        "readOnlyPort: 0\n"
        "healthzPort: 0\n"
        "authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}\n"
        "authorization: {mode: AlwaysAllow}\n"
        "cgroupDriver: cgroupfs\n"
        // With the API server, the QoS tree kubelet's in-place resize reads pod-level
        // limits from (without it kubelet 1.37 dies on a nil pod memory config).
        "cgroupsPerQOS: ", kubeconfig.empty() ? "false" : "true", "\n"
        "enforceNodeAllocatable: []\n"
        "failCgroupV1: false\n"
        "failSwapOn: false\n"
        "oomScoreAdj: 0\n"
        "containerRuntimeEndpoint: unix://", socket_, "\n"
        "podLogsDir: ", dir_, "/pod-logs\n"
        "imageGCHighThresholdPercent: 100\n"
        "imageGCLowThresholdPercent: 99\n"
        "evictionHard: {memory.available: 1Mi}\n",
        feature_gates.empty() ? "" : absl::StrCat("featureGates: ", feature_gates, "\n"));
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/kubelet.yaml", config).ok());
    kubelet_log_ = dir_ + "/kubelet.log";
    std::vector<std::string> args = {"--config", dir_ + "/kubelet.yaml", "--root-dir", root,
                                     "--cert-dir", dir_ + "/kubelet-pki", "--hostname-override",
                                     kNodeName, "--v", "4"};
    if (!kubeconfig.empty()) {
      args.insert(args.end(), {"--kubeconfig", kubeconfig, "--node-ip", "127.0.0.1"});
    }
    kubelet_pid_ = SpawnLogged(kubelet_binary_, args, kubelet_log_);
    ASSERT_GT(kubelet_pid_, 0);
  }

  void StopKubelet() {
    ::kill(kubelet_pid_, SIGTERM);
    WaitForChildExit(kubelet_pid_, std::chrono::seconds(30));
    kubelet_pid_ = -1;
  }

  // A static pod with one busybox container that sleeps (or runs command, a shell
  // line), and more containers as given (YAML list items).
  void WriteStaticPod(const std::string& name, const std::string& command = "",
                      const std::string& more_containers = "") {
    std::string manifest = absl::StrCat(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: ", name, ", namespace: default}\n"
        "spec:\n"
        "  restartPolicy: Always\n"
        "  terminationGracePeriodSeconds: 1\n"
        "  containers:\n"
        "  - name: main\n"
        "    image: ", image_, "\n"
        "    imagePullPolicy: IfNotPresent\n",
        command.empty() ? "    command: [sleep, '3600']\n"
                        : absl::StrCat("    command: [/bin/sh, -c, '", command, "']\n"),
        more_containers);
    // Written beside the directory and renamed in: kubelet would read a temporary
    // file in it as a pod of its own, and remove that pod when the file goes.
    std::string staged = dir_ + "/" + name + ".yaml";
    ASSERT_TRUE(WriteFileAtomically(staged, manifest).ok());
    ASSERT_EQ(::rename(staged.c_str(), (manifests_ + "/" + name + ".yaml").c_str()), 0) << strerror(errno);
  }

  struct Running {
    std::string pod_id;
    std::string container_id;
  };

  // Every sandbox and container CRI lists for a static pod (kubelet names it
  // NAME-NODE and labels its objects with that name).
  std::pair<std::vector<::runtime::v1::PodSandbox>, std::vector<::runtime::v1::Container>> ObjectsOf(
      const std::string& name) {
    std::string pod_name = absl::StrCat(name, "-", kNodeName);
    ::runtime::v1::ListPodSandboxRequest pods_request;
    (*pods_request.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.name"] = pod_name;
    ::runtime::v1::ListPodSandboxResponse pods;
    EXPECT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), pods_request, &pods).ok());
    ::runtime::v1::ListContainersRequest containers_request;
    (*containers_request.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.name"] = pod_name;
    ::runtime::v1::ListContainersResponse containers;
    EXPECT_TRUE(client().runtime().ListContainers(Ctx().get(), containers_request, &containers).ok());
    return {{pods.items().begin(), pods.items().end()}, {containers.containers().begin(), containers.containers().end()}};
  }

  // Waits until kubelet has the static pod's container running (it acts on its own
  // schedule: the CRI state is what it did).
  Running WaitForRunning(const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      auto [pods, containers] = ObjectsOf(name);
      for (const auto& container : containers) {
        if (container.state() == ::runtime::v1::CONTAINER_RUNNING) return {container.pod_sandbox_id(), container.id()};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "kubelet did not run static pod " << name << " within 120 s";
    return {};
  }

  // Waits until kubelet's log, from offset on, shows it synced the static pod
  // `count` times: each sync is where a not-ready sandbox would be replaced.
  void WaitForSyncs(const std::string& name, size_t offset, int count) {
    std::string pod = absl::StrCat("pod=\"default/", name, "-", kNodeName, "\"");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    int seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string log = ReadFile(kubelet_log_).value_or("");
      seen = 0;
      for (absl::string_view line : absl::StrSplit(absl::string_view(log).substr(std::min(offset, log.size())), '\n')) {
        if (line.find("\"SyncPod exit\"") != absl::string_view::npos && line.find(pod) != absl::string_view::npos) ++seen;
      }
      if (seen >= count) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "kubelet synced " << name << " " << seen << " times, not " << count;
  }

  int ContainerPid(const std::string& id) { return VerboseContainerInfo(id).value("pid", 0); }

  size_t KubeletLogSize() {
    struct stat st;
    return ::stat(kubelet_log_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  }

  std::string kubelet_binary_;
  std::string kubelet_log_;
  std::string manifests_;
  pid_t kubelet_pid_ = -1;
  std::map<std::string, std::string> sysctls_before_;
  std::set<std::pair<std::string, std::string>> chains_before_, chains6_before_;
  std::set<std::string> log_links_before_;
  bool kubepods_before_ = true;
  std::error_code ec_;
};

// Restarting the runtime (an upgrade, a crash) must not disturb a single workload:
// the same sandbox stays ready and the same container process keeps running, across
// several of kubelet's syncs after berthd is back.
TEST_F(KubeletTest, KillingAndRestartingBerthdRestartsNoContainer) {
  StartWithImages({});
  StartKubelet();
  WriteStaticPod("steady");
  Running before = WaitForRunning("steady");
  ASSERT_FALSE(before.container_id.empty());
  int pid = ContainerPid(before.container_id);
  ASSERT_GT(pid, 0);

  ASSERT_EQ(StopBerthd(SIGKILL).signal, SIGKILL);
  StartBerthd();
  size_t mark = KubeletLogSize();
  // A pod made after the restart shows kubelet talks to the new berthd.
  WriteStaticPod("after");
  WaitForRunning("after");
  WaitForSyncs("steady", mark, 3);

  auto [pods, containers] = ObjectsOf("steady");
  ASSERT_EQ(pods.size(), 1u) << "kubelet made a new sandbox for the pod";
  EXPECT_EQ(pods[0].id(), before.pod_id);
  EXPECT_EQ(pods[0].state(), ::runtime::v1::SANDBOX_READY);
  ASSERT_EQ(containers.size(), 1u) << "kubelet made a new container for the pod";
  EXPECT_EQ(containers[0].id(), before.container_id);
  EXPECT_EQ(containers[0].state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(containers[0].metadata().attempt(), 0u);
  EXPECT_EQ(ContainerPid(before.container_id), pid) << "the container's process was replaced";

  // Kubelet stops; its static pods stay for the fixture to remove through CRI.
  StopKubelet();
}

// kubelet's /exec, /attach and /portForward for a pod on berth, from kubelet's own
// port, with client-go's SPDY clients (kubelet proxies each to berth's streaming
// URL, as it does for kubectl through the API server).
TEST_F(KubeletTest, ServesExecAttachAndPortForwardFromItsOwnPort) {
  std::string missing;
  bool no_go = false;
  const std::string client = StreamClient(&missing, &no_go);
  if (no_go) GTEST_SKIP() << missing;
  ASSERT_FALSE(client.empty()) << missing;
  StartWithImages({});
  // Bound and let go: kubelet binds it next.
  auto free_port = PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  const int port = *free_port;
  StartKubelet(port);
  WriteStaticPod("streams", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done",
                 absl::StrCat("  - name: echo\n    image: ", image_,
                              "\n    imagePullPolicy: IfNotPresent\n    command: [nc, -ll, -p, '8080', -e, cat]\n"));
  // Both containers running, and the echo server listening (a port-forward whose
  // dial is refused ends client-go's whole session).
  std::string echo_id;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
       echo_id.empty() && std::chrono::steady_clock::now() < deadline;) {
    WaitForRunning("streams");
    auto [pods, containers] = ObjectsOf("streams");
    int running = 0;
    for (const auto& container : containers) {
      if (container.state() != ::runtime::v1::CONTAINER_RUNNING) continue;
      ++running;
      if (container.metadata().name() == "echo") echo_id = container.id();
    }
    if (running < 2) echo_id.clear();
  }
  ASSERT_FALSE(echo_id.empty()) << "kubelet did not run both containers";
  const std::string wait_for_listener =
      "until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1F90 '; do :; done; echo up";
  ASSERT_EQ(Exec(echo_id, {"/bin/sh", "-c", wait_for_listener}).stdout(), "up\n");
  const std::string pod = absl::StrCat("streams-", kNodeName);
  const std::string base = absl::StrCat("https://127.0.0.1:", port);

  // exec: kubelet takes the command from the query, as the API server sends it.
  RunOptions options;
  options.timeout = std::chrono::minutes(2);
  auto exec = RunProcess({client, "-insecure", "-url",
                          absl::StrCat(base, "/exec/default/", pod, "/main?command=/bin/sh&command=-c&",
                                       "command=echo+from-kubelet%3B+exit+7&output=1&error=1")},
                         options);
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(exec->exit_code, 7) << exec->err;
  EXPECT_EQ(exec->out, "from-kubelet\n");

  // attach: the container's output from now on; the client is ended once it shows.
  const std::string attach_url = absl::StrCat(base, "/attach/default/", pod, "/main?output=1&error=1");
  ReadingChild attaching = StartReadingUntil({client, "-insecure", "-url", attach_url}, "\n");
  const pid_t attacher = attaching.pid;
  ASSERT_GT(attacher, 0);
  const std::string& seen = attaching.seen;
  ::kill(attacher, SIGKILL);
  ::waitpid(attacher, nullptr, 0);
  EXPECT_TRUE(absl::StartsWith(seen, "tick ")) << seen;

  // port-forward: the port in each stream's headers, as kubectl sends it.
  {
    Forwarder forwarder({client, "-insecure", "-url", absl::StrCat(base, "/portForward/default/", pod)}, 8080);
    ASSERT_GT(forwarder.local_port(), 0) << "the forwarder did not get ready";
    EXPECT_EQ(Exchange(forwarder.local_port(), "through kubelet\n"), "through kubelet\n");
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(Exchange(forwarder.local_port(), absl::StrCat("again ", i, "\n")), absl::StrCat("again ", i, "\n"));
    }
  }  // the forwarder ends before kubelet does
  StopKubelet();
}

// With the runtime as the node's only source of statistics (PodAndContainerStatsFromCRI)
// and its events as the PLEG's (EventedPLEG), kubelet's /stats/summary (what
// kubectl top, metrics-server and eviction read) and /metrics/cadvisor come from
// berth's stats and CRI metrics.
TEST_F(KubeletTest, ServesStatsSummaryAndCadvisorMetricsFromBerth) {
  StartWithImages({});  // the fixture's network is the shipped bridge: the pod has an eth0 to count
  // Bound and let go: kubelet binds it next.
  auto free_port = PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  const int port = *free_port;
  StartKubelet(port, "{PodAndContainerStatsFromCRI: true, EventedPLEG: true, PLEGOnDemandRelist: true}");
  WriteStaticPod("observed", "while true; do :; done");
  Running running = WaitForRunning("observed");
  ASSERT_FALSE(running.container_id.empty());
  const std::string base = absl::StrCat("https://127.0.0.1:", port);
  const std::string pod_name = absl::StrCat("observed-", kNodeName);

  // kubelet derives rates from two of its own samples: ask until the pod shows use.
  nlohmann::json pod_stats;
  std::string last;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
       std::chrono::steady_clock::now() < deadline;) {
    auto summary = SendHttp({.url = base + "/stats/summary"});
    if (summary.ok() && summary->status == 200) {
      last = summary->body;
      auto parsed = nlohmann::json::parse(summary->body, nullptr, false);
      for (const auto& pod : parsed.value("pods", nlohmann::json::array())) {
        if (pod["podRef"].value("name", "") != pod_name) continue;
        if (pod.contains("network") && pod.contains("cpu") && pod["cpu"].value("usageNanoCores", uint64_t{0}) > 0 &&
            !pod.value("containers", nlohmann::json::array()).empty()) {
          pod_stats = pod;
        }
      }
    }
    if (!pod_stats.is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_FALSE(pod_stats.is_null()) << last;
  EXPECT_GT(pod_stats["cpu"].value("usageCoreNanoSeconds", uint64_t{0}), 0u) << pod_stats.dump();
  EXPECT_GT(pod_stats["memory"].value("workingSetBytes", uint64_t{0}), 0u) << pod_stats.dump();
  EXPECT_EQ(pod_stats["network"].value("name", ""), "eth0") << pod_stats.dump();
  EXPECT_GT(pod_stats["process_stats"].value("process_count", 0), 0) << pod_stats.dump();
  const auto& container = pod_stats["containers"][0];
  EXPECT_EQ(container.value("name", ""), "main");
  EXPECT_GT(container["cpu"].value("usageNanoCores", uint64_t{0}), 0u) << container.dump();
  EXPECT_GT(container["memory"].value("workingSetBytes", uint64_t{0}), 0u) << container.dump();
  EXPECT_TRUE(container.contains("rootfs")) << container.dump();

  auto cadvisor = SendHttp({.url = base + "/metrics/cadvisor"});
  ASSERT_TRUE(cadvisor.ok()) << cadvisor.status();
  EXPECT_EQ(cadvisor->status, 200);
  for (const char* series : {"container_cpu_usage_seconds_total{", "container_memory_working_set_bytes{",
                             "container_network_receive_bytes_total{", "container_threads{"}) {
    bool found = false;
    for (absl::string_view line : absl::StrSplit(cadvisor->body, '\n')) {
      if (absl::StartsWith(line, series) && absl::StrContains(line, absl::StrCat("pod=\"", pod_name, "\""))) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << series << " for " << pod_name << " in\n" << cadvisor->body.substr(0, 4000);
  }
  StopKubelet();
  // kubelet held a GetContainerEvents stream, which its stop ended (berthd logs the
  // call as it notices, within a quarter second).
  bool subscribed = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !subscribed && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
    subscribed = ReadFile(berthd_log_).value_or("").find("rpc=GetContainerEvents") != std::string::npos;
  }
  EXPECT_TRUE(subscribed);
}

// kubelet's checkpoint API (KEP-2008: POST /checkpoint/NAMESPACE/POD/CONTAINER on its
// own port) on berth: kubelet asks CheckpointContainer for an archive under its
// root, and the archive is one checkpointctl reads. Needs runc and a CRIU that works
// here (test/criu/build.sh); skips, saying so, without.
TEST_F(KubeletTest, CheckpointsAContainerThroughItsCheckpointApi) {
  const char* cache = ::getenv("BERTH_CRIU_DIR");
  const std::string criu_dir = cache != nullptr && *cache != '\0' ? cache : "/var/cache/berth/criu";
  RunOptions check_options;
  check_options.timeout = std::chrono::seconds(30);
  auto check = RunProcess({criu_dir + "/criu", "check"}, check_options);
  if (!check.ok() || check->exit_code != 0) {
    GTEST_SKIP() << "no working CRIU at " << criu_dir << "/criu: build one with test/criu/build.sh";
  }
  if (::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
  const std::string config = dir_ + "/berth.yaml";
  ASSERT_TRUE(WriteFileAtomically(config, absl::StrCat("default_runtime_handler: runc\nruntimes:\n  criu_path: ",
                                                       criu_dir, "/criu\n"))
                  .ok());
  StartWithImages({"--config", config});
  auto free_port = PickFreePort();
  ASSERT_TRUE(free_port.ok()) << free_port.status();
  StartKubelet(*free_port);
  WriteStaticPod("checkpointed", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done");
  Running running = WaitForRunning("checkpointed");
  ASSERT_FALSE(running.container_id.empty());

  auto answer = SendHttp({.method = "POST",
                          .url = absl::StrCat("https://127.0.0.1:", *free_port, "/checkpoint/default/checkpointed-",
                                              kNodeName, "/main")});
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->status, 200) << answer->body;
  auto items = nlohmann::json::parse(answer->body, nullptr, false).value("items", nlohmann::json::array());
  ASSERT_EQ(items.size(), 1u) << answer->body;
  const std::string archive = items[0].get<std::string>();
  EXPECT_TRUE(absl::StartsWith(archive, dir_ + "/kubelet/checkpoints/")) << archive;
  RunOptions show_options;
  show_options.timeout = std::chrono::seconds(60);
  auto shown = RunProcess({criu_dir + "/checkpointctl", "show", archive}, show_options);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->exit_code, 0) << shown->out << shown->err;
  EXPECT_TRUE(absl::StrContains(shown->out, "main")) << shown->out;
  // The container runs on, as kubelet's checkpoint leaves it.
  EXPECT_EQ(StatusOf(running.container_id).state(), ::runtime::v1::CONTAINER_RUNNING);
  StopKubelet();
}

// kubelet's in-place pod resize (`kubectl patch --subresource resize`) on berth: the
// running container gets its new CPU and memory limits through
// UpdateContainerResources, with no restart, and the pod's status says so.
TEST_F(KubeletTest, ResizesARunningPodInPlaceThroughTheApiServer) {
  std::string missing;
  if (!ControlPlane::Available(&missing)) GTEST_SKIP() << missing;
  StartWithImages({});
  ControlPlane control_plane;
  control_plane.Start(dir_ + "/control-plane");
  if (HasFatalFailure()) return;
  StartKubelet(0, "", control_plane.kubeconfig());
  std::string manifest = absl::StrCat(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: resized, namespace: default}\n"
      "spec:\n"
      "  nodeName: ", kNodeName, "\n"
      "  automountServiceAccountToken: false\n"
      "  terminationGracePeriodSeconds: 1\n"
      "  containers:\n"
      "  - name: main\n"
      "    image: ", image_, "\n"
      "    imagePullPolicy: IfNotPresent\n"
      "    command: [sleep, '3600']\n"
      "    resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired},"
      " {resourceName: memory, restartPolicy: NotRequired}]\n"
      "    resources:\n"
      "      requests: {cpu: 100m, memory: 64Mi}\n"
      "      limits: {cpu: 200m, memory: 64Mi}\n");
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/resized.yaml", manifest).ok());
  auto applied = control_plane.Kubectl({"apply", "-f", dir_ + "/resized.yaml"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;

  // The container kubelet made, running, with the first limits.
  auto find = [&]() -> std::optional<::runtime::v1::ContainerStatus> {
    ::runtime::v1::ListContainersRequest request;
    (*request.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.name"] = "resized";
    ::runtime::v1::ListContainersResponse response;
    if (!client().runtime().ListContainers(Ctx().get(), request, &response).ok()) return std::nullopt;
    for (const auto& c : response.containers()) {
      if (c.state() == ::runtime::v1::CONTAINER_RUNNING) return StatusOf(c.id());
    }
    return std::nullopt;
  };
  std::optional<::runtime::v1::ContainerStatus> before;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
       !before && std::chrono::steady_clock::now() < deadline;) {
    before = find();
    if (!before) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(before.has_value()) << "kubelet did not run the pod";
  EXPECT_EQ(before->resources().linux().cpu_quota(), 20000);
  EXPECT_EQ(before->resources().linux().memory_limit_in_bytes(), 64 << 20);
  int pid = ContainerPid(before->id());

  auto patched = control_plane.Kubectl(
      {"patch", "pod", "resized", "--subresource", "resize", "--patch",
       R"({"spec":{"containers":[{"name":"main","resources":{"requests":{"cpu":"200m","memory":"96Mi"},)"
       R"("limits":{"cpu":"400m","memory":"128Mi"}}}]}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;

  // kubelet resizes on its next sync: berth's record and the pod's status follow.
  std::optional<::runtime::v1::ContainerStatus> after;
  std::string status_limits;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
       std::chrono::steady_clock::now() < deadline;) {
    after = find();
    status_limits = control_plane.Kubectl({"get", "pod", "resized", "-o",
                                           "jsonpath={.status.containerStatuses[0].resources.limits}"}).out;
    if (after && after->resources().linux().cpu_quota() == 40000 && absl::StrContains(status_limits, "400m")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->id(), before->id()) << "the container was replaced, not resized";
  EXPECT_EQ(after->resources().linux().cpu_quota(), 40000);
  EXPECT_EQ(after->resources().linux().memory_limit_in_bytes(), 128 << 20);
  EXPECT_EQ(ContainerPid(after->id()), pid) << "the container's process was restarted";
  EXPECT_TRUE(absl::StrContains(status_limits, "400m")) << status_limits;
  EXPECT_TRUE(absl::StrContains(status_limits, "128Mi")) << status_limits;
  EXPECT_EQ(control_plane.Kubectl({"get", "pod", "resized", "-o",
                                   "jsonpath={.status.containerStatuses[0].restartCount}"}).out, "0");

  // kubelet first, so it does not remake what the fixture removes through CRI.
  StopKubelet();
  control_plane.Stop();
}

}  // namespace
}  // namespace berth::testing
