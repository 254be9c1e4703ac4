#include "pods/lifecycle.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "base/file_util.h"
#include "base/parallel_for.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "pods/namespaces.h"
#include "pods/oci_spec.h"
#include "pods/runtime/sysctl.h"

namespace berth::pods {
namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RandomId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

bool LabelsMatch(const std::map<std::string, std::string>& have, const std::map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

int SignalNumber(const std::string& name) {
  static const std::map<std::string, int> kSignals = {
      {"SIGABRT", SIGABRT}, {"SIGALRM", SIGALRM}, {"SIGBUS", SIGBUS},   {"SIGCHLD", SIGCHLD}, {"SIGCONT", SIGCONT},
      {"SIGFPE", SIGFPE},   {"SIGHUP", SIGHUP},   {"SIGILL", SIGILL},   {"SIGINT", SIGINT},   {"SIGIO", SIGIO},
      {"SIGKILL", SIGKILL}, {"SIGPIPE", SIGPIPE}, {"SIGPROF", SIGPROF}, {"SIGPWR", SIGPWR},   {"SIGQUIT", SIGQUIT},
      {"SIGSEGV", SIGSEGV}, {"SIGSTOP", SIGSTOP}, {"SIGSYS", SIGSYS},   {"SIGTERM", SIGTERM}, {"SIGTRAP", SIGTRAP},
      {"SIGTSTP", SIGTSTP}, {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU}, {"SIGURG", SIGURG},   {"SIGUSR1", SIGUSR1},
      {"SIGUSR2", SIGUSR2}, {"SIGWINCH", SIGWINCH}, {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ}};
  std::string upper = name;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (!absl::StartsWith(upper, "SIG")) upper = "SIG" + upper;
  auto it = kSignals.find(upper);
  return it == kSignals.end() ? 0 : it->second;
}

// The full id a prefix names, or none when nothing does: kubelet retries stops and
// removals, so acting on what is already gone is not an error.
StatusOr<std::optional<std::string>> ExistingId(StatusOr<std::string> resolved) {
  if (!resolved.ok() && resolved.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
  RETURN_IF_ERROR(resolved.status());
  return std::optional<std::string>(*std::move(resolved));
}

// Pod annotations that ask the network for traffic shaping, and for fixed addresses.
constexpr char kIngressBandwidthAnnotation[] = "kubernetes.io/ingress-bandwidth";
constexpr char kEgressBandwidthAnnotation[] = "kubernetes.io/egress-bandwidth";
constexpr char kStaticIpsAnnotation[] = "berth.io/ips";

// The container's writable layer lives exactly as long as the container, and is
// never mounted again after a reboot (kubelet makes new containers), so it is
// mounted "volatile": overlayfs then skips the sync of the whole upper filesystem
// that every unmount would otherwise do (~5 ms per RemoveContainer here, and a
// stall for everything else writing to that disk). Kernels before 5.10 lack the
// option and get the plain mount.
Status MountContainerRootfs(const image::RootfsLayers& layers, const std::string& target) {
  const std::string data = layers.MountData();
  if (::mount("overlay", target.c_str(), "overlay", 0, (data + ",volatile").c_str()) == 0) return absl::OkStatus();
  if (errno == EINVAL && ::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) == 0) return absl::OkStatus();
  return ErrnoError(absl::StrCat("mount the rootfs at ", target));
}

// CNI CHECKs at start that run at once (plugins mostly wait on the kernel).
constexpr size_t kStartupChecks = 8;

StatusOr<network::PodNetworkRequest> NetworkRequest(const SandboxRecord& pod, const std::string& cgroup_parent) {
  network::PodNetworkRequest request;
  request.pod_id = pod.id;
  request.netns_path = pod.netns_path;
  request.pod_name = pod.spec.name;
  request.pod_namespace = pod.spec.namespace_name;
  request.pod_uid = pod.spec.uid;
  request.cgroup_path = cgroup_parent;
  for (const auto& port : pod.spec.ports) {
    network::PortMapping mapping;
    mapping.protocol = absl::AsciiStrToLower(port.protocol);
    mapping.container_port = port.container_port;
    mapping.host_port = port.host_port;
    mapping.host_ip = port.host_ip;
    request.port_mappings.push_back(std::move(mapping));
  }
  const auto& annotations = pod.spec.annotations;
  auto ingress = annotations.find(kIngressBandwidthAnnotation);
  auto egress = annotations.find(kEgressBandwidthAnnotation);
  if (ingress != annotations.end() || egress != annotations.end()) {
    // Rates in bits per second; no burst limit beyond the rate, as kubelet's
    // dockershim and containerd configure the bandwidth plugin.
    network::Bandwidth bandwidth;
    if (ingress != annotations.end()) {
      auto rate = ParseQuantity(ingress->second);
      if (!rate.ok()) return Annotate(rate.status(), absl::StrCat("annotation ", kIngressBandwidthAnnotation));
      bandwidth.ingress_rate = *rate;
      bandwidth.ingress_burst = UINT32_MAX;
    }
    if (egress != annotations.end()) {
      auto rate = ParseQuantity(egress->second);
      if (!rate.ok()) return Annotate(rate.status(), absl::StrCat("annotation ", kEgressBandwidthAnnotation));
      bandwidth.egress_rate = *rate;
      bandwidth.egress_burst = UINT32_MAX;
    }
    request.bandwidth = bandwidth;
  }
  if (auto ips = annotations.find(kStaticIpsAnnotation); ips != annotations.end()) {
    for (absl::string_view ip : absl::StrSplit(ips->second, ',', absl::SkipWhitespace())) {
      request.ips.emplace_back(absl::StripAsciiWhitespace(ip));
    }
  }
  if (pod.spec.dns) request.dns = network::Dns{pod.spec.dns->servers, pod.spec.dns->searches, pod.spec.dns->options};
  return request;
}

network::CniOptions NetworkOptions(const Config& config) {
  network::CniOptions options;
  options.conf_dir = config.cni.conf_dir;
  options.bin_dirs = config.cni.bin_dirs;
  options.cache_dir = config.root + "/network";
  options.plugin_timeout = std::chrono::seconds(config.cni.plugin_timeout_seconds);
  return options;
}

}  // namespace

Lifecycle::Lifecycle(const Config& config, const cgroups::Layout& cgroups, StateDb* db, image::ImageStore* images,
                     std::string berth_binary_dir)
    : config_(config), cgroups_(cgroups), images_(images), records_(db), network_(NetworkOptions(config)) {
  std::string shim = berth_binary_dir + "/berth-shim";
  shim_binary_ = shim;
  std::string runtime_root = config.state_dir + "/runtime/";
  struct Candidate {
    const char* name;
    std::string binary;
  };
  for (const Candidate& c : {Candidate{"berth", berth_binary_dir + "/berth-runtime"},
                             Candidate{"runc", "/usr/sbin/runc"}, Candidate{"crun", "/usr/bin/crun"}}) {
    if (::access(c.binary.c_str(), X_OK) != 0) continue;
    std::string binary = c.binary;
    if (std::string(c.name) == "berth") {
      // berth-runtime must run from a sealed copy (see EnsureSealedBinary); making it
      // once here spares every create and exec a copy and a second exec. The shim
      // reaches it through berthd's fd table, while berthd waits for it.
      UniqueFd file(::open(c.binary.c_str(), O_RDONLY | O_CLOEXEC));
      auto sealed = file ? SealedCopy(file.get(), "berth-runtime") : ErrnoError("open " + c.binary);
      if (sealed.ok()) {
        binary = absl::StrCat("/proc/", ::getpid(), "/fd/", sealed->get());
        sealed_runtime_ = *std::move(sealed);
      } else {
        BERTH_LOG(Warn) << "no sealed copy of berth-runtime; each call makes its own" << sealed.status();
      }
    }
    handlers_[c.name] = std::make_unique<OciRuntime>(c.name, binary, runtime_root + c.name, shim);
  }
  default_handler_ = config.default_runtime_handler;
}

std::vector<std::string> Lifecycle::HandlerNames() const {
  std::vector<std::string> names;
  for (const auto& [name, handler] : handlers_) names.push_back(name);
  return names;
}

OciRuntime::Features Lifecycle::HandlerFeatures(const std::string& name) {
  auto handler = Handler(name);
  return handler.ok() ? (*handler)->features() : OciRuntime::Features();
}

StatusOr<OciRuntime*> Lifecycle::Handler(const std::string& name) {
  std::string wanted = name.empty() ? default_handler_ : name;
  auto it = handlers_.find(wanted);
  if (it == handlers_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown runtime handler \"", wanted, "\" (this node has: ",
                                                   absl::StrJoin(HandlerNames(), ", "), ")"));
  }
  return it->second.get();
}

Status Lifecycle::Recover() {
  RETURN_IF_ERROR(records_.Load());
  // Containers that exited while berthd was away have exit files now.
  for (const auto& record : records_.Containers()) Refresh(record);
  // Networks first: a DEL needs the orphan pod's namespace still pinned.
  RecoverNetworks();
  RemoveOrphans();
  BERTH_LOG(Info) << "recovered" << Kv("pods", records_.Sandboxes().size())
                  << Kv("containers", records_.Containers().size());
  return absl::OkStatus();
}

void Lifecycle::RecoverNetworks() {
  // An attachment cached for a pod berth has no record of comes from a RunPodSandbox
  // that died midway: DEL it so its IP and port rules are released.
  for (const auto& pod_id : network_.CachedPods()) {
    // A known pod keeps its entry: attached, or owing a DEL that remove retries.
    if (records_.GetSandbox(pod_id)) continue;
    Status detached = network_.Detach(pod_id);
    if (!detached.ok()) BERTH_LOG(Warn) << "release the network of an unfinished pod" << Kv("pod", pod_id) << detached;
  }
  // A ready pod is reported not ready only when berth sees its network gone (its
  // namespace, its interface or one of its addresses missing): kubelet kills and
  // replaces a not-ready pod, and restarting berthd must never take a healthy pod
  // down (containerd and CRI-O never CHECK at start). The probe is berth's own and
  // takes well under a millisecond per pod.
  std::vector<SandboxRecord> attached;
  for (auto& pod : records_.Sandboxes()) {
    if (pod.state == SandboxState::kReady && pod.network_attached) attached.push_back(std::move(pod));
  }
  std::vector<std::string> healthy;
  for (SandboxRecord& pod : attached) {
    network::AttachmentProbe probe = network_.Probe(pod.id);
    if (probe.state == network::AttachmentState::kGone) {
      BERTH_LOG(Error) << "pod network gone, pod marked not ready" << Kv("pod", pod.id) << Kv("reason", probe.detail);
      SetNetworkReport(pod.id, "network gone: " + probe.detail);
      pod.state = SandboxState::kNotReady;
      Status saved = records_.UpdateSandbox(pod);
      if (!saved.ok()) BERTH_LOG(Error) << "record pod state" << Kv("pod", pod.id) << saved;
      continue;
    }
    if (probe.state == network::AttachmentState::kUnknown) {
      BERTH_LOG(Warn) << "could not look at a pod's network; kept ready" << Kv("pod", pod.id)
                      << Kv("reason", probe.detail);
    }
    healthy.push_back(pod.id);
  }
  // The plugins' own CHECK is reported (log, verbose PodSandboxStatus), never
  // trusted to condemn: plugins have bugs (Debian's bandwidth plugin crashes on
  // CHECK for a pod without limits) and can be slow, so it runs after start-up, off
  // the serving path, side by side (each runs the whole chain: 10-30 ms).
  network_checks_.Submit([this, healthy = std::move(healthy)] {
    ParallelFor(healthy.size(), kStartupChecks, [&](size_t i) {
      Status checked = network_.Check(healthy[i]);
      if (checked.ok()) return;
      BERTH_LOG(Warn) << "CNI CHECK failed; the pod's network is in place, so it stays ready"
                      << Kv("pod", healthy[i]) << checked;
      SetNetworkReport(healthy[i], absl::StrCat("CNI CHECK failed: ", checked.message()));
    });
  });
}

void Lifecycle::SetNetworkReport(const std::string& pod_id, std::string report) {
  std::lock_guard<std::mutex> lock(network_reports_mu_);
  network_reports_[pod_id] = std::move(report);
}

std::string Lifecycle::NetworkReport(const std::string& pod_id) const {
  std::lock_guard<std::mutex> lock(network_reports_mu_);
  auto it = network_reports_.find(pod_id);
  return it == network_reports_.end() ? std::string() : it->second;
}

Status Lifecycle::TearDownPod(const SandboxRecord& pod) {
  StopPodInit(pod);
  for (const std::string* path : {&pod.netns_path, &pod.ipcns_path, &pod.utsns_path}) {
    RETURN_IF_ERROR(UnpinNamespace(*path));
  }
  if (!pod.shm_path.empty() && ::umount2(pod.shm_path.c_str(), MNT_DETACH) != 0 && errno != EINVAL &&
      errno != ENOENT) {
    return ErrnoError(absl::StrCat("unmount ", pod.shm_path));
  }
  RETURN_IF_ERROR(RemoveAll(pod.dir));
  if (pod.spec.cgroup_parent.empty()) {
    cgroups::RemoveIfEmpty(cgroups_, "/berth/" + pod.id);
    cgroups::RemoveIfEmpty(cgroups_, "/berth");
  }
  return absl::OkStatus();
}

Status Lifecycle::RemoveContainerFiles(const ContainerRecord& container) {
  if (::umount2(container.rootfs().c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError(absl::StrCat("unmount the rootfs of container ", container.id));
  }
  RETURN_IF_ERROR(images_->snapshots().RemoveRootfs(container.id));
  return RemoveAll(container.run_dir);
}

// The pid of the process whose command line is exactly argv, or 0.
static pid_t FindProcess(const std::vector<std::string>& argv) {
  std::string wanted;
  for (const auto& arg : argv) wanted += arg + '\0';
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    auto cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    if (cmdline.ok() && *cmdline == wanted) return pid;
  }
  return 0;
}

void Lifecycle::RemoveOrphans() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(config_.root + "/containers", ec)) {
    ContainerRecord orphan;
    orphan.id = entry.path().filename().string();
    if (records_.GetContainer(orphan.id)) continue;
    BERTH_LOG(Warn) << "removing a container left without a record (by an unfinished create or removal)"
                    << Kv("container", orphan.id);
    orphan.dir = entry.path().string();
    orphan.run_dir = absl::StrCat(config_.state_dir, "/containers/", orphan.id);
    // Its shim, if it got that far, is the init's parent and exits once the init is killed.
    int init = 0;
    auto init_text = ReadFile(orphan.bundle() + "/init.pid");
    pid_t shim = 0;
    if (init_text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*init_text), &init) && init > 0) {
      shim = ParentPid(init);
    }
    uint64_t shim_start = ProcessStartTime(shim);
    for (auto& [name, handler] : handlers_) (void)handler->Delete(orphan.id, /*force=*/true);
    if (shim > 1) (void)WaitForProcessExit(shim, shim_start, std::chrono::seconds(5));
    Status removed = RemoveContainerFiles(orphan);
    if (!removed.ok()) BERTH_LOG(Error) << "remove an unfinished container" << Kv("container", orphan.id) << removed;
  }
  for (const auto& entry : std::filesystem::directory_iterator(config_.state_dir + "/pods", ec)) {
    std::string id = entry.path().filename().string();
    if (records_.GetSandbox(id)) continue;
    BERTH_LOG(Warn) << "removing a pod an unfinished RunPodSandbox left" << Kv("pod", id);
    SandboxRecord orphan;
    orphan.id = id;
    orphan.dir = entry.path().string();
    orphan.init_pid = FindProcess({shim_binary_, "--pod-init", orphan.dir});
    orphan.init_start_time = ProcessStartTime(orphan.init_pid);
    // What RunPod would have recorded, where it got that far.
    struct stat st;
    for (auto [kind, path] : {std::pair{"net", &orphan.netns_path}, std::pair{"ipc", &orphan.ipcns_path},
                              std::pair{"uts", &orphan.utsns_path}, std::pair{"shm", &orphan.shm_path}}) {
      std::string candidate = absl::StrCat(orphan.dir, "/", kind);
      if (::stat(candidate.c_str(), &st) == 0) *path = candidate;
    }
    Status removed = TearDownPod(orphan);
    if (!removed.ok()) BERTH_LOG(Error) << "remove an unfinished pod" << Kv("pod", id) << removed;
  }
}

bool Lifecycle::DetachNetwork(SandboxRecord& pod) {
  if (!pod.network_attached) return true;
  Status detached = network_.Detach(pod.id);
  if (!detached.ok()) {
    BERTH_LOG(Warn) << "CNI DEL failed; retried when the pod is removed" << Kv("pod", pod.id) << detached;
    return false;
  }
  pod.network_attached = false;
  return true;
}

// ------------------------------------------------------------------ pods

void Lifecycle::StopPodInit(const SandboxRecord& pod) {
  if (!ProcessAlive(pod.init_pid, pod.init_start_time)) return;
  ::kill(pod.init_pid, SIGTERM);
  if (!WaitForProcessExit(pod.init_pid, pod.init_start_time, std::chrono::seconds(5))) {
    ::kill(pod.init_pid, SIGKILL);
    WaitForProcessExit(pod.init_pid, pod.init_start_time, std::chrono::seconds(5));
  }
}

Status Lifecycle::WritePodFiles(const SandboxRecord& pod) {
  std::string hostname = pod.spec.hostname;
  if (pod.spec.network == NamespaceMode::kNode) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    hostname = host;
  }
  RETURN_IF_ERROR(WriteFileAtomically(pod.dir + "/hostname", hostname + "\n", 0644));
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  for (const auto& ip : pod.ips) absl::StrAppend(&hosts, ip, "\t", hostname, "\n");
  if (pod.spec.network == NamespaceMode::kNode) {
    auto host_hosts = ReadFile("/etc/hosts");
    if (host_hosts.ok()) hosts = *host_hosts;
  }
  RETURN_IF_ERROR(WriteFileAtomically(pod.dir + "/hosts", hosts, 0644));
  std::string resolv;
  if (pod.spec.dns) {
    for (const auto& server : pod.spec.dns->servers) absl::StrAppend(&resolv, "nameserver ", server, "\n");
    if (!pod.spec.dns->searches.empty()) absl::StrAppend(&resolv, "search ", absl::StrJoin(pod.spec.dns->searches, " "), "\n");
    if (!pod.spec.dns->options.empty()) absl::StrAppend(&resolv, "options ", absl::StrJoin(pod.spec.dns->options, " "), "\n");
  } else {
    resolv = ReadFile("/etc/resolv.conf").value_or("");
  }
  return WriteFileAtomically(pod.dir + "/resolv.conf", resolv, 0644);
}

StatusOr<std::string> Lifecycle::RunPod(const PodSpec& spec) {
  if (spec.name.empty() || spec.uid.empty() || spec.namespace_name.empty()) {
    return absl::InvalidArgumentError("pod metadata needs a name, a uid and a namespace");
  }
  RETURN_IF_ERROR(Handler(spec.runtime_handler).status());
  bool own_net = spec.network != NamespaceMode::kNode;
  bool own_ipc = spec.ipc != NamespaceMode::kNode;
  // The pod's UTS namespace is its own exactly when its network is (as kubelet has it).
  runtime::PrivateNamespaces owned{.ipc = own_ipc, .network = own_net, .uts = own_net};
  for (const auto& [key, value] : spec.sysctls) RETURN_IF_ERROR(runtime::CheckSysctl(key, owned));
  // No lock: nothing else can reach the pod before its record is added, last; a
  // second pod of the same name fails there and undoes its own work.
  SandboxRecord pod;
  pod.id = RandomId();
  pod.spec = spec;
  pod.created_at = NowNanos();
  pod.dir = absl::StrCat(config_.state_dir, "/pods/", pod.id);
  bool committed = false;
  absl::Cleanup undo = [&] {
    if (committed) return;
    (void)DetachNetwork(pod);
    Status undone = TearDownPod(pod);
    if (!undone.ok()) BERTH_LOG(Error) << "undo a failed RunPodSandbox" << Kv("pod", pod.id) << undone;
  };
  ASSIGN_OR_RETURN(PinnedNamespaces ns, PinNamespaces(pod.dir, own_net, own_ipc, own_net, spec.hostname));
  pod.netns_path = ns.net;
  pod.ipcns_path = ns.ipc;
  pod.utsns_path = ns.uts;
  if (own_net) {
    // The pod's network comes up before anything runs in it.
    ASSIGN_OR_RETURN(network::PodNetworkRequest request, NetworkRequest(pod, CgroupParent(pod)));
    ASSIGN_OR_RETURN(network::Attachment attachment, network_.Attach(request));
    pod.network_attached = true;
    pod.ips = attachment.ips;
  }
  if (own_ipc) {
    pod.shm_path = pod.dir + "/shm";
    RETURN_IF_ERROR(MakeDirs(pod.shm_path, 01777));
    if (::mount("shm", pod.shm_path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=1777,size=65536k") != 0) {
      std::string path = pod.shm_path;
      pod.shm_path.clear();
      return ErrnoError(absl::StrCat("mount /dev/shm for the pod at ", path));
    }
  }
  if (spec.pid == NamespaceMode::kPod) {
    // A PID namespace shared by the pod lives as long as its pid 1 does.
    ASSIGN_OR_RETURN(std::string answer, SpawnDetached({shim_binary_, "--pod-init", pod.dir}));
    int pid = 0;
    if (!absl::StartsWith(answer, "OK ") || !absl::SimpleAtoi(answer.substr(3), &pid) || pid <= 0) {
      return absl::InternalError(absl::StrCat("start the pod's init: ", answer));
    }
    pod.init_pid = pid;
    pod.init_start_time = ProcessStartTime(pid);
  }
  if (!spec.log_directory.empty()) RETURN_IF_ERROR(MakeDirs(spec.log_directory, 0755));
  RETURN_IF_ERROR(WritePodFiles(pod));
  RETURN_IF_ERROR(records_.AddSandbox(pod));
  committed = true;
  BERTH_LOG(Info) << "pod ready" << Kv("pod", pod.id) << Kv("name", spec.ReservationKey());
  return pod.id;
}

Status Lifecycle::StopPod(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveSandboxId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock pod_lock = locks_.Acquire(*id);
  for (const auto& listed : records_.Containers()) {
    if (listed.pod_id != *id) continue;
    KeyedMutex::Lock container_lock = locks_.Acquire(listed.id);
    auto container = records_.GetContainer(listed.id);  // as it is now that it is ours
    if (container) RETURN_IF_ERROR(StopContainerLocked(*container, std::chrono::seconds(0)));
  }
  auto pod = records_.GetSandbox(*id);
  if (!pod) return absl::OkStatus();
  StopPodInit(*pod);
  bool was_attached = pod->network_attached;
  // A failed DEL does not fail the stop: the pod's processes are gone, and the DEL
  // is owed until remove, which fails rather than leak the IP.
  (void)DetachNetwork(*pod);
  if (pod->state != SandboxState::kNotReady || was_attached != pod->network_attached) {
    pod->state = SandboxState::kNotReady;
    RETURN_IF_ERROR(records_.UpdateSandbox(*pod));
    BERTH_LOG(Info) << "pod stopped" << Kv("pod", *id);
  }
  return absl::OkStatus();
}

Status Lifecycle::RemovePod(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveSandboxId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock pod_lock = locks_.Acquire(*id);
  for (const auto& listed : records_.Containers()) {
    if (listed.pod_id != *id) continue;
    KeyedMutex::Lock container_lock = locks_.Acquire(listed.id);
    auto container = records_.GetContainer(listed.id);
    if (container) RETURN_IF_ERROR(RemoveContainerLocked(*container, Removal::kNow));
  }
  // Containers removed earlier may still be cleaning up under the pod's cgroup.
  cleaner_.Drain();
  auto pod = records_.GetSandbox(*id);
  if (!pod) return absl::OkStatus();
  StopPodInit(*pod);
  if (pod->network_attached) {
    RETURN_IF_ERROR(Annotate(network_.Detach(pod->id), "release the pod's network"));
    pod->network_attached = false;
    RETURN_IF_ERROR(records_.UpdateSandbox(*pod));
  }
  RETURN_IF_ERROR(TearDownPod(*pod));
  RETURN_IF_ERROR(records_.RemoveSandbox(*id));
  {
    std::lock_guard<std::mutex> lock(network_reports_mu_);
    network_reports_.erase(*id);
  }
  BERTH_LOG(Info) << "pod removed" << Kv("pod", *id);
  return absl::OkStatus();
}

StatusOr<SandboxRecord> Lifecycle::GetPod(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveSandboxId(id_prefix));
  auto pod = records_.GetSandbox(id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox \"", id_prefix, "\" not found"));
  return *pod;
}

std::vector<SandboxRecord> Lifecycle::ListPods(const SandboxFilter& filter) {
  std::vector<SandboxRecord> out;
  for (auto& pod : records_.Sandboxes()) {
    if (!filter.id_prefix.empty() && !absl::StartsWith(pod.id, filter.id_prefix)) continue;
    if (filter.state && pod.state != *filter.state) continue;
    if (!LabelsMatch(pod.spec.labels, filter.labels)) continue;
    out.push_back(std::move(pod));
  }
  return out;
}

// ------------------------------------------------------------------ containers

std::string Lifecycle::CgroupParent(const SandboxRecord& pod) const {
  // Without a parent from kubelet the pod gets one of berth's, removed with the pod.
  std::string parent = pod.spec.cgroup_parent.empty() ? "/berth/" + pod.id : pod.spec.cgroup_parent;
  if (parent[0] != '/') parent = "/" + parent;
  return parent;
}

std::string Lifecycle::CgroupPath(const SandboxRecord& pod, const std::string& container_id) const {
  return absl::StrCat(CgroupParent(pod), "/", container_id);
}

std::string Lifecycle::OomFile(const std::string& cgroup_path) const {
  if (cgroups_.mode == cgroups::Mode::kUnified) return absl::StrCat(cgroups_.root, cgroup_path, "/memory.events");
  return absl::StrCat(cgroups_.root, "/memory", cgroup_path, "/memory.oom_control");
}

ContainerRecord Lifecycle::Refresh(ContainerRecord record) {
  ContainerRecord seen = Observe(record);
  if (seen.state == record.state) return seen;
  Status saved = records_.UpdateContainer(seen);
  if (!saved.ok()) BERTH_LOG(Error) << "record container exit" << Kv("container", seen.id) << saved;
  return seen;
}

ContainerRecord Lifecycle::RefreshForRead(const ContainerRecord& stored) {
  ContainerRecord seen = Observe(stored);
  if (seen.state == stored.state) return seen;
  // Whoever holds the container's lock (a stop waiting for the exit, say) records it.
  auto lock = locks_.TryAcquire(stored.id);
  if (!lock) return seen;
  auto current = records_.GetContainer(stored.id);
  return current ? Refresh(*current) : seen;
}

ContainerRecord Lifecycle::Observe(ContainerRecord record) const {
  if (record.state != ContainerState::kCreated && record.state != ContainerState::kRunning) return record;
  auto exit_data = ReadFile(record.exit_file());
  if (exit_data.ok()) {
    auto doc = nlohmann::json::parse(*exit_data, nullptr, false);
    if (!doc.is_discarded()) {
      record.exit_code = doc.value("exit_code", 255);
      record.finished_at = doc.value("finished_at", NowNanos());
      bool oom = doc.value("oom_killed", false);
      record.reason = oom ? "OOMKilled" : record.exit_code == 0 ? "Completed" : "Error";
    }
  } else if (!ProcessAlive(record.shim_pid, record.shim_start_time) &&
             !ProcessAlive(record.pid, record.pid_start_time)) {
    // Shim and container gone with no exit record: nobody knows how it ended.
    record.exit_code = 255;
    record.finished_at = NowNanos();
    record.reason = "Unknown";
    record.message = "the container's monitor exited without recording the exit status";
  } else {
    return record;
  }
  record.state = ContainerState::kExited;
  return record;
}

StatusOr<std::string> Lifecycle::CreateContainer(const std::string& pod_id_prefix, const ContainerSpec& spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("container metadata needs a name");
  if (spec.image.empty()) return absl::InvalidArgumentError("container config names no image");
  ASSIGN_OR_RETURN(std::string pod_id, records_.ResolveSandboxId(pod_id_prefix));
  // The pod stays as it is (not stopped, not removed) until the container is added.
  KeyedMutex::Lock pod_lock = locks_.Acquire(pod_id);
  auto pod = records_.GetSandbox(pod_id);
  if (!pod) return absl::NotFoundError(absl::StrCat("pod sandbox \"", pod_id_prefix, "\" not found"));
  if (pod->state != SandboxState::kReady) {
    return absl::FailedPreconditionError(absl::StrCat("pod sandbox ", pod_id, " is not ready"));
  }
  auto image = images_->Find(spec.image);
  if (!image.ok()) {
    if (image.status().code() == StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("image \"", spec.image, "\" is not present on this node"));
    }
    return image.status();
  }
  ASSIGN_OR_RETURN(OciRuntime * runtime, Handler(pod->spec.runtime_handler));
  cgroups::PrimeMigration(cgroups_);  // the init's move into its cgroup, ~10 ms from now

  ContainerRecord record;
  record.id = RandomId();
  record.pod_id = pod_id;
  record.spec = spec;
  record.image_id = image->id;
  record.created_at = NowNanos();
  record.handler = runtime->name();
  record.dir = absl::StrCat(config_.root, "/containers/", record.id);
  record.run_dir = absl::StrCat(config_.state_dir, "/containers/", record.id);
  record.cgroup_path = CgroupPath(*pod, record.id);
  if (!pod->spec.log_directory.empty() && !spec.log_path.empty()) {
    record.log_path = pod->spec.log_directory + "/" + spec.log_path;
  }
  // Every step below is undone if a later one fails.
  bool committed = false, created = false;
  absl::Cleanup undo = [&] {
    if (committed) return;
    if (created) (void)runtime->Delete(record.id, /*force=*/true);
    Status undone = RemoveContainerFiles(record);
    if (!undone.ok()) BERTH_LOG(Error) << "undo a failed CreateContainer" << Kv("container", record.id) << undone;
  };
  ASSIGN_OR_RETURN(image::RootfsLayers layers, images_->snapshots().PrepareRootfs(record.id, image->chain_ids));
  RETURN_IF_ERROR(MakeDirs(record.rootfs(), 0755));
  RETURN_IF_ERROR(MountContainerRootfs(layers, record.rootfs()));
  // Mount sources kubelet expects to exist are created as directories.
  for (const auto& m : spec.mounts) {
    if (m.recursive_readonly && !runtime->features().recursive_read_only) {
      return absl::InvalidArgumentError(absl::StrCat("mount on ", m.container_path, ": runtime handler ",
                                                     runtime->name(), " has no recursive read-only mounts"));
    }
    if (m.host_path.empty() || m.host_path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat("mount source \"", m.host_path, "\" must be an absolute host path"));
    }
    struct stat st;
    if (::stat(m.host_path.c_str(), &st) != 0) RETURN_IF_ERROR(MakeDirs(m.host_path, 0755));
  }
  std::string target_pid_ns;
  if (spec.security.pid == NamespaceMode::kTarget) {
    auto target = records_.GetContainer(spec.security.target_container_id);
    if (!target || !ProcessAlive(target->pid, target->pid_start_time)) {
      return absl::FailedPreconditionError(absl::StrCat("target container \"", spec.security.target_container_id,
                                                        "\" is not running"));
    }
    target_pid_ns = absl::StrCat("/proc/", target->pid, "/ns/pid");
  }
  SpecInputs inputs;
  inputs.pod = &*pod;
  inputs.container = &spec;
  inputs.image = &image->config;
  inputs.container_id = record.id;
  inputs.rootfs = record.rootfs();
  inputs.cgroup_path = record.cgroup_path;
  inputs.cgroup_controllers = cgroups_.controllers;
  inputs.cgroup_v2 = cgroups_.mode == cgroups::Mode::kUnified;
  inputs.target_pid_ns = target_pid_ns;
  ASSIGN_OR_RETURN(nlohmann::json oci, BuildOciSpec(inputs));
  const nlohmann::json& user = oci["process"]["user"];
  record.uid = user.value("uid", int64_t{0});
  record.gid = user.value("gid", int64_t{0});
  record.supplemental_groups = user.value("additionalGids", std::vector<int64_t>());
  RETURN_IF_ERROR(WriteFileAtomically(record.bundle() + "/config.json", oci.dump(2), 0600, Durability::kCrash));
  if (!record.log_path.empty()) {
    RETURN_IF_ERROR(MakeDirs(std::filesystem::path(record.log_path).parent_path().string(), 0755));
  }
  RETURN_IF_ERROR(runtime->Create(record, OomFile(record.cgroup_path)));
  created = true;
  RETURN_IF_ERROR(records_.AddContainer(record, ContainerReservationKey(pod->spec, spec)));
  committed = true;
  BERTH_LOG(Info) << "container created" << Kv("container", record.id) << Kv("pod", pod_id)
                  << Kv("name", spec.name) << Kv("handler", runtime->name());
  return record.id;
}

Status Lifecycle::StartContainer(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  KeyedMutex::Lock lock = locks_.Acquire(id);
  auto stored = records_.GetContainer(id);
  if (!stored) return absl::NotFoundError(absl::StrCat("container \"", id_prefix, "\" not found"));
  ContainerRecord record = Refresh(*stored);
  if (record.state != ContainerState::kCreated) {
    return absl::FailedPreconditionError(absl::StrCat("container ", id, " is not in the created state"));
  }
  ASSIGN_OR_RETURN(OciRuntime * runtime, Handler(record.handler));
  // Taken before the start: a process that exits at once must not seem to have
  // finished before it started.
  int64_t started_at = NowNanos();
  Status started = runtime->Start(id);
  if (!started.ok()) {
    record.state = ContainerState::kExited;
    record.finished_at = NowNanos();
    record.exit_code = 128;
    record.reason = "StartError";
    record.message = std::string(started.message());
    (void)records_.UpdateContainer(record);
    return started;
  }
  record.state = ContainerState::kRunning;
  record.started_at = started_at;
  RETURN_IF_ERROR(records_.UpdateContainer(record));
  BERTH_LOG(Info) << "container started" << Kv("container", id);
  return absl::OkStatus();
}

Status Lifecycle::StopContainerLocked(ContainerRecord record, std::chrono::seconds timeout) {
  record = Refresh(record);
  if (record.state == ContainerState::kExited) return absl::OkStatus();
  ASSIGN_OR_RETURN(OciRuntime * runtime, Handler(record.handler));
  auto image = images_->Find(record.image_id);
  std::string signal_name = record.spec.stop_signal;
  if (signal_name.empty() && image.ok()) signal_name = image->config.stop_signal;
  int signal = signal_name.empty() ? SIGTERM : SignalNumber(signal_name);
  if (signal == 0) signal = SIGTERM;
  if (timeout.count() > 0 && record.state == ContainerState::kRunning) {
    Status sent = runtime->Kill(record.id, signal);
    if (sent.ok() && WaitForProcessExit(record.shim_pid, record.shim_start_time, timeout)) {
      Refresh(record);
      return absl::OkStatus();
    }
  }
  // Out of patience (or none asked for): SIGKILL cannot be ignored.
  (void)runtime->Kill(record.id, SIGKILL);
  if (!WaitForProcessExit(record.shim_pid, record.shim_start_time, std::chrono::seconds(30))) {
    return absl::DeadlineExceededError(absl::StrCat("container ", record.id, " did not exit after SIGKILL"));
  }
  Refresh(record);
  return absl::OkStatus();
}

Status Lifecycle::StopContainer(const std::string& id_prefix, std::chrono::seconds timeout) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveContainerId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock lock = locks_.Acquire(*id);
  auto record = records_.GetContainer(*id);
  if (!record) return absl::OkStatus();
  return StopContainerLocked(*record, timeout);
}

Status Lifecycle::DeleteContainer(const ContainerRecord& record) {
  auto runtime = Handler(record.handler);
  if (runtime.ok()) {
    Status deleted = (*runtime)->Delete(record.id, /*force=*/true);
    if (!deleted.ok() && !absl::StrContains(deleted.message(), "not exist") &&
        !absl::StrContains(deleted.message(), "not found")) {
      return deleted;
    }
  }
  return RemoveContainerFiles(record);
}

Status Lifecycle::RemoveContainerLocked(ContainerRecord record, Removal removal) {
  RETURN_IF_ERROR(StopContainerLocked(record, std::chrono::seconds(0)));
  if (removal == Removal::kNow) {
    RETURN_IF_ERROR(DeleteContainer(record));
    RETURN_IF_ERROR(records_.RemoveContainer(record.id));
  } else {
    // The container is gone for CRI once its record is; the runtime's state, the
    // rootfs mount and the writable layer go right after, off the caller's time (as
    // containerd leaves them to its garbage collector). What a crash interrupts, the
    // start-up sweep of container directories without a record finishes.
    RETURN_IF_ERROR(records_.RemoveContainer(record.id));
    cleaner_.Submit([this, record] {
      Status deleted = DeleteContainer(record);
      if (!deleted.ok()) BERTH_LOG(Error) << "clean up a removed container" << Kv("container", record.id) << deleted;
    });
  }
  BERTH_LOG(Info) << "container removed" << Kv("container", record.id);
  return absl::OkStatus();
}

Status Lifecycle::RemoveContainer(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::optional<std::string> id, ExistingId(records_.ResolveContainerId(id_prefix)));
  if (!id) return absl::OkStatus();
  KeyedMutex::Lock lock = locks_.Acquire(*id);
  auto record = records_.GetContainer(*id);
  if (!record) return absl::OkStatus();
  return RemoveContainerLocked(*record, Removal::kInBackground);
}

StatusOr<ContainerRecord> Lifecycle::GetContainer(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  auto record = records_.GetContainer(id);
  if (!record) return absl::NotFoundError(absl::StrCat("container \"", id_prefix, "\" not found"));
  return RefreshForRead(*record);
}

std::vector<ContainerRecord> Lifecycle::ListContainers(const ContainerFilter& filter) {
  std::vector<ContainerRecord> out;
  for (auto& stored : records_.Containers()) {
    if (!filter.id_prefix.empty() && !absl::StartsWith(stored.id, filter.id_prefix)) continue;
    if (!filter.pod_id_prefix.empty() && !absl::StartsWith(stored.pod_id, filter.pod_id_prefix)) continue;
    if (!LabelsMatch(stored.spec.labels, filter.labels)) continue;
    ContainerRecord record = RefreshForRead(stored);
    if (filter.state && record.state != *filter.state) continue;
    out.push_back(std::move(record));
  }
  return out;
}

StatusOr<ExecResult> Lifecycle::ExecSync(const std::string& id_prefix, const std::vector<std::string>& cmd,
                                         std::chrono::milliseconds timeout) {
  if (cmd.empty()) return absl::InvalidArgumentError("ExecSync: no command given");
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " is not running"));
  }
  ASSIGN_OR_RETURN(OciRuntime * runtime, Handler(record.handler));
  cgroups::PrimeMigration(cgroups_);  // the exec'd process joins the container's cgroup
  ASSIGN_OR_RETURN(std::string spec_text, ReadFile(record.bundle() + "/config.json"));
  auto spec = nlohmann::json::parse(spec_text, nullptr, false);
  if (spec.is_discarded()) return absl::DataLossError(absl::StrCat("container ", record.id, " has a broken config.json"));
  if (timeout.count() <= 0) timeout = std::chrono::hours(24);
  ASSIGN_OR_RETURN(RunResult run, runtime->Exec(record.id, ExecProcess(spec, cmd), record.run_dir, timeout));
  if (run.timed_out) {
    return absl::DeadlineExceededError(absl::StrCat("command timed out after ",
                                                    std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                                                    "s in container ", record.id));
  }
  return ExecResult{run.exit_code, std::move(run.out), std::move(run.err)};
}

Status Lifecycle::ReopenLog(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  if (record.state != ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " is not running"));
  }
  UniqueFd fifo(::open(record.control_fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) return ErrnoError(absl::StrCat("reach the monitor of container ", record.id));
  if (::write(fifo.get(), "reopen\n", 7) != 7) return ErrnoError("ask the monitor to reopen the log");
  // kubelet renames the log and then expects the new file to be there when this call
  // returns, so wait for the shim to have made it.
  if (record.log_path.empty()) return absl::OkStatus();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  struct stat st;
  while (::stat(record.log_path.c_str(), &st) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the monitor of container ", record.id, " did not reopen ", record.log_path, " within 5s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

Status Lifecycle::UpdateResources(const std::string& id_prefix, const ResourcesSpec& r) {
  ASSIGN_OR_RETURN(std::string id, records_.ResolveContainerId(id_prefix));
  KeyedMutex::Lock lock = locks_.Acquire(id);
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id));
  if (record.state == ContainerState::kExited) {
    return absl::FailedPreconditionError(absl::StrCat("container ", record.id, " has exited"));
  }
  ASSIGN_OR_RETURN(OciRuntime * runtime, Handler(record.handler));
  nlohmann::json resources = nlohmann::json::object();
  if (r.memory_limit > 0) resources["memory"]["limit"] = r.memory_limit;
  if (r.cpu_shares > 0) resources["cpu"]["shares"] = r.cpu_shares;
  if (r.cpu_quota > 0) resources["cpu"]["quota"] = r.cpu_quota;
  if (r.cpu_period > 0) resources["cpu"]["period"] = r.cpu_period;
  if (!r.cpuset_cpus.empty()) resources["cpu"]["cpus"] = r.cpuset_cpus;
  if (!r.cpuset_mems.empty()) resources["cpu"]["mems"] = r.cpuset_mems;
  if (r.pids_limit > 0) resources["pids"]["limit"] = r.pids_limit;
  RETURN_IF_ERROR(runtime->Update(record.id, resources, record.run_dir));
  record.spec.resources = r;
  return records_.UpdateContainer(record);
}

StatusOr<ContainerUsage> Lifecycle::Usage(const std::string& id_prefix) {
  ASSIGN_OR_RETURN(ContainerRecord record, GetContainer(id_prefix));
  ContainerUsage usage;
  usage.timestamp = NowNanos();
  if (record.state == ContainerState::kRunning) {
    auto cgroup = cgroups::ReadUsage(cgroups_, record.cgroup_path);
    if (cgroup.ok()) usage.cgroup = *cgroup;
  }
  usage.writable_layer = record.dir + "/upper";
  auto disk = MeasureDiskUsage(usage.writable_layer);
  if (disk.ok()) usage.writable_layer_usage = *disk;
  usage.container = std::move(record);
  return usage;
}

std::vector<ContainerUsage> Lifecycle::ListUsage(const ContainerFilter& filter) {
  std::vector<ContainerUsage> out;
  for (const auto& record : ListContainers(filter)) {
    auto usage = Usage(record.id);
    if (usage.ok()) out.push_back(std::move(*usage));
  }
  return out;
}

}  // namespace berth::pods
