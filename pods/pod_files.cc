#include "pods/pod_files.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"

namespace berth::pods {

std::string PodHostname(const PodSpec& spec) {
  if (spec.network != NamespaceMode::kNode) return spec.hostname;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::string RenderHosts(const std::string& hostname, const std::vector<std::string>& ips) {
  std::string hosts =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  for (const auto& ip : ips) absl::StrAppend(&hosts, ip, "\t", hostname, "\n");
  return hosts;
}

std::string RenderResolvConf(const DnsSpec& dns) {
  std::string resolv;
  for (const auto& server : dns.servers) absl::StrAppend(&resolv, "nameserver ", server, "\n");
  if (!dns.searches.empty()) absl::StrAppend(&resolv, "search ", absl::StrJoin(dns.searches, " "), "\n");
  if (!dns.options.empty()) absl::StrAppend(&resolv, "options ", absl::StrJoin(dns.options, " "), "\n");
  return resolv;
}

Status WritePodFiles(const SandboxRecord& pod) {
  std::string hostname = PodHostname(pod.spec);
  RETURN_IF_ERROR(WriteFileAtomically(pod.dir + "/hostname", hostname + "\n", 0644));
  std::string hosts = RenderHosts(hostname, pod.ips);
  if (pod.spec.network == NamespaceMode::kNode) {
    auto host_hosts = ReadFile("/etc/hosts");
    if (host_hosts.ok()) hosts = *host_hosts;
  }
  RETURN_IF_ERROR(WriteFileAtomically(pod.dir + "/hosts", hosts, 0644));
  std::string resolv = pod.spec.dns ? RenderResolvConf(*pod.spec.dns) : ReadFile("/etc/resolv.conf").value_or("");
  return WriteFileAtomically(pod.dir + "/resolv.conf", resolv, 0644);
}

}  // namespace berth::pods
