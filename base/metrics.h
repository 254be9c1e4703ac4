// berthd's own Prometheus metrics: the one registry every module records into, and
// the process metrics Go's client exports by default (prometheus-cpp has none).
//
//   static auto& pulls = prometheus::BuildCounter().Name("berth_image_pulls_total")
//                            .Help("...").Register(metrics::Registry());
//   pulls.Add({{"result", "ok"}}).Increment();
//
// Names follow Prometheus' conventions: the berth_ prefix, base units (_seconds,
// _bytes), _total on counters. What is computed at scrape time (pods by state, the
// process) is a Collectable the endpoint registers beside the registry.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace berth::metrics {

prometheus::Registry& Registry();

// Latency buckets from 100 µs to 30 s: berth's calls take well under a
// millisecond, a pull or a stop can take many seconds.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// Seconds since start, for a histogram's Observe.
inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds and
// process_start_time_seconds of this process, read from /proc at each scrape.
std::shared_ptr<prometheus::Collectable> ProcessCollector();

}  // namespace berth::metrics
