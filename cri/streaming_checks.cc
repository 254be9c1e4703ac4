#include "cri/streaming_checks.h"

#include "absl/strings/str_cat.h"

namespace berth::cri {

Status CheckStreams(absl::string_view rpc, bool tty, bool stdin, bool stdout, bool stderr) {
  if (tty && stderr) {
    return absl::InvalidArgumentError(absl::StrCat(rpc, ": tty and stderr cannot both be set (a terminal has one output)"));
  }
  if (!stdin && !stdout && !stderr) {
    return absl::InvalidArgumentError(absl::StrCat(rpc, ": none of stdin, stdout and stderr is requested"));
  }
  return absl::OkStatus();
}

StatusOr<pods::ContainerRecord> RunningContainer(pods::Node& node, absl::string_view rpc, const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(rpc, ": container_id is empty"));
  ASSIGN_OR_RETURN(pods::ContainerRecord container, node.lifecycle().GetContainer(id));
  if (container.state != pods::ContainerState::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat(rpc, ": container ", container.id, " is not running"));
  }
  return container;
}

}  // namespace berth::cri
