#include "pods/lifecycle_metrics.h"

#include <map>

#include "base/metrics.h"
#include "pods/lifecycle.h"

namespace berth::pods {
namespace {

const char* StateName(SandboxState state) { return state == SandboxState::kReady ? "ready" : "notready"; }

const char* StateName(ContainerState state) {
  switch (state) {
    case ContainerState::kCreated: return "created";
    case ContainerState::kRunning: return "running";
    case ContainerState::kExited: return "exited";
    case ContainerState::kUnknown: return "unknown";
  }
  return "unknown";
}

prometheus::MetricFamily StateFamily(const std::string& name, const std::string& help,
                                     const std::map<std::string, double>& counts) {
  prometheus::MetricFamily family{name, help, prometheus::MetricType::Gauge, {}};
  for (const auto& [state, count] : counts) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"state", state});
    metric.gauge.value = count;
    family.metric.push_back(std::move(metric));
  }
  return family;
}

class Collector : public prometheus::Collectable {
 public:
  explicit Collector(Lifecycle& lifecycle) : lifecycle_(lifecycle) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    // Every state appears, at 0 when nothing is in it, so that a query sees it.
    std::map<std::string, double> pods{{"ready", 0}, {"notready", 0}};
    for (const auto& pod : lifecycle_.ListPods(SandboxFilter{})) ++pods[StateName(pod.state)];
    std::map<std::string, double> containers{{"created", 0}, {"running", 0}, {"exited", 0}, {"unknown", 0}};
    for (const auto& container : lifecycle_.ListContainers(ContainerFilter{})) {
      ++containers[StateName(container.state)];
    }
    std::vector<prometheus::MetricFamily> out;
    out.push_back(StateFamily("berth_pod_sandboxes", "Pod sandboxes on the node, by state.", pods));
    out.push_back(StateFamily("berth_containers", "Containers on the node, by state.", containers));
    prometheus::MetricFamily dropped{"berth_container_event_subscribers_dropped_total",
                                     "GetContainerEvents subscribers dropped for falling behind.",
                                     prometheus::MetricType::Counter,
                                     {}};
    prometheus::ClientMetric metric;
    metric.counter.value = static_cast<double>(lifecycle_.events().dropped_subscribers());
    dropped.metric.push_back(std::move(metric));
    out.push_back(std::move(dropped));
    return out;
  }

 private:
  Lifecycle& lifecycle_;
};

}  // namespace

void CountContainerExit(const ContainerRecord& record) {
  static auto& exits = prometheus::BuildCounter()
                           .Name("berth_container_exits_total")
                           .Help("Containers that exited, by reason (Completed, Error, OOMKilled, Unknown).")
                           .Register(metrics::Registry());
  static auto& ooms = prometheus::BuildCounter()
                          .Name("berth_container_oom_events_total")
                          .Help("Containers whose process the kernel killed for running out of memory.")
                          .Register(metrics::Registry())
                          .Add({});
  exits.Add({{"reason", record.reason.empty() ? "Unknown" : record.reason}}).Increment();
  if (record.reason == "OOMKilled") ooms.Increment();
}

std::shared_ptr<prometheus::Collectable> LifecycleCollector(Lifecycle& lifecycle) {
  return std::make_shared<Collector>(lifecycle);
}

}  // namespace berth::pods
