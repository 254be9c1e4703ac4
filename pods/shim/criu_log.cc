#include "pods/shim/criu_log.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"

namespace berth::pods::shim {

std::string CriuLogCause(absl::string_view log) {
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    size_t at = line.find("Error (");
    if (at == absl::string_view::npos) continue;
    absl::string_view error = line.substr(at);
    // "Error (criu/cr-dump.c:1698): what" -> "what"
    size_t colon = error.find("): ");
    absl::string_view what = colon == absl::string_view::npos ? error : error.substr(colon + 3);
    what = absl::StripAsciiWhitespace(what);
    if (absl::StartsWith(what, "rlimit:") || absl::EndsWith(what, "FAILED.")) continue;
    return std::string(what);
  }
  return "";
}

std::string CriuLogFileCause(const std::string& path) {
  auto log = ReadFile(path);
  return log.ok() ? CriuLogCause(*log) : "";
}

}  // namespace berth::pods::shim
