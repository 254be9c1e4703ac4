#include "runtime/error_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"
#include "runtime/errors.h"

namespace berth::runtime {

void ErrorLog::Write(const Status& status) const {
  std::cerr << "berth-runtime: " << TagRuntimeError(status) << "\n";
  Append("error", status.message());
}

void ErrorLog::Warn(const Status& status) const {
  std::cerr << "berth-runtime: warning: " << status.message() << "\n";
  Append("warning", status.message());
}

void ErrorLog::Append(absl::string_view level, absl::string_view text) const {
  const std::string message(text);
  if (path.empty()) return;
  char stamp[40];
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc;
  ::gmtime_r(&now.tv_sec, &utc);
  ::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::string line;
  if (format == "json") {
    // A hook's output in the message may be any bytes: replaced, never thrown on.
    line = nlohmann::json{{"level", std::string(level)}, {"msg", message}, {"time", stamp}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  } else {
    line = absl::StrCat("time=\"", stamp, "\" level=", level, " msg=",
                        nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "\n");
  }
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (file) (void)!::write(file.get(), line.data(), line.size());
}

}  // namespace berth::runtime
