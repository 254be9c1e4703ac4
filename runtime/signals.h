// Signal names as OCI specs, images (STOPSIGNAL) and CRI give them: the one table.
#pragma once

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::runtime {

// "SIGKILL", "KILL", "kill", "9", "SIGRTMIN+3"; INVALID_ARGUMENT for anything else.
StatusOr<int> ParseSignal(absl::string_view name);

}  // namespace berth::runtime
