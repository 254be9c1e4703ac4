// What image pulls tell Prometheus: pulls by result, bytes fetched, how long pulls
// and layer unpacks take, and how many pulls run now.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace berth::image {

// A pull that finished: result is "success", "not_found", "denied" or "failed".
void RecordPull(const Status& result, int64_t bytes_fetched, double seconds);
void RecordLayerUnpack(double seconds);

// Counts a pull in berth_image_pulls_in_progress for its lifetime.
class PullInProgress {
 public:
  PullInProgress();
  ~PullInProgress();
  PullInProgress(const PullInProgress&) = delete;
  PullInProgress& operator=(const PullInProgress&) = delete;
};

}  // namespace berth::image
