#include "nri/options.h"

#include "absl/strings/str_cat.h"

namespace berth::nri {

Status NriOptions::Validate() const {
  if (!enable) return absl::OkStatus();
  if (!disable_connections && (socket_path.empty() || socket_path[0] != '/')) {
    return absl::InvalidArgumentError(absl::StrCat("config key \"nri.socket_path\": \"", socket_path,
                                                   "\" is not an absolute path"));
  }
  for (const auto& [key, ms] : {std::pair{"nri.registration_timeout_ms", registration_timeout_ms},
                                std::pair{"nri.request_timeout_ms", request_timeout_ms},
                                std::pair{"nri.synchronize_timeout_ms", synchronize_timeout_ms}}) {
    if (ms < 1 || ms > 3'600'000) {
      return absl::InvalidArgumentError(absl::StrCat("config key \"", key, "\": ", ms, " is not in 1..3600000"));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::nri
