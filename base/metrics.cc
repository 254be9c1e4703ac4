#include "base/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth::metrics {
namespace {

prometheus::MetricFamily GaugeFamily(const std::string& name, const std::string& help, double value,
                                     prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// The boot time, from /proc/stat's btime, in seconds since the epoch.
double BootTime() {
  auto stat = ReadFile("/proc/stat");
  if (!stat.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double value = 0;
      return absl::SimpleAtod(line, &value) ? value : 0;
    }
  }
  return 0;
}

class Process : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    auto stat = ReadFile("/proc/self/stat");
    if (stat.ok()) {
      // Fields after the command (which may hold spaces) start at ") ": state is
      // field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
      const size_t close = stat->rfind(')');
      std::vector<absl::string_view> fields =
          absl::StrSplit(absl::string_view(*stat).substr(close + 2), ' ', absl::SkipEmpty());
      auto field = [&](size_t number) {
        double value = 0;
        return number - 3 < fields.size() && absl::SimpleAtod(fields[number - 3], &value) ? value : 0.0;
      };
      out.push_back(GaugeFamily("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                                (field(14) + field(15)) / ticks, prometheus::MetricType::Counter));
      out.push_back(GaugeFamily("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                                boot_time_ + field(22) / ticks));
      out.push_back(GaugeFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.", field(23)));
      out.push_back(GaugeFamily("process_resident_memory_bytes", "Resident memory size in bytes.", field(24) * page));
    }
    std::error_code ec;
    double fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    out.push_back(GaugeFamily("process_open_fds", "Number of open file descriptors.", fds));
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      out.push_back(GaugeFamily("process_max_fds", "Maximum number of open file descriptors.",
                                static_cast<double>(limit.rlim_cur)));
    }
    return out;
  }

 private:
  const double boot_time_ = BootTime();
};

}  // namespace

prometheus::Registry& Registry() {
  static auto* registry = new prometheus::Registry();
  return *registry;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return *buckets;
}

std::shared_ptr<prometheus::Collectable> ProcessCollector() { return std::make_shared<Process>(); }

}  // namespace berth::metrics
