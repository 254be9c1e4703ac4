// What Exec and Attach both check before they hand out a URL.
#pragma once

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "pods/node.h"

namespace berth::cri {

// A terminal has one output, and a session wants at least one stream.
Status CheckStreams(absl::string_view rpc, bool tty, bool stdin, bool stdout, bool stderr);
// The container, by (abbreviated) id, if it runs: NOT_FOUND or FAILED_PRECONDITION.
StatusOr<pods::ContainerRecord> RunningContainer(pods::Node& node, absl::string_view rpc, const std::string& id);

}  // namespace berth::cri
