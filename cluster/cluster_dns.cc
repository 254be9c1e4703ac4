#include "cluster/cluster_dns.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"

namespace berth::cluster {

namespace {

using Json = nlohmann::json;

const Json kLabels = {{"k8s-app", "kube-dns"}};

Json Meta(const std::string& name, bool namespaced = true) {
  Json meta = {{"name", name}};
  if (namespaced) meta["namespace"] = "kube-system";
  return meta;
}

bool IsIpv4(const std::string& text) {
  in_addr address;
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

Json Deployment(const ClusterDnsSpec& spec) {
  Json container = {
      {"name", "coredns"},
      {"image", spec.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", {"-conf", "/etc/coredns/Corefile"}},
      {"resources", {{"limits", {{"memory", "170Mi"}}}, {"requests", {{"cpu", "100m"}, {"memory", "70Mi"}}}}},
      {"volumeMounts", {{{"name", "config-volume"}, {"mountPath", "/etc/coredns"}, {"readOnly", true}}}},
      {"ports",
       {{{"name", "dns"}, {"containerPort", 53}, {"protocol", "UDP"}},
        {{"name", "dns-tcp"}, {"containerPort", 53}, {"protocol", "TCP"}},
        {{"name", "metrics"}, {"containerPort", 9153}, {"protocol", "TCP"}}}},
      // Port 53 is all it needs of root's powers.
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"add", {"NET_BIND_SERVICE"}}, {"drop", {"ALL"}}}}}},
      {"livenessProbe",
       {{"httpGet", {{"path", "/health"}, {"port", 8080}}},
        {"initialDelaySeconds", 60},
        {"timeoutSeconds", 5},
        {"failureThreshold", 5}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8181}}}}},
  };
  Json spread = {{"weight", 100},
                 {"podAffinityTerm",
                  {{"labelSelector", {{"matchLabels", kLabels}}}, {"topologyKey", "kubernetes.io/hostname"}}}};
  Json pod = {
      {"serviceAccountName", "coredns"},
      {"priorityClassName", "system-cluster-critical"},
      // Its own resolv.conf is the node's: where the upstreams are, not itself.
      {"dnsPolicy", "Default"},
      {"nodeSelector", {{"kubernetes.io/os", "linux"}}},
      {"tolerations",
       {{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}},
        {{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}}},
      {"affinity", {{"podAntiAffinity", {{"preferredDuringSchedulingIgnoredDuringExecution", {spread}}}}}},
      {"containers", {container}},
      {"volumes",
       {{{"name", "config-volume"},
         {"configMap", {{"name", "coredns"}, {"items", {{{"key", "Corefile"}, {"path", "Corefile"}}}}}}}}},
  };
  Json meta = Meta("coredns");
  meta["labels"] = kLabels;
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", meta},
          {"spec",
           {{"replicas", spec.replicas},
            {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 1}}}}},
            {"selector", {{"matchLabels", kLabels}}},
            {"template", {{"metadata", {{"labels", kLabels}}}, {"spec", pod}}}}}};
}

}  // namespace

std::string Corefile(const std::vector<std::string>& upstreams) {
  std::string zone_options = "        pods insecure\n";
  // Reverse lookups of addresses outside the cluster go on to the upstreams.
  if (!upstreams.empty()) zone_options += "        fallthrough in-addr.arpa ip6.arpa\n";
  zone_options += "        ttl 30\n";
  // The cluster's own answers change with its Services and pods: not cached.
  const std::string cache =
      "    cache 30 {\n        disable success cluster.local\n        disable denial cluster.local\n    }\n";
  std::string outside = cache;
  if (!upstreams.empty()) {
    // loop stops CoreDNS when its queries come back to it: an upstream that is the
    // cluster's own DNS again.
    outside = absl::StrCat("    forward . ", absl::StrJoin(upstreams, " "), " {\n        max_concurrent 1000\n    }\n",
                           cache, "    loop\n");
  }
  return absl::StrCat(".:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n    ready\n",
                      "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n", zone_options, "    }\n",
                      "    prometheus :9153\n", outside, "    reload\n    loadbalance\n}\n");
}

std::vector<ApiObject> ClusterDnsObjects(const ClusterDnsSpec& spec) {
  const Json rules = {
      {{"apiGroups", {""}}, {"resources", {"endpoints", "services", "pods", "namespaces"}},
       {"verbs", {"list", "watch"}}},
      {{"apiGroups", {"discovery.k8s.io"}}, {"resources", {"endpointslices"}}, {"verbs", {"list", "watch"}}},
  };
  const Json service_ports = {
      {{"name", "dns"}, {"port", 53}, {"targetPort", 53}, {"protocol", "UDP"}},
      {{"name", "dns-tcp"}, {"port", 53}, {"targetPort", 53}, {"protocol", "TCP"}},
      {{"name", "metrics"}, {"port", 9153}, {"targetPort", 9153}, {"protocol", "TCP"}},
  };
  Json service_meta = Meta("kube-dns");
  service_meta["labels"] = {{"k8s-app", "kube-dns"}, {"kubernetes.io/name", "CoreDNS"}};
  const std::string rbac = "/apis/rbac.authorization.k8s.io/v1";
  return {
      {"/api/v1/namespaces/kube-system/serviceaccounts",
       {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", Meta("coredns")}}},
      {rbac + "/clusterroles",
       {{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "ClusterRole"},
        {"metadata", Meta("system:coredns", false)},
        {"rules", rules}}},
      {rbac + "/clusterrolebindings",
       {{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "ClusterRoleBinding"},
        {"metadata", Meta("system:coredns", false)},
        {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "system:coredns"}}},
        {"subjects", {{{"kind", "ServiceAccount"}, {"name", "coredns"}, {"namespace", "kube-system"}}}}}},
      {"/api/v1/namespaces/kube-system/configmaps",
       {{"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata", Meta("coredns")},
        {"data", {{"Corefile", Corefile(spec.upstreams)}}}}},
      {"/apis/apps/v1/namespaces/kube-system/deployments", Deployment(spec)},
      {"/api/v1/namespaces/kube-system/services",
       {{"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata", service_meta},
        {"spec", {{"selector", kLabels}, {"clusterIP", spec.service_ip}, {"ports", service_ports}}}}},
  };
}

std::vector<std::string> PodReachableNameservers(absl::string_view resolv_conf) {
  std::vector<std::string> servers;
  for (absl::string_view line : absl::StrSplit(resolv_conf, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "nameserver")) continue;
    if (line.empty() || !absl::ascii_isspace(static_cast<unsigned char>(line.front()))) continue;
    std::string server(absl::StripAsciiWhitespace(line));
    if (!IsIpv4(server) || absl::StartsWith(server, "127.")) continue;
    if (std::find(servers.begin(), servers.end(), server) == servers.end()) servers.push_back(server);
  }
  return servers;
}

std::vector<std::string> HostUpstreams() {
  std::vector<std::string> servers = PodReachableNameservers(ReadFile("/etc/resolv.conf").value_or(""));
  if (servers.empty()) servers = PodReachableNameservers(ReadFile("/run/systemd/resolve/resolv.conf").value_or(""));
  return servers;
}

StatusOr<std::vector<std::string>> ParseUpstreams(const std::string& flag) {
  if (flag == "none") return std::vector<std::string>();
  std::vector<std::string> servers;
  for (absl::string_view part : absl::StrSplit(flag, ',')) {
    std::string server(absl::StripAsciiWhitespace(part));
    const size_t colon = server.find(':');
    int port = 53;
    if (!IsIpv4(server.substr(0, colon)) ||
        (colon != std::string::npos && (!absl::SimpleAtoi(server.substr(colon + 1), &port) || port < 1 ||
                                        port > 65535))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DNS upstream \"", server, "\" is not an IPv4 address with an optional port (give those, or none)"));
    }
    servers.push_back(server);
  }
  return servers;
}

}  // namespace berth::cluster
