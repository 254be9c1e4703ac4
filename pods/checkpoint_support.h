// Whether containers can be checkpointed on this node: CRIU (Debian's `criu`) must
// be installed and `criu check` must pass on this kernel. The check runs once, on
// first use; its verdict answers CheckpointContainer, CheckpointPod and RestorePod
// and Status's ContainerCheckpointReady condition.
#pragma once

#include <mutex>
#include <string>

#include "base/status.h"

namespace berth::pods {

// `criu check`'s outcome as a verdict: OK, or FAILED_PRECONDITION saying why, with
// the last error CRIU printed. found: whether the binary exists at all.
Status CriuCheckVerdict(const std::string& binary, bool found, int exit_code, const std::string& output);

class CheckpointSupport {
 public:
  // binary: runtimes.criu_path.
  explicit CheckpointSupport(std::string binary) : binary_(std::move(binary)) {}

  // OK when CRIU works here; FAILED_PRECONDITION saying why not.
  Status Available();
  const std::string& binary() const { return binary_; }

 private:
  const std::string binary_;
  std::once_flag once_;
  Status verdict_;
};

}  // namespace berth::pods
