#include "base/metrics.h"

#include <gtest/gtest.h>

namespace berth::metrics {
namespace {

const prometheus::MetricFamily* Find(const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

TEST(ProcessCollector, ReportsThisProcess) {
  auto families = ProcessCollector()->Collect();
  for (const char* name : {"process_cpu_seconds_total", "process_start_time_seconds", "process_virtual_memory_bytes",
                           "process_resident_memory_bytes", "process_open_fds", "process_max_fds"}) {
    const auto* family = Find(families, name);
    ASSERT_NE(family, nullptr) << name;
    ASSERT_EQ(family->metric.size(), 1u);
  }
  EXPECT_GT(Find(families, "process_resident_memory_bytes")->metric[0].gauge.value, 1e5);
  EXPECT_GT(Find(families, "process_open_fds")->metric[0].gauge.value, 2);
  // Started after 2020 and not in the future.
  const double start = Find(families, "process_start_time_seconds")->metric[0].gauge.value;
  EXPECT_GT(start, 1.6e9);
  EXPECT_LE(start, static_cast<double>(::time(nullptr)) + 1);
  EXPECT_EQ(Find(families, "process_cpu_seconds_total")->type, prometheus::MetricType::Counter);
}

TEST(LatencyBuckets, StartBelowAMillisecondAndRise) {
  const auto& buckets = LatencyBuckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_LT(buckets.front(), 0.001);
  for (size_t i = 1; i < buckets.size(); ++i) EXPECT_GT(buckets[i], buckets[i - 1]);
}

}  // namespace
}  // namespace berth::metrics
