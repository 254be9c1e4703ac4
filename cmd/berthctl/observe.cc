// berthctl stats, events and metrics: the node's usage, its lifecycle as it
// happens, and the CRI metrics kubelet serves at /metrics/cadvisor.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cmd/berthctl/command.h"
#include "cri/client.h"

namespace berth::ctl {
namespace po = boost::program_options;
namespace {

// usage_nano_cores as a share of one core.
std::string CpuPercent(const ::runtime::v1::CpuUsage& cpu) {
  if (!cpu.has_usage_nano_cores()) return "-";
  return absl::StrFormat("%.1f%%", static_cast<double>(cpu.usage_nano_cores().value()) / 1e7);
}

std::vector<std::vector<std::string>> StatsRows(const ::runtime::v1::ListPodSandboxStatsResponse& response) {
  std::vector<std::vector<std::string>> rows = {
      {"POD", "CONTAINER", "ID", "CPU %", "MEMORY", "NET RX", "NET TX", "PROCS", "WRITABLE"}};
  for (const auto& pod : response.stats()) {
    const auto& usage = pod.linux();
    const auto& network = usage.network().default_interface();
    rows.push_back({absl::StrCat(pod.attributes().metadata().namespace_(), "/", pod.attributes().metadata().name()),
                    "", ShortId(pod.attributes().id()), CpuPercent(usage.cpu()),
                    HumanBytes(usage.memory().working_set_bytes().value()),
                    network.name().empty() ? "-" : HumanBytes(network.rx_bytes().value()),
                    network.name().empty() ? "-" : HumanBytes(network.tx_bytes().value()),
                    absl::StrCat(usage.process().process_count().value()), ""});
    for (const auto& container : usage.containers()) {
      rows.push_back({"", container.attributes().metadata().name(), ShortId(container.attributes().id()),
                      CpuPercent(container.cpu()), HumanBytes(container.memory().working_set_bytes().value()), "", "", "",
                      HumanBytes(container.writable_layer().used_bytes().value())});
    }
  }
  return rows;
}

const char* EventName(::runtime::v1::ContainerEventType type) {
  switch (type) {
    case ::runtime::v1::CONTAINER_CREATED_EVENT: return "created";
    case ::runtime::v1::CONTAINER_STARTED_EVENT: return "started";
    case ::runtime::v1::CONTAINER_STOPPED_EVENT: return "stopped";
    case ::runtime::v1::CONTAINER_DELETED_EVENT: return "deleted";
    default: return "unknown";
  }
}

}  // namespace

int RunStats(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("once", "print once, even on a terminal")(
      "interval", po::value<int>()->default_value(2), "seconds between refreshes on a terminal");
  AddOutputFlag(o, /*table=*/true);
  if (int rc = ParseCommand({"stats", "stats [POD_ID] [--once] [--interval S] [-o json|yaml|table]",
                             "Shows pods' and containers' CPU, memory, network and processes; on a terminal the "
                             "table refreshes in place until interrupted",
                             0, 1},
                            args, o, &p);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag(args[0], p, /*table=*/true, &format)) return 2;
  const int interval = p.flags["interval"].as<int>();
  if (interval < 1) {
    std::cerr << "berthctl stats: --interval must be at least 1\n";
    return 2;
  }
  const bool live = format == OutputFormat::kTable && !p.flags.count("once") && ::isatty(STDOUT_FILENO);
  ::runtime::v1::ListPodSandboxStatsRequest request;
  if (!p.positional.empty()) request.mutable_filter()->set_id(p.positional[0]);
  cri::CriClient client(global.endpoint);
  for (;;) {
    ::runtime::v1::ListPodSandboxStatsResponse response;
    auto status = client.runtime().ListPodSandboxStats(cri::CriClient::Context(global.timeout).get(), request,
                                                        &response);
    if (!status.ok()) return ReportRpcError("ListPodSandboxStats", status);
    if (PrintStructured(response, format)) return 0;
    // Home and clear: the table is redrawn where it was.
    if (live) std::cout << "\x1b[H\x1b[2J";
    PrintTable(StatsRows(response));
    std::cout.flush();
    if (!live) return 0;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
  }
}

int RunEvents(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("count", po::value<int>()->default_value(0),
                  "exit after this many events (0: follow until interrupted)");
  AddOutputFlag(o, /*table=*/true);
  if (int rc = ParseCommand({"events", "events [--count N] [-o json|table]",
                             "Follows pod and container lifecycle events (GetContainerEvents) as they happen", 0, 0},
                            args, o, &p);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag(args[0], p, /*table=*/true, &format)) return 2;
  const int count = p.flags["count"].as<int>();
  cri::CriClient client(global.endpoint);
  // A stream has no deadline: it lasts until interrupted or --count events came.
  grpc::ClientContext context;
  auto reader = client.runtime().GetContainerEvents(&context, {});
  ::runtime::v1::ContainerEventResponse event;
  int seen = 0;
  while ((count == 0 || seen < count) && reader->Read(&event)) {
    ++seen;
    if (format == OutputFormat::kJson) {
      std::cout << ToJson(event) << std::endl;
      continue;
    }
    if (format == OutputFormat::kYaml) {
      std::cout << "---\n" << JsonToYaml(ToJson(event)) << std::flush;
      continue;
    }
    const auto& pod = event.pod_sandbox_status();
    const bool is_pod = event.container_id() == pod.id();
    std::string name = absl::StrCat(pod.metadata().namespace_(), "/", pod.metadata().name());
    if (!is_pod) {
      for (const auto& status : event.containers_statuses()) {
        if (status.id() == event.container_id()) absl::StrAppend(&name, "/", status.metadata().name());
      }
    }
    std::cout << absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixNanos(event.created_at()), absl::UTCTimeZone())
              << " " << (is_pod ? "pod" : "container") << " " << EventName(event.container_event_type()) << " "
              << ShortId(event.container_id()) << " " << name << std::endl;
  }
  if (count > 0 && seen >= count) {
    context.TryCancel();
    return 0;
  }
  auto status = reader->Finish();
  if (!status.ok()) return ReportRpcError("GetContainerEvents", status);
  return 0;
}

int RunMetrics(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  AddOutputFlag(o, /*table=*/true);
  if (int rc = ParseCommand({"metrics", "metrics [POD_ID] [-o json|yaml|table]",
                             "Prints the CRI metrics of pods (all, or those whose id starts with POD_ID) in "
                             "Prometheus' text form, as kubelet serves them at /metrics/cadvisor",
                             0, 1},
                            args, o, &p);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag(args[0], p, /*table=*/true, &format)) return 2;
  cri::CriClient client(global.endpoint);
  ::runtime::v1::ListMetricDescriptorsResponse descriptors;
  auto status = client.runtime().ListMetricDescriptors(cri::CriClient::Context(global.timeout).get(), {},
                                                       &descriptors);
  if (!status.ok()) return ReportRpcError("ListMetricDescriptors", status);
  ::runtime::v1::ListPodSandboxMetricsResponse metrics;
  status = client.runtime().ListPodSandboxMetrics(cri::CriClient::Context(global.timeout).get(), {}, &metrics);
  if (!status.ok()) return ReportRpcError("ListPodSandboxMetrics", status);
  const std::string prefix = p.positional.empty() ? "" : p.positional[0];
  ::runtime::v1::ListPodSandboxMetricsResponse chosen;
  for (const auto& pod : metrics.pod_metrics()) {
    if (pod.pod_sandbox_id().rfind(prefix, 0) == 0) *chosen.add_pod_metrics() = pod;
  }
  if (!prefix.empty() && chosen.pod_metrics().empty()) {
    std::cerr << "berthctl metrics: no pod whose id starts with " << prefix << "\n";
    return 1;
  }
  if (PrintStructured(chosen, format)) return 0;
  std::map<std::string, const ::runtime::v1::MetricDescriptor*> by_name;
  for (const auto& descriptor : descriptors.descriptors()) by_name[descriptor.name()] = &descriptor;
  auto print = [&](const ::runtime::v1::Metric& metric) {
    auto it = by_name.find(metric.name());
    std::vector<std::string> labels;
    for (int i = 0; i < metric.label_values_size(); ++i) {
      const std::string key = it != by_name.end() && i < it->second->label_keys_size() ? it->second->label_keys(i)
                                                                                       : absl::StrCat("label", i);
      labels.push_back(absl::StrCat(key, "=\"", metric.label_values(i), "\""));
    }
    std::cout << metric.name() << "{" << absl::StrJoin(labels, ",") << "} " << metric.value().value() << "\n";
  };
  for (const auto& pod : chosen.pod_metrics()) {
    for (const auto& metric : pod.metrics()) print(metric);
    for (const auto& container : pod.container_metrics()) {
      for (const auto& metric : container.metrics()) print(metric);
    }
  }
  return 0;
}

}  // namespace berth::ctl
