#include "image/pull_metrics.h"

#include "base/metrics.h"

namespace berth::image {
namespace {

prometheus::Gauge& InProgress() {
  static auto& gauge = prometheus::BuildGauge()
                           .Name("berth_image_pulls_in_progress")
                           .Help("Image pulls running now.")
                           .Register(metrics::Registry())
                           .Add({});
  return gauge;
}

const char* ResultName(const Status& result) {
  if (result.ok()) return "success";
  switch (result.code()) {
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied: return "denied";
    default: return "failed";
  }
}

}  // namespace

void RecordPull(const Status& result, int64_t bytes_fetched, double seconds) {
  static auto& pulls = prometheus::BuildCounter()
                           .Name("berth_image_pulls_total")
                           .Help("Image pulls finished, by result (success, not_found, denied, failed).")
                           .Register(metrics::Registry());
  static auto& bytes = prometheus::BuildCounter()
                           .Name("berth_image_pull_bytes_total")
                           .Help("Bytes of layers fetched from registries.")
                           .Register(metrics::Registry())
                           .Add({});
  static auto& durations = prometheus::BuildHistogram()
                               .Name("berth_image_pull_duration_seconds")
                               .Help("Time an image pull takes, from the first request to the stored image.")
                               .Register(metrics::Registry());
  pulls.Add({{"result", ResultName(result)}}).Increment();
  if (bytes_fetched > 0) bytes.Increment(static_cast<double>(bytes_fetched));
  durations.Add({{"result", result.ok() ? "success" : "failure"}}, metrics::LatencyBuckets()).Observe(seconds);
}

void RecordLayerUnpack(double seconds) {
  static auto& unpacks = prometheus::BuildHistogram()
                             .Name("berth_layer_unpack_duration_seconds")
                             .Help("Time to unpack one image layer into its snapshot.")
                             .Register(metrics::Registry())
                             .Add({}, metrics::LatencyBuckets());
  unpacks.Observe(seconds);
}

PullInProgress::PullInProgress() { InProgress().Increment(); }
PullInProgress::~PullInProgress() { InProgress().Decrement(); }

}  // namespace berth::image
