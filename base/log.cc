#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace berth {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}

void AppendQuoted(std::string& out, absl::string_view v) {
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", name, "\" (want debug, info, warn or error)"));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel GetLogLevel() { return g_level.load(std::memory_order_relaxed); }

LogLine& LogLine::operator<<(const Kv& kv) {
  fields_ += ' ';
  absl::StrAppend(&fields_, kv.key);
  fields_ += '=';
  if (NeedsQuotes(kv.value)) {
    AppendQuoted(fields_, kv.value);
  } else {
    fields_ += kv.value;
  }
  return *this;
}

LogLine& LogLine::operator<<(const Status& status) {
  return *this << Kv("code", absl::StatusCodeToString(status.code()))
               << Kv("error", status.message());
}

LogLine::~LogLine() {
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  line += ' ';
  absl::StrAppend(&line, LogLevelName(level_));
  line += ' ';
  line += message_.str();
  line += fields_;
  line += '\n';
  // One write keeps lines whole; a short write to stderr is not worth retrying.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace berth
