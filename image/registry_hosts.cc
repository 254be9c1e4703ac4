#include "image/registry_hosts.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace berth::image {
namespace {

bool IsLoopbackHost(absl::string_view host_port) {
  absl::string_view host = host_port;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);
    return host == "::1";
  }
  host = host.substr(0, host.find(':'));
  return host == "localhost" || absl::StartsWith(host, "127.");
}

}  // namespace

Status RegistryConfig::Validate() const {
  for (const auto& [host, config] : hosts) {
    if (host.empty()) return absl::InvalidArgumentError("config key \"registry.hosts\": empty host name");
    for (const auto& mirror : config.mirrors) {
      if (!absl::StartsWith(mirror, "http://") && !absl::StartsWith(mirror, "https://")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config key \"registry.hosts.", host, ".mirrors\": \"", mirror,
            "\" must start with http:// or https://"));
      }
    }
    if (config.skip_upstream && config.mirrors.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config key \"registry.hosts.", host, ".skip_upstream\": no mirrors to use instead"));
    }
  }
  return absl::OkStatus();
}

std::vector<Endpoint> EndpointsFor(const RegistryConfig& config, absl::string_view domain) {
  std::vector<Endpoint> out;
  auto it = config.hosts.find(std::string(domain));
  if (it == config.hosts.end()) it = config.hosts.find("*");
  HostConfig host;
  if (it != config.hosts.end()) host = it->second;
  for (const auto& mirror : host.mirrors) {
    std::string url(absl::StripSuffix(mirror, "/"));
    out.push_back({url, /*mirror=*/true, /*allow_http_fallback=*/false});
  }
  if (!host.skip_upstream) {
    // Docker Hub's registry API lives on its own host.
    std::string api_host = domain == "docker.io" ? "registry-1.docker.io" : std::string(domain);
    if (IsLoopbackHost(domain)) {
      // A registry on this machine is reached over plain HTTP, as containerd does.
      out.push_back({"http://" + api_host, /*mirror=*/false, false});
    } else {
      bool insecure = std::find(config.insecure.begin(), config.insecure.end(), domain) !=
                      config.insecure.end();
      out.push_back({"https://" + api_host, /*mirror=*/false, insecure});
    }
  }
  return out;
}

}  // namespace berth::image
