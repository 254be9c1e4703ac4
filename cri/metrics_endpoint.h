// berthd's Prometheus endpoint: GET /metrics on metrics.address, serving the
// registry every module records into, pods and containers by state, the process's
// own figures and build info. Off unless metrics.address is set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/exposer.h>

#include "base/status.h"
#include "pods/node.h"

namespace berth::cri {

class MetricsEndpoint {
 public:
  // Binds address ("127.0.0.1:9101"; port 0 picks one) and starts serving.
  static StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address, pods::Node& node);

  // The port it listens on (the one the kernel picked, for port 0).
  int port() const;

 private:
  MetricsEndpoint() = default;

  // The exposer holds its collectables weakly: they live here, and outlive it.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace berth::cri
