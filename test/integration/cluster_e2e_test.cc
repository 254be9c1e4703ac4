// berthctl cluster end to end: a control-plane node and two workers, each a berth
// container on the test's berthd, with the Kubernetes binaries test/k8s/build.sh
// puts in its cache (skipped, saying how to build them, where they are missing).
// Real clients throughout: kubectl against the cluster's API server, the scheduler,
// the controllers, kube-proxy and CoreDNS doing their jobs on berth nodes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/unique_fd.h"
#include "test/integration/control_plane.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/test_images.h"
#include "test/integration/test_registry.h"

namespace berth::testing {
namespace {

constexpr char kBridge[] = "bclus0";
constexpr char kBridgeGateway[] = "10.125.0.1";
constexpr char kPodSubnet[] = "10.244.0.0/16";  // berthctl cluster's
constexpr char kCluster[] = "e2e";
constexpr const char* kHostKnobs[] = {"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic",
                                      "kernel/panic_on_oops", "kernel/keys/root_maxkeys",
                                      "kernel/keys/root_maxbytes"};

constexpr char kWeb[] = R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: web
        image: berth.test/web:v1
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && echo "serving $(hostname)" &&
                  exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
)yaml";

// What `kubectl top` reads: metrics-server, aggregated into the API server, scraping
// each kubelet's resource metrics (which kubelet takes from berth's CRI stats).
constexpr char kMetricsServer[] = R"yaml(apiVersion: v1
kind: ServiceAccount
metadata: {name: metrics-server, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-server"}
rules:
- {apiGroups: [""], resources: [nodes/metrics], verbs: [get]}
- {apiGroups: [""], resources: [pods, nodes], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:metrics-server"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:metrics-server"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "metrics-server:system:auth-delegator"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: metrics-server-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics-server, namespace: kube-system}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system}
spec:
  selector: {app: metrics-server}
  ports: [{name: https, port: 443, targetPort: 10250}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics-server, namespace: kube-system}
spec:
  selector: {matchLabels: {app: metrics-server}}
  template:
    metadata: {labels: {app: metrics-server}}
    spec:
      serviceAccountName: metrics-server
      containers:
      - name: metrics-server
        image: registry.k8s.io/metrics-server/metrics-server:v0.8.0
        args: [--cert-dir=/tmp, --secure-port=10250, --kubelet-preferred-address-types=InternalIP,
               --kubelet-use-node-status-port, --metric-resolution=15s, --kubelet-insecure-tls]
        ports: [{containerPort: 10250}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  service: {name: metrics-server, namespace: kube-system, port: 443}
  group: metrics.k8s.io
  version: v1beta1
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
)yaml";

class ClusterTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    for (const char* name : {"kubelet", "kube-proxy", "kubectl", "etcd", "kube-apiserver", "kube-controller-manager",
                             "kube-scheduler", "metrics-server", "coredns"}) {
      if (::access((K8sCache() + "/bin/" + name).c_str(), X_OK) != 0) {
        GTEST_SKIP() << "no " << name << " in " << K8sCache() << "/bin: `./dev.sh test-k8s` builds it";
      }
    }
    LinkCniPlugins();
    if (IsSkipped()) return;
    ASSERT_TRUE(WriteFileAtomically(
                    cni_conf_ + "/10-nodes.conflist",
                    absl::StrCat(R"({"cniVersion": "1.0.0", "name": "nodes", "plugins": [{"type": "bridge", )",
                                 R"("bridge": ")", kBridge, R"(", "isGateway": true, "ipMasq": false, "ipam": )",
                                 R"({"type": "host-local", "ranges": [[{"subnet": "10.125.0.0/24"}]], )",
                                 R"("routes": [{"dst": "0.0.0.0/0"}], "dataDir": ")", dir_,
                                 R"(/ipam"}}, {"type": "loopback"}]})"))
                    .ok());
    for (const char* knob : kHostKnobs) knobs_before_[knob] = ReadFile(absl::StrCat("/proc/sys/", knob)).value_or("");
    // Should a pod's traffic leave a node unmasqueraded, the host's answers to its
    // address must stop here rather than follow the default route off the machine.
    auto guarded = RunProcess({"/usr/bin/ip", "route", "replace", "unreachable", kPodSubnet}, {});
    ASSERT_TRUE(guarded.ok() && guarded->exit_code == 0) << (guarded.ok() ? guarded->err : guarded.status().ToString());
    StartWithImages({});
    if (HasFatalFailure()) return;
    // The workloads' image, as `image: busybox` names it through the nodes' mirror.
    auto busybox = BusyboxImage();
    ASSERT_TRUE(busybox.ok());
    busybox->repository = "library/busybox";
    RegistryClient push = registry_->Client();
    ASSERT_TRUE(PushTestImage(push, *busybox).ok());
    ASSERT_TRUE(PushMetricsServer(push).ok());
    kubeconfig_ = dir_ + "/kubeconfig";
  }

  // busybox saved as `podman save --format oci-archive` saves it, named
  // berth.test/web:v1: what `cluster load` takes in.
  Status WriteWebArchive(const std::string& path) {
    ASSIGN_OR_RETURN(TestImage busybox, BusyboxImage());
    const Image& image = std::get<Image>(busybox.content);
    nlohmann::json index = {
        {"schemaVersion", 2},
        {"manifests",
         {{{"mediaType", kOciManifest},
           {"digest", image.manifest.digest},
           {"size", image.manifest.data.size()},
           {"annotations", {{"org.opencontainers.image.ref.name", "berth.test/web:v1"}}}}}}};
    auto blob = [](const std::string& digest, const std::string& data) {
      return File("blobs/sha256/" + digest.substr(7), data);
    };
    std::vector<TarEntry> entries = {File("oci-layout", R"({"imageLayoutVersion": "1.0.0"})"),
                                     File("index.json", index.dump()), blob(image.manifest.digest, image.manifest.data),
                                     blob(image.config.digest, image.config.data)};
    for (const auto& layer : image.layers) entries.push_back(blob(layer.digest, layer.data));
    ASSIGN_OR_RETURN(std::string tar, WriteTar(entries));
    return WriteFileAtomically(path, tar);
  }

  static Status PushMetricsServer(RegistryClient& push) {
    ASSIGN_OR_RETURN(std::string binary, ReadFile(K8sCache() + "/bin/metrics-server"));
    ASSIGN_OR_RETURN(Layer layer, BuildLayer({Dir("tmp", 01777), File("metrics-server", std::move(binary), 0755)},
                                             Compression::kNone));
    ImageSpec spec;
    spec.entrypoint = {"/metrics-server"};
    ASSIGN_OR_RETURN(Image image, BuildImage(spec, {std::move(layer)}));
    return PushImage(push, "metrics-server/metrics-server", "v0.8.0", image).status();
  }

  void TearDown() override {
    if (created_) (void)Berthctl({"delete"});
    if (upstream_dns_.pid > 0) {
      ::kill(upstream_dns_.pid, SIGTERM);
      (void)WaitChild(upstream_dns_.pid);
    }
    PodFixture::TearDown();
    for (const auto& [knob, before] : knobs_before_) {
      EXPECT_EQ(ReadFile(absl::StrCat("/proc/sys/", knob)).value_or(""), before) << knob << " changed on the host";
    }
  }

  void CleanUpHost() override {
    (void)RunProcess({"/usr/bin/ip", "link", "del", kBridge}, {});
    (void)RunProcess({"/usr/bin/ip", "route", "del", "unreachable", kPodSubnet}, {});
  }

  // A resolver on the host for the cluster's DNS to send other names to: CoreDNS on
  // the nodes' bridge, answering one name of its own and logging who asked.
  Status StartUpstreamDns() {
    RETURN_IF_ERROR(WriteFileAtomically(
        dir_ + "/Corefile", absl::StrCat("upstream.test:", upstream_port_, " {\n  bind ", kBridgeGateway,
                                         "\n  hosts {\n    10.125.0.77 outside.upstream.test\n  }\n  log\n}\n")));
    ASSIGN_OR_RETURN(upstream_dns_, SpawnChild({K8sCache() + "/bin/coredns", "-conf", dir_ + "/Corefile"}, false));
    // It names its version once it serves.
    if (!ReadUntil(upstream_dns_.stdout.get(), "CoreDNS-", std::chrono::seconds(30), &upstream_log_)) {
      return absl::DeadlineExceededError("the upstream CoreDNS did not start: " + upstream_log_);
    }
    return absl::OkStatus();
  }

  // A port free for both TCP and UDP on address, as the kernel finds one (then let
  // go, to be taken again at once by who needs it).
  static int FreePort(const char* address) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      sockaddr_in bound{};
      bound.sin_family = AF_INET;
      if (::inet_pton(AF_INET, address, &bound.sin_addr) != 1) return 0;
      UniqueFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      if (!udp || ::bind(udp.get(), reinterpret_cast<sockaddr*>(&bound), sizeof(bound)) != 0) return 0;
      socklen_t length = sizeof(bound);
      if (::getsockname(udp.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) return 0;
      UniqueFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (tcp && ::bind(tcp.get(), reinterpret_cast<sockaddr*>(&bound), sizeof(bound)) == 0) {
        return ntohs(bound.sin_port);
      }
    }
    return 0;
  }

  // Reads fd into said until it holds what; false when fd ends or time runs out first.
  static bool ReadUntil(int fd, const std::string& what, std::chrono::seconds limit, std::string* said) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[4096];
    while (!absl::StrContains(*said, what)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd ready = {fd, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n <= 0) return false;
      said->append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  RunResult Berthctl(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::vector<std::string> argv = {BERTHCTL_PATH, "--endpoint", "unix://" + socket_, "cluster", args[0],
                                     "--name", kCluster, "--state", dir_ + "/clusters"};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return Run(std::move(argv), timeout);
  }

  RunResult Kubectl(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    std::vector<std::string> argv = {K8sCache() + "/bin/kubectl", "--kubeconfig", kubeconfig_};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(std::move(argv), timeout);
  }

  // argv with this test's kubeconfig in the environment (berthctl writes it).
  RunResult Run(std::vector<std::string> argv, std::chrono::seconds timeout) {
    RunOptions options;
    options.timeout = timeout;
    options.extra_env = {"KUBECONFIG=" + kubeconfig_};
    auto result = RunProcess(argv, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  }

  // The node container of a node of the cluster, on the test's berthd.
  std::string NodeContainer(const std::string& node) {
    ::runtime::v1::ListPodSandboxRequest find;
    (*find.mutable_filter()->mutable_label_selector())["berth.io/cluster-node"] = node;
    ::runtime::v1::ListPodSandboxResponse pods;
    EXPECT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), find, &pods).ok());
    if (pods.items_size() != 1) return "";
    ::runtime::v1::ListContainersRequest containers_of;
    containers_of.mutable_filter()->set_pod_sandbox_id(pods.items(0).id());
    ::runtime::v1::ListContainersResponse containers;
    EXPECT_TRUE(client().runtime().ListContainers(Ctx().get(), containers_of, &containers).ok());
    return containers.containers_size() == 1 ? containers.containers(0).id() : "";
  }

  // pod name -> node name, for the web Deployment's pods.
  std::map<std::string, std::string> WebPods() {
    auto listed = Kubectl({"get", "pods", "-l", "app=web", "-o",
                           "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{\"\\n\"}{end}"});
    std::map<std::string, std::string> pods;
    for (absl::string_view line : absl::StrSplit(listed.out, '\n', absl::SkipEmpty())) {
      std::vector<std::string> fields = absl::StrSplit(line, ' ');
      if (fields.size() == 2) pods[fields[0]] = fields[1];
    }
    return pods;
  }

  std::string kubeconfig_;
  bool created_ = false;
  Child upstream_dns_;
  int upstream_port_ = 0;
  std::string upstream_log_;
  std::map<std::string, std::string> knobs_before_;
};

TEST_F(ClusterTest, AThreeNodeClusterRunsServesAndRejoins) {
  // Free ports, for the web Service's NodePort on the host's loopback and for the
  // upstream resolver on the bridge (whatever else listens on port 53 here).
  const int published_port = FreePort("127.0.0.1");
  upstream_port_ = FreePort("0.0.0.0");
  ASSERT_GT(published_port, 0);
  ASSERT_GT(upstream_port_, 0);
  auto created = Berthctl({"create", "--nodes", "2", "--kubernetes", K8sCache() + "/bin", "--registry",
                           registry_->host_port(), "--dns-upstream",
                           absl::StrCat(kBridgeGateway, ":", upstream_port_), "--publish",
                           absl::StrCat(published_port, ":30080")},
                          std::chrono::seconds(300));
  created_ = true;
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_TRUE(absl::StrContains(created.out, "Context berth-e2e")) << created.out;
  EXPECT_TRUE(absl::StrContains(created.out, "cluster DNS deployed; other names go to 10.125.0.1:")) << created.out;
  // The bridge, and so its address, exist once the nodes do.
  ASSERT_TRUE(StartUpstreamDns().ok()) << upstream_log_;
  // The workload's image comes in as an archive.
  ASSERT_TRUE(WriteWebArchive(dir_ + "/web.tar").ok());
  auto loaded = Berthctl({"load", dir_ + "/web.tar"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
  EXPECT_TRUE(absl::StartsWith(loaded.out, "Loaded berth.test/web:v1 (")) << loaded.out;
  auto listed = Berthctl({"list"});
  EXPECT_EQ(listed.out, "e2e\n");

  // Every node Ready; the workers spread the Deployment.
  auto nodes = Kubectl({"get", "nodes", "-o", "name"});
  EXPECT_EQ(nodes.out, "node/e2e-control-plane\nnode/e2e-worker\nnode/e2e-worker2\n") << nodes.err;
  // The administrator's kubeconfig on its own, as a CI script takes it.
  auto admin = Berthctl({"kubeconfig"});
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/admin.conf", admin.out, 0600).ok());
  auto through_admin = Run({K8sCache() + "/bin/kubectl", "--kubeconfig", dir_ + "/admin.conf", "get", "nodes", "-o",
                            "name"},
                           std::chrono::seconds(60));
  EXPECT_EQ(through_admin.out, nodes.out) << through_admin.err;
  auto ready = Kubectl({"wait", "--for=condition=Ready", "node", "--all", "--timeout=60s"});
  ASSERT_EQ(ready.exit_code, 0) << ready.out << ready.err;
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/web.yaml", kWeb).ok());
  auto applied = Kubectl({"apply", "-f", dir_ + "/web.yaml"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  auto rolled = Kubectl({"rollout", "status", "deployment/web", "--timeout=180s"}, std::chrono::seconds(200));
  ASSERT_EQ(rolled.exit_code, 0) << rolled.out << rolled.err << Kubectl({"describe", "pods"}).out;
  std::map<std::string, std::string> pods = WebPods();
  ASSERT_EQ(pods.size(), 3u);
  std::set<std::string> used;
  for (const auto& [pod, node] : pods) used.insert(node);
  EXPECT_EQ(used, (std::set<std::string>{"e2e-worker", "e2e-worker2"}));

  // A pod on one worker reaches the Service and is answered from the other worker.
  std::string client_pod, remote_host;
  for (const auto& [pod, node] : pods) {
    if (node == "e2e-worker") client_pod = pod;
  }
  for (const auto& [pod, node] : pods) {
    if (node == "e2e-worker2") remote_host = pod;
  }
  const std::string service_ip = Kubectl({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"}).out;
  ASSERT_FALSE(service_ip.empty());
  bool answered_from_other_node = false;
  std::string answers;
  for (int attempt = 0; attempt < 40 && !answered_from_other_node; ++attempt) {
    // Debian's static busybox wget crashes; nc speaks the HTTP itself.
    auto got = Kubectl({"exec", client_pod, "--", "sh", "-c",
                        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 " + service_ip + " 80"});
    absl::StrAppend(&answers, got.out, got.err);
    std::vector<std::string> lines = absl::StrSplit(absl::StripAsciiWhitespace(got.out), '\n');
    answered_from_other_node = lines.back() == remote_host;
  }
  EXPECT_TRUE(answered_from_other_node) << "the Service never answered from " << remote_host << ":\n" << answers;

  // The NodePort, published on the host's loopback by the control-plane node.
  auto published = SendHttp({.url = absl::StrCat("http://127.0.0.1:", published_port, "/")});
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(pods.count(std::string(absl::StripAsciiWhitespace(published->body)))) << published->body;

  // Cluster DNS: a Service by name, and a name outside the cluster through the
  // upstream, whose query arrives from a node's address (masqueraded), not a pod's.
  rolled = Kubectl({"-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s"},
                   std::chrono::seconds(150));
  ASSERT_EQ(rolled.exit_code, 0) << rolled.out << rolled.err
                                 << Kubectl({"-n", "kube-system", "describe", "pods", "-l", "k8s-app=kube-dns"}).out;
  auto resolv = Kubectl({"exec", client_pod, "--", "cat", "/etc/resolv.conf"});
  EXPECT_TRUE(absl::StrContains(resolv.out, "nameserver 10.96.0.10")) << resolv.out << resolv.err;
  // Available pods are not yet kube-proxy's endpoints on every node: asked until
  // answered (kube-proxy rejects a Service without endpoints).
  RunResult service_name;
  const auto dns_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < dns_deadline) {
    service_name = Kubectl({"exec", client_pod, "--", "nslookup", "-timeout=2", "web.default.svc.cluster.local"});
    if (absl::StrContains(service_name.out, "Address: " + service_ip)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(absl::StrContains(service_name.out, "Address: " + service_ip)) << service_name.out << service_name.err;
  auto outside = Kubectl({"exec", client_pod, "--", "nslookup", "outside.upstream.test"});
  EXPECT_TRUE(absl::StrContains(outside.out, "Address: 10.125.0.77")) << outside.out << outside.err;
  ASSERT_TRUE(ReadUntil(upstream_dns_.stdout.get(), "outside.upstream.test", std::chrono::seconds(5), &upstream_log_))
      << upstream_log_;
  for (absl::string_view line : absl::StrSplit(upstream_log_, '\n')) {
    if (absl::StrContains(line, "outside.upstream.test")) {
      EXPECT_TRUE(absl::StartsWith(line, "[INFO] 10.125.0.")) << "asked from outside the nodes' network: " << line;
    }
  }

  // logs, exec and port-forward through kubelet to berth's streaming server.
  auto logs = Kubectl({"logs", client_pod});
  EXPECT_EQ(logs.out, "serving " + client_pod + "\n") << logs.err;
  auto exec = Kubectl({"exec", client_pod, "--", "cat", "/www/index.html"});
  EXPECT_EQ(exec.out, client_pod + "\n") << exec.err;
  auto forward = SpawnChild({K8sCache() + "/bin/kubectl", "--kubeconfig", kubeconfig_, "port-forward",
                             "pod/" + remote_host, "0:8080"},
                            false);
  ASSERT_TRUE(forward.ok()) << forward.status();
  // Ended, by pid, whatever happens below.
  absl::Cleanup stop_forward = [pid = forward->pid] {
    ::kill(pid, SIGTERM);
    (void)WaitChild(pid);
  };
  // "Forwarding from 127.0.0.1:PORT -> 8080"
  std::string said;
  ASSERT_TRUE(ReadUntil(forward->stdout.get(), " -> 8080", std::chrono::seconds(60), &said)) << said;
  int port = 0;
  size_t at = said.find("127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << said;
  ASSERT_TRUE(absl::SimpleAtoi(said.substr(at + 10, said.find(" ->", at) - at - 10), &port)) << said;
  ASSERT_GT(port, 0) << said;
  auto page = SendHttp({.url = absl::StrCat("http://127.0.0.1:", port, "/")});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->body, remote_host + "\n");

  // kubectl top, once metrics-server has scraped the kubelets.
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/metrics-server.yaml", kMetricsServer).ok());
  auto metrics = Kubectl({"apply", "-f", dir_ + "/metrics-server.yaml"});
  ASSERT_EQ(metrics.exit_code, 0) << metrics.out << metrics.err;
  rolled = Kubectl({"-n", "kube-system", "rollout", "status", "deployment/metrics-server", "--timeout=120s"},
                   std::chrono::seconds(150));
  ASSERT_EQ(rolled.exit_code, 0) << rolled.out << rolled.err;
  // Metrics appear after the first scrapes (a rate needs two), pods' and nodes' each
  // in their own time: asked again until both are served.
  RunResult top, top_nodes;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    top = Kubectl({"top", "pod", "-l", "app=web", "--no-headers"});
    top_nodes = Kubectl({"top", "node", "--no-headers"});
    if (absl::StrContains(top.out, client_pod) && absl::StrContains(top_nodes.out, "e2e-worker2")) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  EXPECT_TRUE(absl::StrContains(top.out, client_pod))
      << top.out << top.err << Kubectl({"-n", "kube-system", "logs", "deploy/metrics-server"}).out;
  EXPECT_TRUE(absl::StrContains(top_nodes.out, "e2e-worker2"))
      << top_nodes.out << top_nodes.err << Kubectl({"-n", "kube-system", "logs", "deploy/metrics-server"}).out;

  // A worker's container removed on the host, and started again: it rejoins with its
  // state and runs new pods.
  ::runtime::v1::ListPodSandboxRequest find;
  (*find.mutable_filter()->mutable_label_selector())["berth.io/cluster-node"] = "e2e-worker2";
  ::runtime::v1::ListPodSandboxResponse found;
  ASSERT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), find, &found).ok());
  ASSERT_EQ(found.items_size(), 1);
  EXPECT_TRUE(StopPod(found.items(0).id()).ok());
  EXPECT_TRUE(RemovePod(found.items(0).id()).ok());
  auto started = Berthctl({"start"});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_TRUE(absl::StrContains(started.out, "Started node e2e-worker2")) << started.out;
  const std::string pinned = R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pinned"},
    "spec": {"nodeName": "e2e-worker2", "containers": [{"name": "c", "image": "busybox",
    "command": ["sleep", "3600"]}]}})";
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/pinned.json", pinned).ok());
  ASSERT_EQ(Kubectl({"apply", "-f", dir_ + "/pinned.json"}).exit_code, 0);
  auto running = Kubectl({"wait", "--for=condition=Ready", "pod/pinned", "--timeout=120s"}, std::chrono::seconds(150));
  EXPECT_EQ(running.exit_code, 0) << running.out << running.err << Kubectl({"describe", "pod", "pinned"}).out;
  rolled = Kubectl({"rollout", "status", "deployment/web", "--timeout=120s"}, std::chrono::seconds(150));
  EXPECT_EQ(rolled.exit_code, 0) << rolled.out << rolled.err;

  // A Node deleted from the API loses its route on the other nodes.
  const std::string worker2_cidr = Kubectl({"get", "node", "e2e-worker2", "-o", "jsonpath={.spec.podCIDR}"}).out;
  ASSERT_FALSE(worker2_cidr.empty());
  const std::string worker = NodeContainer("e2e-worker");
  ASSERT_FALSE(worker.empty());
  auto shown = Exec(worker, {"ip", "route", "show", worker2_cidr});
  ASSERT_EQ(shown.exit_code(), 0) << shown.stderr();
  EXPECT_FALSE(shown.stdout().empty());
  ASSERT_EQ(Kubectl({"delete", "node", "e2e-worker2"}).exit_code, 0);
  std::string route = "(not asked)";
  const auto route_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!route.empty() && std::chrono::steady_clock::now() < route_deadline) {
    shown = Exec(worker, {"ip", "route", "show", worker2_cidr});
    ASSERT_EQ(shown.exit_code(), 0) << shown.stderr();
    route = shown.stdout();
    if (!route.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(route, "") << "e2e-worker kept its route to deleted e2e-worker2's " << worker2_cidr;

  // Deleting the cluster leaves nothing: the fixture's leak check looks at the host.
  auto deleted = Berthctl({"delete"});
  created_ = false;
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/clusters/e2e"));
  EXPECT_FALSE(absl::StrContains(ReadFile(kubeconfig_).value_or(""), "berth-e2e"));
}

}  // namespace
}  // namespace berth::testing
