// Levelled logging: one line per event, "time level message key=value...", to stderr.
//
//   BERTH_LOG(Info) << "pod started" << Kv("pod", id);
//
// Lines are written with one write(2) so concurrent RPCs never interleave.
#pragma once

#include <sstream>
#include <string>
#include "absl/strings/string_view.h"

#include "base/status.h"

namespace berth {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn"/"warning", "error".
StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
absl::string_view LogLevelName(LogLevel level);

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
inline bool LogEnabled(LogLevel level) { return level >= GetLogLevel(); }

// A key=value field; values with spaces or quotes are quoted.
struct Kv {
  Kv(absl::string_view k, absl::string_view v) : key(k), value(v) {}
  Kv(absl::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Kv(absl::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename T>
  Kv(absl::string_view k, const T& v) : key(k), value(absl::StrCat(v)) {}
  absl::string_view key;
  std::string value;
};

class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();

  LogLine& operator<<(const Kv& kv);
  LogLine& operator<<(const Status& status);
  template <typename T>
  LogLine& operator<<(const T& value) {
    message_ << value;
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream message_;
  std::string fields_;
};

}  // namespace berth

namespace berth {
// Lets BERTH_LOG be an expression, so it is safe in an unbraced if/else.
struct LogVoidify {
  void operator&(const LogLine&) {}
};
}  // namespace berth

#define BERTH_LOG(level)                                   \
  !::berth::LogEnabled(::berth::LogLevel::k##level)        \
      ? (void)0                                            \
      : ::berth::LogVoidify() & ::berth::LogLine(::berth::LogLevel::k##level)
