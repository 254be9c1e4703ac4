#include "runtime/errors.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace berth::runtime {
namespace {

// The codes a runtime failure keeps on its way to CRI.
constexpr std::pair<StatusCode, const char*> kTaggedCodes[] = {
    {StatusCode::kNotFound, "NOT_FOUND"},
    {StatusCode::kFailedPrecondition, "FAILED_PRECONDITION"},
    {StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
    {StatusCode::kInvalidArgument, "INVALID_ARGUMENT"},
    {StatusCode::kUnimplemented, "UNIMPLEMENTED"},
    {StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
};

// runc's and crun's phrases (lower case) and what they mean.
constexpr std::pair<const char*, StatusCode> kPhrases[] = {
    {"container does not exist", StatusCode::kNotFound},
    {"does not exist", StatusCode::kNotFound},
    {"container not found", StatusCode::kNotFound},
    {"cannot exec in a stopped container", StatusCode::kFailedPrecondition},
    {"cannot exec in a stopped state", StatusCode::kFailedPrecondition},
    {"container not running", StatusCode::kFailedPrecondition},
    {"is not running", StatusCode::kFailedPrecondition},
    {"cannot start an already running container", StatusCode::kFailedPrecondition},
    {"cannot start a container that has stopped", StatusCode::kFailedPrecondition},
    {"not in created state", StatusCode::kFailedPrecondition},
    {"container is paused", StatusCode::kFailedPrecondition},
    {"no space left on device", StatusCode::kResourceExhausted},
    {"cannot allocate memory", StatusCode::kResourceExhausted},
    {"too many open files", StatusCode::kResourceExhausted},
    {"resource temporarily unavailable", StatusCode::kResourceExhausted},
};

}  // namespace

Status ClassifyRuntimeError(absl::string_view handler, absl::string_view what, int exit_code,
                            absl::string_view output) {
  absl::string_view text = absl::StripAsciiWhitespace(output);
  // The last line says why; earlier ones are usage or warnings.
  if (size_t newline = text.rfind('\n'); newline != absl::string_view::npos) text = text.substr(newline + 1);
  absl::ConsumePrefix(&text, "berth-runtime: ");
  StatusCode code = StatusCode::kInternal;
  bool tagged = false;
  if (absl::StartsWith(text, "[")) {
    for (const auto& [candidate, name] : kTaggedCodes) {
      std::string tag = absl::StrCat("[", name, "] ");
      if (absl::ConsumePrefix(&text, tag)) {
        code = candidate;
        tagged = true;
        break;
      }
    }
  }
  if (!tagged) {
    std::string lower = absl::AsciiStrToLower(text);
    for (const auto& [phrase, meaning] : kPhrases) {
      if (absl::StrContains(lower, phrase)) {
        code = meaning;
        break;
      }
    }
  }
  return Status(code, absl::StrCat(handler, " ", what, " failed (exit ", exit_code, "): ", text));
}

std::string TagRuntimeError(const Status& status) {
  for (const auto& [code, name] : kTaggedCodes) {
    if (status.code() == code) return absl::StrCat("[", name, "] ", status.message());
  }
  return std::string(status.message());
}

}  // namespace berth::runtime
