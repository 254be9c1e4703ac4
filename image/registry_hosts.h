// Where berth fetches a registry host's images from: its mirrors, in order, then the
// host itself unless the operator says not to.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::image {

struct HostConfig {
  // Base URLs ("https://mirror.example", "http://127.0.0.1:5000"); a path after the
  // host is kept as a prefix before /v2/.
  std::vector<std::string> mirrors;
  // Never contact the host itself, only its mirrors.
  bool skip_upstream = false;
};

struct RegistryConfig {
  // Keyed by registry host as it appears in references ("docker.io",
  // "registry.k8s.io:443"); "*" applies to every host without an entry of its own.
  std::map<std::string, HostConfig> hosts;
  // Hosts reached over plain HTTP (loopback hosts always may be).
  std::vector<std::string> insecure;

  Status Validate() const;
};

struct Endpoint {
  std::string base_url;  // scheme://host[:port][/prefix], no trailing slash
  bool mirror = false;
  // The host's registry API may be plain HTTP: https is tried first and http after.
  bool allow_http_fallback = false;
};

// The endpoints to try for a reference's domain, in order.
std::vector<Endpoint> EndpointsFor(const RegistryConfig& config, absl::string_view domain);

}  // namespace berth::image
