#include "cluster/node_files.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "yaml-cpp/yaml.h"

namespace berth::cluster {

namespace {

constexpr char kPki[] = "/etc/kubernetes/pki";
constexpr int kApiServerPort = 6443;

std::string Emit(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

YAML::Node List(const std::vector<std::string>& items) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& item : items) list.push_back(item);
  return list;
}

// A static pod on the control-plane node: host network, the node's files mounted.
struct HostMount {
  std::string name;
  std::string path;
  bool readonly = true;
  std::string type = "Directory";
};

std::string StaticPod(const std::string& name, const std::string& image, const std::vector<std::string>& command,
                      const std::vector<HostMount>& mounts) {
  YAML::Node pod;
  pod["apiVersion"] = "v1";
  pod["kind"] = "Pod";
  pod["metadata"]["name"] = name;
  pod["metadata"]["namespace"] = "kube-system";
  pod["metadata"]["labels"]["component"] = name;
  pod["metadata"]["labels"]["tier"] = "control-plane";
  pod["spec"]["hostNetwork"] = true;
  pod["spec"]["priorityClassName"] = "system-node-critical";
  YAML::Node container;
  container["name"] = name;
  container["image"] = image;
  container["imagePullPolicy"] = "IfNotPresent";
  container["command"] = List(command);
  container["resources"]["requests"]["cpu"] = "100m";
  for (const auto& mount : mounts) {
    YAML::Node volume_mount;
    volume_mount["name"] = mount.name;
    volume_mount["mountPath"] = mount.path;
    volume_mount["readOnly"] = mount.readonly;
    container["volumeMounts"].push_back(volume_mount);
    YAML::Node volume;
    volume["name"] = mount.name;
    volume["hostPath"]["path"] = mount.path;
    volume["hostPath"]["type"] = mount.type;
    pod["spec"]["volumes"].push_back(volume);
  }
  pod["spec"]["containers"].push_back(container);
  return Emit(pod);
}

std::string Flag(const std::string& name, const std::string& value) { return absl::StrCat("--", name, "=", value); }

std::string EtcdPod(const ClusterSpec& c, const NodeSpec& node) {
  const std::string peer = absl::StrCat("https://", node.ip, ":2380");
  return StaticPod("etcd", ControlPlaneImage(c, "etcd"),
                   {"etcd", Flag("name", node.name), Flag("data-dir", "/var/lib/etcd"),
                    Flag("listen-client-urls", absl::StrCat("https://127.0.0.1:2379,https://", node.ip, ":2379")),
                    Flag("advertise-client-urls", absl::StrCat("https://", node.ip, ":2379")),
                    Flag("listen-peer-urls", peer), Flag("initial-advertise-peer-urls", peer),
                    Flag("initial-cluster", absl::StrCat(node.name, "=", peer)),
                    Flag("listen-metrics-urls", "http://127.0.0.1:2381"),
                    Flag("cert-file", "/etc/kubernetes/pki/etcd/server.crt"),
                    Flag("key-file", "/etc/kubernetes/pki/etcd/server.key"),
                    Flag("trusted-ca-file", "/etc/kubernetes/pki/etcd/ca.crt"), "--client-cert-auth=true",
                    Flag("peer-cert-file", "/etc/kubernetes/pki/etcd/peer.crt"),
                    Flag("peer-key-file", "/etc/kubernetes/pki/etcd/peer.key"),
                    Flag("peer-trusted-ca-file", "/etc/kubernetes/pki/etcd/ca.crt"), "--peer-client-cert-auth=true",
                    "--snapshot-count=10000"},
                   {{"etcd-data", "/var/lib/etcd", false, "DirectoryOrCreate"},
                    {"etcd-certs", "/etc/kubernetes/pki/etcd"}});
}

std::string ApiServerPod(const ClusterSpec& c, const NodeSpec& node) {
  auto pki = [](const std::string& file) { return absl::StrCat(kPki, "/", file); };
  return StaticPod(
      "kube-apiserver", ControlPlaneImage(c, "kube-apiserver"),
      {"kube-apiserver", Flag("advertise-address", node.ip), Flag("secure-port", absl::StrCat(kApiServerPort)),
       "--allow-privileged=true", Flag("authorization-mode", "Node,RBAC"),
       Flag("enable-admission-plugins", "NodeRestriction"), Flag("client-ca-file", pki("ca.crt")),
       Flag("tls-cert-file", pki("apiserver.crt")), Flag("tls-private-key-file", pki("apiserver.key")),
       Flag("etcd-servers", "https://127.0.0.1:2379"), Flag("etcd-cafile", pki("etcd/ca.crt")),
       Flag("etcd-certfile", pki("apiserver-etcd-client.crt")), Flag("etcd-keyfile", pki("apiserver-etcd-client.key")),
       Flag("kubelet-client-certificate", pki("apiserver-kubelet-client.crt")),
       Flag("kubelet-client-key", pki("apiserver-kubelet-client.key")),
       Flag("kubelet-preferred-address-types", "InternalIP,Hostname"),
       Flag("proxy-client-cert-file", pki("front-proxy-client.crt")),
       Flag("proxy-client-key-file", pki("front-proxy-client.key")),
       Flag("requestheader-client-ca-file", pki("front-proxy-ca.crt")),
       Flag("requestheader-allowed-names", "front-proxy-client"),
       Flag("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
       Flag("requestheader-group-headers", "X-Remote-Group"),
       Flag("requestheader-username-headers", "X-Remote-User"),
       Flag("service-account-issuer", "https://kubernetes.default.svc.cluster.local"),
       Flag("service-account-key-file", pki("sa.pub")), Flag("service-account-signing-key-file", pki("sa.key")),
       Flag("service-cluster-ip-range", c.service_subnet), "--enable-bootstrap-token-auth=true"},
      {{"k8s-certs", kPki}});
}

std::string ControllerManagerPod(const ClusterSpec& c) {
  const std::string kubeconfig = "/etc/kubernetes/controller-manager.conf";
  return StaticPod(
      "kube-controller-manager", ControlPlaneImage(c, "kube-controller-manager"),
      {"kube-controller-manager", Flag("kubeconfig", kubeconfig), Flag("authentication-kubeconfig", kubeconfig),
       Flag("authorization-kubeconfig", kubeconfig), Flag("bind-address", "127.0.0.1"), "--leader-elect=true",
       "--allocate-node-cidrs=true", Flag("cluster-cidr", c.pod_subnet), Flag("node-cidr-mask-size-ipv4", "24"),
       Flag("service-cluster-ip-range", c.service_subnet), Flag("cluster-name", c.name),
       Flag("cluster-signing-cert-file", absl::StrCat(kPki, "/ca.crt")),
       Flag("cluster-signing-key-file", absl::StrCat(kPki, "/ca.key")),
       Flag("root-ca-file", absl::StrCat(kPki, "/ca.crt")),
       Flag("requestheader-client-ca-file", absl::StrCat(kPki, "/front-proxy-ca.crt")),
       Flag("service-account-private-key-file", absl::StrCat(kPki, "/sa.key")),
       "--use-service-account-credentials=true", Flag("controllers", "*,bootstrapsigner,tokencleaner")},
      {{"k8s-certs", kPki}, {"kubeconfig", kubeconfig, true, "FileOrCreate"}});
}

std::string SchedulerPod(const ClusterSpec& c) {
  const std::string kubeconfig = "/etc/kubernetes/scheduler.conf";
  return StaticPod("kube-scheduler", ControlPlaneImage(c, "kube-scheduler"),
                   {"kube-scheduler", Flag("kubeconfig", kubeconfig), Flag("authentication-kubeconfig", kubeconfig),
                    Flag("authorization-kubeconfig", kubeconfig), Flag("bind-address", "127.0.0.1"),
                    "--leader-elect=true"},
                   {{"kubeconfig", kubeconfig, true, "FileOrCreate"}});
}

std::string KubeletConfig(const ClusterSpec& c) {
  YAML::Node k;
  k["apiVersion"] = "kubelet.config.k8s.io/v1beta1";
  k["kind"] = "KubeletConfiguration";
  k["authentication"]["anonymous"]["enabled"] = false;
  k["authentication"]["webhook"]["enabled"] = true;
  k["authentication"]["x509"]["clientCAFile"] = absl::StrCat(kPki, "/ca.crt");
  k["authorization"]["mode"] = "Webhook";
  k["cgroupDriver"] = "cgroupfs";
  k["containerRuntimeEndpoint"] = "unix:///run/berth/berth.sock";
  k["staticPodPath"] = "/etc/kubernetes/manifests";
  k["clusterDomain"] = "cluster.local";
  // Without cluster DNS, pods get the node's resolvers rather than one that never answers.
  if (!c.dns_ip.empty()) k["clusterDNS"] = List({c.dns_ip});
  k["failSwapOn"] = false;
  // This machine (and many a CI runner) has cgroup v1; kubelet 1.35+ refuses it by default.
  k["failCgroupV1"] = false;
  k["rotateCertificates"] = false;
  // The node's disk is the host's: kubelet must not evict pods or collect images
  // because the host's filesystem is full of other things (kind does the same).
  k["evictionHard"]["nodefs.available"] = "0%";
  k["evictionHard"]["nodefs.inodesFree"] = "0%";
  k["evictionHard"]["imagefs.available"] = "0%";
  k["imageGCHighThresholdPercent"] = 100;
  return Emit(k);
}

std::string KubeProxyConfig(const ClusterSpec& c) {
  YAML::Node k;
  k["apiVersion"] = "kubeproxy.config.k8s.io/v1alpha1";
  k["kind"] = "KubeProxyConfiguration";
  k["clientConnection"]["kubeconfig"] = "/etc/kubernetes/kube-proxy.conf";
  k["mode"] = "iptables";
  k["clusterCIDR"] = c.pod_subnet;
  // conntrack limits are the host's (nf_conntrack_max is global): leave them alone.
  k["conntrack"]["maxPerCore"] = 0;
  k["conntrack"]["tcpEstablishedTimeout"] = "0s";
  k["conntrack"]["tcpCloseWaitTimeout"] = "0s";
  return Emit(k);
}

std::string BerthdConfig(const ClusterSpec& c) {
  YAML::Node b;
  b["root"] = "/var/lib/berth";
  b["state_dir"] = "/run/berth";
  b["socket"] = "/run/berth/berth.sock";
  b["cni"]["conf_dir"] = "/etc/cni/net.d";
  b["cni"]["bin_dirs"] = List({"/usr/lib/cni"});
  b["cni"]["conf_template"] = "/etc/berth-node/cni.template";
  // Every image comes from the host's loopback registry (forwarded into the node);
  // nothing is pulled from anywhere else.
  YAML::Node every = b["registry"]["hosts"]["*"];
  every["mirrors"] = List({absl::StrCat("http://127.0.0.1:", c.registry_port)});
  every["skip_upstream"] = true;
  return Emit(b);
}

// The pod network on a node: its pod CIDR on a bridge, routed (not masqueraded) to
// the other nodes, whose CIDRs berth-node routes through their addresses.
std::string CniTemplate(const ClusterSpec& c) {
  nlohmann::json bridge = {
      {"type", "bridge"},
      {"bridge", "cni0"},
      {"isGateway", true},
      {"ipMasq", false},
      {"hairpinMode", true},
      {"ipam",
       {{"type", "host-local"},
        {"ranges", {{{{"subnet", "{{.PodCIDR}}"}}}}},
        {"routes", {{{"dst", "0.0.0.0/0"}}}},
        {"dataDir", "/var/lib/berth/cni-ipam"}}},
  };
  nlohmann::json conflist = {
      {"cniVersion", "1.0.0"},
      {"name", absl::StrCat("berth-", c.name)},
      {"plugins", {bridge, {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}, {{"type", "loopback"}}}},
  };
  return conflist.dump(2) + "\n";
}

std::string NodeYaml(const ClusterSpec& c, const NodeSpec& node) {
  YAML::Node n;
  n["berthd"] = List({"/opt/berth/bin/berthd", "--config", "/etc/berth-node/berthd.yaml"});
  n["state_dirs"] = List({"/var/lib/berth", "/var/lib/kubelet"});
  YAML::Node forward;
  forward["port"] = c.registry_port;
  forward["netns"] = "/run/berth-node/host-netns";
  n["forward"].push_back(forward);
  std::vector<std::string> kubelet = {"/opt/kubernetes/bin/kubelet", "--config=/var/lib/kubelet/config.yaml",
                                      "--kubeconfig=/etc/kubernetes/kubelet.conf", Flag("node-ip", node.ip),
                                      Flag("hostname-override", node.name)};
  if (node.control_plane) kubelet.push_back("--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule");
  YAML::Node kubelet_service;
  kubelet_service["name"] = "kubelet";
  kubelet_service["argv"] = List(kubelet);
  n["services"].push_back(kubelet_service);
  YAML::Node proxy;
  proxy["name"] = "kube-proxy";
  proxy["argv"] = List({"/opt/kubernetes/bin/kube-proxy", "--config=/etc/kubernetes/kube-proxy.yaml",
                        Flag("hostname-override", node.name)});
  n["services"].push_back(proxy);
  // kube-proxy's identity may list and watch every node; a kubelet's only its own.
  n["routes"]["kubeconfig"] = "/etc/kubernetes/kube-proxy.conf";
  n["routes"]["node_name"] = node.name;
  n["routes"]["pod_subnet"] = c.pod_subnet;
  n["masquerade"] = c.pod_subnet;
  if (node.control_plane) {
    for (const auto& port : c.published) {
      YAML::Node publish;
      publish["address"] = port.address;
      publish["port"] = port.host_port;
      publish["target"] = node.ip;
      publish["target_port"] = port.node_port;
      publish["netns"] = "/run/berth-node/host-netns";
      n["publish"].push_back(publish);
    }
  }
  return Emit(n);
}

StatusOr<std::string> ComponentKubeconfig(const ClusterSpec& c, const ClusterPki& pki, const std::string& user,
                                          std::vector<std::string> groups) {
  ASSIGN_OR_RETURN(Pem client, pki.ca.Issue({.common_name = user, .organizations = std::move(groups),
                                             .client = true}));
  return Kubeconfig({.name = absl::StrCat("berth-", c.name), .server = ApiServerUrl(c),
                     .ca_certificate = pki.ca.pem().certificate, .client = client});
}

void AddPem(Files& files, const std::string& base, const Pem& pem) {
  files["kubernetes/pki/" + base + ".crt"] = pem.certificate;
  files["kubernetes/pki/" + base + ".key"] = pem.key;
}

Status AddControlPlane(const ClusterSpec& c, const NodeSpec& node, const ClusterPki& pki, Files& files) {
  AddPem(files, "ca", pki.ca.pem());
  AddPem(files, "etcd/ca", pki.etcd_ca.pem());
  AddPem(files, "front-proxy-ca", pki.front_proxy_ca.pem());
  files["kubernetes/pki/sa.key"] = pki.service_account.private_key;
  files["kubernetes/pki/sa.pub"] = pki.service_account.public_key;
  const std::vector<std::string> local_names = {"localhost", node.name};
  const std::vector<std::string> local_ips = {"127.0.0.1", node.ip};
  ASSIGN_OR_RETURN(std::string kubernetes_service_ip, ServiceIp(c.service_subnet, 1));
  struct Issued {
    const CertificateAuthority* ca;
    std::string file;
    CertificateRequest request;
  };
  std::vector<Issued> issued = {
      {&pki.ca, "apiserver",
       {.common_name = "kube-apiserver",
        .dns_names = {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                      "kubernetes.default.svc.cluster.local", "localhost", node.name},
        .ip_addresses = {kubernetes_service_ip, node.ip, "127.0.0.1"},
        .server = true}},
      {&pki.ca, "apiserver-kubelet-client",
       {.common_name = "kube-apiserver-kubelet-client", .organizations = {"system:masters"}, .client = true}},
      {&pki.front_proxy_ca, "front-proxy-client", {.common_name = "front-proxy-client", .client = true}},
      {&pki.etcd_ca, "etcd/server",
       {.common_name = node.name, .dns_names = local_names, .ip_addresses = local_ips, .server = true,
        .client = true}},
      {&pki.etcd_ca, "etcd/peer",
       {.common_name = node.name, .dns_names = local_names, .ip_addresses = local_ips, .server = true,
        .client = true}},
      {&pki.etcd_ca, "etcd/healthcheck-client", {.common_name = "kube-etcd-healthcheck-client", .client = true}},
      {&pki.etcd_ca, "apiserver-etcd-client", {.common_name = "kube-apiserver-etcd-client", .client = true}},
  };
  for (const auto& item : issued) {
    ASSIGN_OR_RETURN(Pem pem, item.ca->Issue(item.request));
    AddPem(files, item.file, pem);
  }
  ASSIGN_OR_RETURN(files["kubernetes/admin.conf"],
                   ComponentKubeconfig(c, pki, "kubernetes-admin", {"system:masters"}));
  ASSIGN_OR_RETURN(files["kubernetes/controller-manager.conf"],
                   ComponentKubeconfig(c, pki, "system:kube-controller-manager", {}));
  ASSIGN_OR_RETURN(files["kubernetes/scheduler.conf"], ComponentKubeconfig(c, pki, "system:kube-scheduler", {}));
  files["kubernetes/manifests/etcd.yaml"] = EtcdPod(c, node);
  files["kubernetes/manifests/kube-apiserver.yaml"] = ApiServerPod(c, node);
  files["kubernetes/manifests/kube-controller-manager.yaml"] = ControllerManagerPod(c);
  files["kubernetes/manifests/kube-scheduler.yaml"] = SchedulerPod(c);
  return absl::OkStatus();
}

}  // namespace

StatusOr<ClusterPki> NewClusterPki() {
  ASSIGN_OR_RETURN(CertificateAuthority ca, CertificateAuthority::Create("kubernetes"));
  ASSIGN_OR_RETURN(CertificateAuthority etcd_ca, CertificateAuthority::Create("etcd-ca"));
  ASSIGN_OR_RETURN(CertificateAuthority front_proxy_ca, CertificateAuthority::Create("front-proxy-ca"));
  ASSIGN_OR_RETURN(KeyPair service_account, NewKeyPair());
  return ClusterPki{std::move(ca), std::move(etcd_ca), std::move(front_proxy_ca), std::move(service_account)};
}

StatusOr<ClusterPki> LoadClusterPki(const std::string& control_plane_dir) {
  const std::string pki = control_plane_dir + "/kubernetes/pki/";
  auto load = [&](const std::string& base) -> StatusOr<CertificateAuthority> {
    Pem pem;
    ASSIGN_OR_RETURN(pem.certificate, ReadFile(pki + base + ".crt"));
    ASSIGN_OR_RETURN(pem.key, ReadFile(pki + base + ".key"));
    return CertificateAuthority::Load(pem);
  };
  ASSIGN_OR_RETURN(CertificateAuthority ca, load("ca"));
  ASSIGN_OR_RETURN(CertificateAuthority etcd_ca, load("etcd/ca"));
  ASSIGN_OR_RETURN(CertificateAuthority front_proxy_ca, load("front-proxy-ca"));
  KeyPair service_account;
  ASSIGN_OR_RETURN(service_account.private_key, ReadFile(pki + "sa.key"));
  ASSIGN_OR_RETURN(service_account.public_key, ReadFile(pki + "sa.pub"));
  return ClusterPki{std::move(ca), std::move(etcd_ca), std::move(front_proxy_ca), std::move(service_account)};
}

std::vector<NodeVolume> NodeVolumes(bool control_plane) {
  std::vector<NodeVolume> volumes = {
      {"config", "/etc/berth-node", true},   {"kubernetes", "/etc/kubernetes", true},
      {"kubelet", "/var/lib/kubelet", false}, {"berth", "/var/lib/berth", false},
      {"log", "/var/log", false},             {"cni", "/etc/cni/net.d", false},
  };
  if (control_plane) volumes.push_back({"etcd", "/var/lib/etcd", false});
  return volumes;
}

StatusOr<Files> NodeFiles(const ClusterSpec& c, const NodeSpec& node, const ClusterPki& pki) {
  Files files;
  files["config/node.yaml"] = NodeYaml(c, node);
  files["config/berthd.yaml"] = BerthdConfig(c);
  files["config/cni.template"] = CniTemplate(c);
  files["kubelet/config.yaml"] = KubeletConfig(c);
  files["kubernetes/pki/ca.crt"] = pki.ca.pem().certificate;
  files["kubernetes/kube-proxy.yaml"] = KubeProxyConfig(c);
  ASSIGN_OR_RETURN(files["kubernetes/kubelet.conf"],
                   ComponentKubeconfig(c, pki, "system:node:" + node.name, {"system:nodes"}));
  ASSIGN_OR_RETURN(files["kubernetes/kube-proxy.conf"], ComponentKubeconfig(c, pki, "system:kube-proxy", {}));
  if (node.control_plane) RETURN_IF_ERROR(AddControlPlane(c, node, pki, files));
  return files;
}

StatusOr<KubeconfigEntry> AdminKubeconfig(const ClusterSpec& c, const ClusterPki& pki) {
  ASSIGN_OR_RETURN(Pem client, pki.ca.Issue({.common_name = "kubernetes-admin",
                                             .organizations = {"system:masters"}, .client = true}));
  return KubeconfigEntry{.name = absl::StrCat("berth-", c.name), .server = ApiServerUrl(c),
                         .ca_certificate = pki.ca.pem().certificate, .client = client};
}

StatusOr<std::string> ServiceIp(const std::string& subnet, uint32_t n) {
  const size_t slash = subnet.find('/');
  in_addr base;
  int bits = -1;
  if (slash == std::string::npos || ::inet_pton(AF_INET, subnet.substr(0, slash).c_str(), &base) != 1 ||
      !absl::SimpleAtoi(subnet.substr(slash + 1), &bits) || bits < 0 || bits > 30 ||
      n >= (uint64_t{1} << (32 - bits)) - 1) {
    return absl::InvalidArgumentError(absl::StrCat("service subnet ", subnet, " has no address ", n));
  }
  in_addr address{htonl(ntohl(base.s_addr) + n)};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &address, text, sizeof(text));
  return std::string(text);
}

std::string ApiServerUrl(const ClusterSpec& c) {
  return absl::StrCat("https://", c.control_plane_ip, ":", kApiServerPort);
}

std::string ControlPlaneImage(const ClusterSpec& c, const std::string& component) {
  std::string image = component == "etcd" ? absl::StrCat("registry.k8s.io/etcd:", c.etcd_version, "-0")
                                          : absl::StrCat("registry.k8s.io/", component, ":", c.kubernetes_version);
  if (auto digest = c.image_digests.find(component); digest != c.image_digests.end()) {
    absl::StrAppend(&image, "@", digest->second);
  }
  return image;
}

}  // namespace berth::cluster
