#include "cri/metrics_endpoint.h"

#include <exception>

#include "base/log.h"
#include "base/metrics.h"
#include "cri/version.h"
#include "pods/lifecycle_metrics.h"

namespace berth::cri {
namespace {

void RegisterBuildInfo() {
  static auto& info = prometheus::BuildGauge()
                          .Name("berth_build_info")
                          .Help("Always 1; its labels name the version and git revision berthd was built from.")
                          .Register(metrics::Registry())
                          .Add({{"version", kBerthVersion}, {"revision", kBerthRevision}});
  info.Set(1);
}

}  // namespace

StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& address, pods::Node& node) {
  RegisterBuildInfo();
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // Two threads: Prometheus scrapes one request at a time; the second answers a
    // person's curl meanwhile.
    exposer = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->collectables_ = {
      // The registry lives as long as the process: not the endpoint's to delete.
      std::shared_ptr<prometheus::Collectable>(&metrics::Registry(), [](prometheus::Collectable*) {}),
      metrics::ProcessCollector(), pods::LifecycleCollector(node.lifecycle())};
  for (const auto& collectable : endpoint->collectables_) exposer->RegisterCollectable(collectable);
  endpoint->exposer_ = std::move(exposer);
  BERTH_LOG(Info) << "serving metrics" << Kv("address", address) << Kv("port", endpoint->port());
  return endpoint;
}

int MetricsEndpoint::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace berth::cri
