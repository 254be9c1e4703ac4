// berthctl cluster create: a Kubernetes cluster on this machine whose nodes are berth
// containers. Step by step: check the host, build and push the node and control
// plane images, run the node pods, write each node's certificates and configs, start
// the nodes, wait for the API server, deploy cluster DNS, wait for every node to be
// Ready, and merge the cluster's credentials into the user's kubeconfig.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/process.h"
#include "cluster/api_client.h"
#include "cluster/cluster_dns.h"
#include "cluster/image_builder.h"
#include "cluster/kubeconfig.h"
#include "cluster/node_files.h"
#include "cluster/record.h"
#include "cluster/registry_push.h"
#include "cmd/berthctl/cluster_commands.h"
#include "cmd/berthctl/cluster_nodes.h"
#include "cmd/berthctl/command.h"

namespace po = boost::program_options;

namespace berth::ctl {

namespace {

using Clock = std::chrono::steady_clock;

const char* const kComponents[] = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"};

void Step(const std::string& what) { std::cout << " • " << what << std::endl; }
void Done(const std::string& what, Clock::time_point since) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
  std::cout << " ✓ " << what << " (" << ms / 1000 << "." << (ms % 1000) / 100 << " s)" << std::endl;
}

// The first word after prefix in what `binary --version` prints.
StatusOr<std::string> VersionOf(const std::string& binary, absl::string_view prefix) {
  RunOptions options;
  options.timeout = std::chrono::seconds(20);
  ASSIGN_OR_RETURN(RunResult result, RunProcess({binary, "--version"}, options));
  for (absl::string_view line : absl::StrSplit(result.out, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) return std::string(absl::StripAsciiWhitespace(line));
  }
  return absl::FailedPreconditionError(absl::StrCat(binary, " --version said no \"", prefix, "\": ", result.out));
}

Status CheckBinaries(const std::string& dir, std::initializer_list<const char*> names, const std::string& what) {
  for (const char* name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (::access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(what, " ", dir, " lacks ", name));
    }
  }
  return absl::OkStatus();
}

std::string OwnDir() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : self.parent_path().string();
}

// The node image: merged-/usr links, /etc's basics, mount points. Its programs are
// the host's /usr and berth's binaries, mounted in by berthctl.
cluster::ImageContent NodeImage() {
  using namespace cluster;
  return {.files = {DirEntry("usr"), SymlinkEntry("bin", "usr/bin"), SymlinkEntry("sbin", "usr/sbin"),
                    SymlinkEntry("lib", "usr/lib"), SymlinkEntry("lib64", "usr/lib64"), DirEntry("etc"),
                    FileEntry("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), FileEntry("etc/group", "root:x:0:\n"),
                    FileEntry("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"),
                    DirEntry("tmp", 01777), DirEntry("run"), DirEntry("var"), DirEntry("var/lib"),
                    DirEntry("var/log"), DirEntry("root", 0700), DirEntry("opt")},
          .entrypoint = {"/opt/berth/bin/berth-node"}};
}

// A control plane component's image: its one static binary.
cluster::ImageContent ComponentImage(const std::string& kubernetes_dir, const std::string& component) {
  using namespace cluster;
  return {.files = {DirEntry("etc"), FileEntry("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n"),
                    FileEntry("etc/group", "root:x:0:\n"), DirEntry("tmp", 01777), DirEntry("usr"),
                    DirEntry("usr/local"), DirEntry("usr/local/bin"),
                    HostFileEntry("usr/local/bin/" + component, kubernetes_dir + "/" + component)},
          .entrypoint = {"/usr/local/bin/" + component}};
}

// What create knows of cluster DNS before the cluster is up: whether there is a
// CoreDNS to deploy, and where names outside the cluster go.
struct DnsPlan {
  std::string coredns_tag = {};  // "v1.15.0"; empty: no coredns in --kubernetes, no cluster DNS
  std::vector<std::string> upstreams = {};
};

// One static binary of --kubernetes as an image, pushed as repository:tag; its digest.
StatusOr<std::string> PushComponent(const cluster::RegistryPusher& pusher, const std::string& kubernetes_dir,
                                    const std::string& component, const std::string& repository,
                                    const std::string& tag, const std::string& work_dir) {
  ASSIGN_OR_RETURN(cluster::BuiltImage image, cluster::BuildImage(ComponentImage(kubernetes_dir, component), work_dir));
  auto digest = pusher.Push(repository, tag, image);
  std::error_code ec;
  std::filesystem::remove(image.layer.file, ec);
  return digest;
}

// The node image and the control plane's, pushed; the record learns their digests.
Status PushImages(const cluster::RegistryPusher& pusher, cluster::ClusterRecord& record, const std::string& work_dir,
                  const std::string& berth_version) {
  ASSIGN_OR_RETURN(cluster::BuiltImage node, cluster::BuildImage(NodeImage(), work_dir));
  ASSIGN_OR_RETURN(std::string digest, pusher.Push("berth/node", berth_version, node));
  // By digest: the host's berthd runs this image privileged, and the registry takes
  // pushes from anyone who reaches it (every node does); a tag could be moved.
  record.node_image = absl::StrCat("127.0.0.1:", pusher.port(), "/berth/node@", digest);
  for (const char* component : kComponents) {
    // Named as the static pods name them (before the digest is known, so NAME:TAG);
    // every node mirrors every registry here.
    std::string reference = cluster::ControlPlaneImage(record.spec, component);
    std::string tag = reference.substr(reference.rfind(':') + 1);
    ASSIGN_OR_RETURN(record.spec.image_digests[component],
                     PushComponent(pusher, record.kubernetes_dir, component, component, tag, work_dir));
  }
  return absl::OkStatus();
}

// CoreDNS's image, pushed; how the Deployment names it (by digest, as the static
// pods name theirs).
StatusOr<std::string> PushCoredns(const cluster::RegistryPusher& pusher, const cluster::ClusterRecord& record,
                                  const DnsPlan& dns, const std::string& work_dir) {
  ASSIGN_OR_RETURN(std::string digest, PushComponent(pusher, record.kubernetes_dir, "coredns", "coredns/coredns",
                                                     dns.coredns_tag, work_dir));
  return absl::StrCat("registry.k8s.io/coredns/coredns:", dns.coredns_tag, "@", digest);
}

// Creates what cluster DNS is; what is there already is left as it is.
Status DeployClusterDns(const cluster::ApiClient& api, const cluster::ClusterSpec& spec, const DnsPlan& dns,
                        const std::string& image) {
  for (const auto& [collection, object] : cluster::ClusterDnsObjects(
           {.service_ip = spec.dns_ip, .image = image, .upstreams = dns.upstreams})) {
    Status created = api.Create(collection, object);
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  }
  return absl::OkStatus();
}

Status WriteNodeFiles(const std::string& dir, bool control_plane, const cluster::Files& files) {
  for (const auto& volume : cluster::NodeVolumes(control_plane)) {
    std::error_code ec;
    std::filesystem::create_directories(dir + "/" + volume.dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, "/", volume.dir, ": ", ec.message()));
  }
  for (const auto& [path, content] : files) {
    const std::string full = dir + "/" + path;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path(), ec);
    const bool secret = absl::EndsWith(path, ".key") || absl::EndsWith(path, ".conf");
    RETURN_IF_ERROR(WriteFileAtomically(full, content, secret ? 0600 : 0644));
  }
  return absl::OkStatus();
}

// Asks until ready says yes or the deadline passes; DEADLINE_EXCEEDED with the last
// answer then. Only "not yet" answers are asked again (UNAVAILABLE, NOT_FOUND): any
// other is returned at once.
Status WaitUntil(const std::string& what, std::chrono::seconds limit, const std::function<Status()>& ready) {
  const auto deadline = Clock::now() + limit;
  Status last;
  while (Clock::now() < deadline) {
    last = ready();
    if (last.ok()) return last;
    if (!absl::IsUnavailable(last) && !absl::IsNotFound(last)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return absl::DeadlineExceededError(absl::StrCat(what, " did not happen within ", limit.count(), " s: ",
                                                  last.message()));
}

Status MergeUserKubeconfig(const cluster::KubeconfigEntry& entry, std::string* path_out) {
  const std::string path = KubeconfigPath();
  std::string existing = ReadFile(path).value_or("");
  ASSIGN_OR_RETURN(std::string merged, cluster::MergeKubeconfig(existing, entry));
  RETURN_IF_ERROR(WriteUserFile(path, merged));
  *path_out = path;
  return absl::OkStatus();
}

// reserved is set once the cluster's directory is made: from then on a failure has
// something of this create's to remove.
Status Create(const ClusterOptions& options, int workers, const std::string& kubernetes_dir,
              const std::string& registry, const std::string& dns_upstream,
              const std::vector<cluster::PublishedPort>& published, bool* reserved) {
  const auto started = Clock::now();
  auto since = Clock::now();
  ClusterNodes nodes(options.endpoint, options.timeout, options.state_dir);
  Step("checking the host");
  cluster::ClusterRecord record;
  record.spec.name = options.name;
  record.registry = registry;
  record.kubernetes_dir = std::filesystem::absolute(kubernetes_dir).lexically_normal().string();
  record.berth_dir = OwnDir();
  record.spec.published = published;
  RETURN_IF_ERROR(cluster::CheckHostPortsFree(published));
  RETURN_IF_ERROR(CheckBinaries(record.kubernetes_dir, {"kubelet", "kube-proxy", "kubectl", "etcd",
                                                         "kube-apiserver", "kube-controller-manager",
                                                         "kube-scheduler"},
                                "--kubernetes"));
  RETURN_IF_ERROR(CheckBinaries(record.berth_dir, {"berthd", "berth-runtime", "berth-shim", "berth-node"},
                                "berth's directory"));
  ASSIGN_OR_RETURN(record.spec.kubernetes_version, VersionOf(record.kubernetes_dir + "/kubelet", "Kubernetes "));
  ASSIGN_OR_RETURN(record.spec.etcd_version, VersionOf(record.kubernetes_dir + "/etcd", "etcd Version:"));
  DnsPlan dns;
  if (::access((record.kubernetes_dir + "/coredns").c_str(), X_OK) == 0) {
    ASSIGN_OR_RETURN(std::string coredns_version, VersionOf(record.kubernetes_dir + "/coredns", "CoreDNS-"));
    dns.coredns_tag = "v" + coredns_version;
    ASSIGN_OR_RETURN(record.spec.dns_ip, cluster::ServiceIp(record.spec.service_subnet, 10));
    if (dns_upstream.empty()) {
      dns.upstreams = cluster::HostUpstreams();
    } else {
      ASSIGN_OR_RETURN(dns.upstreams, cluster::ParseUpstreams(dns_upstream));
    }
  }
  ASSIGN_OR_RETURN(cluster::RegistryPusher pusher, cluster::RegistryPusher::Create(registry));
  RETURN_IF_ERROR(pusher.Ping());
  record.spec.registry_port = pusher.port();
  ::runtime::v1::VersionResponse version;
  {
    cri::CriClient client(options.endpoint);
    auto status = client.runtime().Version(cri::CriClient::Context(options.timeout).get(), {}, &version);
    if (!status.ok()) return RpcError("the host's berthd at " + options.endpoint, status);
  }
  ASSIGN_OR_RETURN(std::vector<NodePod> existing, nodes.List(options.name));
  const std::string cluster_dir = cluster::ClusterDir(options.state_dir, options.name);
  std::error_code ec;
  std::filesystem::create_directories(options.state_dir, ec);
  // The name is taken by making its directory: of two creates of one name, one wins.
  if (!existing.empty() || ::mkdir(cluster_dir.c_str(), 0700) != 0) {
    if (existing.empty() && errno != EEXIST) return ErrnoError(absl::StrCat("mkdir ", cluster_dir));
    return absl::AlreadyExistsError(absl::StrCat("cluster ", options.name, " exists; `berthctl cluster delete --name ",
                                                 options.name, "` first"));
  }
  *reserved = true;
  record.spec.control_plane_name = options.name + "-control-plane";
  record.nodes.push_back({record.spec.control_plane_name, true});
  for (int i = 1; i <= workers; ++i) {
    record.nodes.push_back({i == 1 ? options.name + "-worker" : absl::StrCat(options.name, "-worker", i), false});
  }
  Done(absl::StrCat("host checked: Kubernetes ", record.spec.kubernetes_version, ", etcd ", record.spec.etcd_version,
                    dns.coredns_tag.empty() ? "" : ", CoreDNS " + dns.coredns_tag, ", ", version.runtime_name(), " ",
                    version.runtime_version()),
       since);
  if (dns.coredns_tag.empty()) {
    std::cout << "   no cluster DNS: " << record.kubernetes_dir
              << " has no coredns (test/k8s/build.sh coredns builds it)" << std::endl;
    if (!dns_upstream.empty()) std::cerr << "berthctl cluster create: --dns-upstream goes unused\n";
  }

  since = Clock::now();
  Step(absl::StrCat("building images and pushing them to ", registry));
  std::filesystem::create_directories(cluster_dir + "/images", ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", cluster_dir, ": ", ec.message()));
  RETURN_IF_ERROR(PushImages(pusher, record, cluster_dir + "/images", version.runtime_version()));
  std::string coredns_image;
  if (!dns.coredns_tag.empty()) {
    ASSIGN_OR_RETURN(coredns_image, PushCoredns(pusher, record, dns, cluster_dir + "/images"));
  }
  std::filesystem::remove_all(cluster_dir + "/images", ec);
  RETURN_IF_ERROR(nodes.Pull(record.node_image));
  Done("images ready", since);

  since = Clock::now();
  Step(absl::StrCat("starting ", record.nodes.size(), " nodes"));
  std::vector<NodePod> pods;
  for (const auto& node : record.nodes) {
    ASSIGN_OR_RETURN(NodePod pod, nodes.RunPod(record, node));
    pods.push_back(std::move(pod));
  }
  record.spec.control_plane_ip = pods.front().ip;
  RETURN_IF_ERROR(cluster::SaveRecord(options.state_dir, record));
  ASSIGN_OR_RETURN(cluster::ClusterPki pki, cluster::NewClusterPki());
  for (size_t i = 0; i < record.nodes.size(); ++i) {
    const auto& node = record.nodes[i];
    ASSIGN_OR_RETURN(cluster::Files files,
                     cluster::NodeFiles(record.spec, {node.name, pods[i].ip, node.control_plane}, pki));
    RETURN_IF_ERROR(WriteNodeFiles(cluster::NodeDir(options.state_dir, options.name, node.name),
                                   node.control_plane, files));
    RETURN_IF_ERROR(nodes.StartNode(record, node, pods[i]));
    std::cout << "   " << node.name << " " << pods[i].ip << std::endl;
  }
  Done("nodes started", since);

  since = Clock::now();
  Step("waiting for the API server");
  ASSIGN_OR_RETURN(cluster::KubeconfigEntry admin, cluster::AdminKubeconfig(record.spec, pki));
  cluster::ApiClient api(admin);
  RETURN_IF_ERROR(WaitUntil("the API server's /readyz", std::chrono::seconds(300),
                            [&] { return api.Get("/readyz").status(); }));
  Done(absl::StrCat("API server ready at ", admin.server), since);

  if (!dns.coredns_tag.empty()) {
    since = Clock::now();
    Step(absl::StrCat("deploying cluster DNS (CoreDNS ", dns.coredns_tag, ") at ", record.spec.dns_ip));
    // kube-system may not be made yet when /readyz first says yes.
    RETURN_IF_ERROR(WaitUntil("cluster DNS deployed", std::chrono::seconds(60),
                              [&] { return DeployClusterDns(api, record.spec, dns, coredns_image); }));
    Done(absl::StrCat("cluster DNS deployed; other names go to ",
                      dns.upstreams.empty() ? "no one" : absl::StrJoin(dns.upstreams, ", ")),
         since);
  }

  since = Clock::now();
  Step("waiting for the nodes to be Ready");
  RETURN_IF_ERROR(WaitUntil("every node Ready", std::chrono::seconds(300), [&]() -> Status {
    ASSIGN_OR_RETURN(nlohmann::json list, api.GetJson("/api/v1/nodes"));
    size_t ready = cluster::ReadyNodes(list).size();
    if (ready == record.nodes.size()) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(ready, " of ", record.nodes.size(), " nodes Ready"));
  }));
  // kubeadm's label: NodeRestriction keeps kubelet from setting it itself.
  RETURN_IF_ERROR(api.Patch("/api/v1/nodes/" + record.spec.control_plane_name,
                            {{"metadata", {{"labels", {{"node-role.kubernetes.io/control-plane", ""}}}}}}));
  Done("all nodes Ready", since);

  // Beside the cluster too, for `cluster kubeconfig` (which makes it again if this
  // fails: the cluster is up, and stays).
  const std::string kept = cluster::AdminKubeconfigPath(options.state_dir, options.name);
  if (Status written = WriteFileAtomically(kept, cluster::Kubeconfig(admin), 0600); !written.ok()) {
    std::cerr << "berthctl cluster create: " << written.message() << "\n";
  }
  std::string kubeconfig;
  if (Status merged = MergeUserKubeconfig(admin, &kubeconfig); !merged.ok()) {
    // The cluster is up: it stays, with its kubeconfig beside it.
    kubeconfig = cluster::AdminKubeconfigPath(options.state_dir, options.name);
    std::cerr << "berthctl cluster create: " << KubeconfigPath() << " was left alone (" << merged.message()
              << ")\n";
  }
  auto total = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  std::cout << "\nCluster " << options.name << " is up in " << total / 1000 << "." << (total % 1000) / 100
            << " s. Context berth-" << options.name << " is in " << kubeconfig << ":\n\n  kubectl --context berth-"
            << options.name << " get nodes\n";
  return absl::OkStatus();
}

}  // namespace

int RunClusterCreate(const ClusterOptions& options, const std::vector<std::string>& args) {
  po::options_description flags("Flags");
  flags.add_options()
      ("nodes", po::value<int>()->default_value(1), "worker nodes beside the control-plane node")
      ("kubernetes", po::value<std::string>(), "directory with kubelet, kube-proxy, kubectl, etcd, kube-apiserver, "
                                              "kube-controller-manager and kube-scheduler (env BERTH_KUBERNETES_DIR)")
      ("registry", po::value<std::string>()->default_value("127.0.0.1:5000"),
       "a registry on this machine's loopback: images are pushed there and every node pulls from it")
      ("publish", po::value<std::vector<std::string>>()->composing(),
       "[ADDRESS:]HOST_PORT:NODE_PORT: a port of the control-plane node (a NodePort Service) published on this "
       "machine at ADDRESS (127.0.0.1 unless given), as kind's extraPortMappings; repeatable")
      ("dns-upstream", po::value<std::string>()->default_value(""),
       "where cluster DNS sends names outside the cluster: IPv4 addresses, each with an optional :PORT, separated "
       "by commas, or none (default: this machine's resolvers)")
      ("retain", "keep what was made when create fails, to look at it");
  CommandLine line;
  if (int rc = ParseCommand({"cluster create", "cluster create [--name N] [--nodes K] [--kubernetes DIR]",
                             "Creates a Kubernetes cluster whose nodes are berth containers", 0, 0},
                            args, flags, &line);
      rc >= 0) {
    return rc;
  }
  int workers = line.flags["nodes"].as<int>();
  if (workers < 0 || workers > 20) {
    std::cerr << "berthctl cluster create: --nodes must be 0 to 20\n";
    return 2;
  }
  std::string kubernetes_dir = line.flags.count("kubernetes") ? line.flags["kubernetes"].as<std::string>() : "";
  if (kubernetes_dir.empty() && std::getenv("BERTH_KUBERNETES_DIR")) {
    kubernetes_dir = std::getenv("BERTH_KUBERNETES_DIR");
  }
  if (kubernetes_dir.empty()) {
    std::cerr << "berthctl cluster create: give the Kubernetes binaries' directory with --kubernetes\n";
    return 2;
  }
  std::vector<cluster::PublishedPort> published;
  if (line.flags.count("publish")) {
    for (const auto& text : line.flags["publish"].as<std::vector<std::string>>()) {
      auto port = cluster::ParsePublishedPort(text);
      if (!port.ok()) {
        std::cerr << "berthctl cluster create: " << port.status().message() << "\n";
        return 2;
      }
      published.push_back(*port);
    }
  }
  std::cout << "Creating cluster " << options.name << " (1 control-plane node, " << workers << " worker"
            << (workers == 1 ? "" : "s") << ")\n";
  bool reserved = false;
  Status created = Create(options, workers, kubernetes_dir, line.flags["registry"].as<std::string>(),
                          line.flags["dns-upstream"].as<std::string>(), published, &reserved);
  if (created.ok()) return 0;
  std::cerr << "berthctl cluster create: " << created.message() << "\n";
  if (!reserved) return 1;  // nothing of this create's to remove
  if (line.flags.count("retain")) {
    std::cerr << "kept what was made (--retain); `berthctl cluster delete --name " << options.name
              << "` removes it\n";
  } else {
    Status deleted = DeleteCluster(options);
    if (!deleted.ok()) std::cerr << "berthctl cluster create: cleaning up: " << deleted.message() << "\n";
  }
  return 1;
}

}  // namespace berth::ctl
