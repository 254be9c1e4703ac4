// The files a pod's containers see as /etc/hostname, /etc/hosts and
// /etc/resolv.conf: written once into the pod's directory at RunPodSandbox and
// bound into each container (oci_spec.cc).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "pods/records.h"

namespace berth::pods {

// The pod's own hostname, or the host's for a pod on the host's network.
std::string PodHostname(const PodSpec& spec);
// localhost and the IPv6 names every container expects, then each pod IP under
// hostname.
std::string RenderHosts(const std::string& hostname, const std::vector<std::string>& ips);
// nameserver, search and options lines as kubelet asked.
std::string RenderResolvConf(const DnsSpec& dns);

// Writes hostname, hosts and resolv.conf into pod.dir. A host-network pod gets the
// host's /etc/hosts; a pod without DNS config the host's /etc/resolv.conf.
Status WritePodFiles(const SandboxRecord& pod);

}  // namespace berth::pods
