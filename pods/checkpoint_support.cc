#include "pods/checkpoint_support.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/process.h"

namespace berth::pods {

Status CriuCheckVerdict(const std::string& binary, bool found, int exit_code, const std::string& output) {
  if (!found) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint and restore need CRIU, which is not installed on this node (no ", binary,
                     "; Debian's package \"criu\", or runtimes.criu_path)"));
  }
  if (exit_code == 0) return absl::OkStatus();
  // CRIU says what failed first and what it gave up on last; the first error is the cause.
  std::string cause;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "Error") || absl::StrContains(line, "error")) {
      cause = std::string(absl::StripAsciiWhitespace(line));
      break;
    }
  }
  if (cause.empty()) cause = absl::StrCat("exit code ", exit_code);
  return absl::FailedPreconditionError(absl::StrCat(
      "checkpoint and restore need CRIU, which cannot work on this host: `", binary, " check` fails: ", cause));
}

Status CheckpointSupport::Available() {
  std::call_once(once_, [this] {
    if (::access(binary_.c_str(), X_OK) != 0) {
      verdict_ = CriuCheckVerdict(binary_, false, -1, "");
      return;
    }
    RunOptions options;
    options.timeout = std::chrono::seconds(30);
    auto run = RunProcess({binary_, "check"}, options);
    verdict_ = run.ok() ? CriuCheckVerdict(binary_, true, run->exit_code, run->out + run->err)
                        : Annotate(run.status(), absl::StrCat("run ", binary_, " check"));
  });
  return verdict_;
}

}  // namespace berth::pods
