// kubelet's CRI container log format: one record per line,
//   2024-01-01T00:00:00.123456789Z stdout F the line
// where F marks a full line and P a partial one (a line longer than the buffer, or
// the last bytes of a stream that ended without a newline), so that readers can
// join partials back together.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "base/unique_fd.h"

namespace berth::pods {

// Formats a timestamp (unix nanoseconds) the way kubelet writes it: RFC 3339 with
// nanoseconds, UTC.
std::string Rfc3339Nano(int64_t unix_nanos);

// Splits one stream's bytes into log records and appends them to a file.
class CriLogWriter {
 public:
  // Lines longer than this are written as partial records of this size.
  static constexpr size_t kMaxLine = 16 * 1024;

  explicit CriLogWriter(std::string path) : path_(std::move(path)) {}
  Status Open();
  // Closes and reopens the file (after kubelet rotated it).
  Status Reopen();

  // Takes bytes read from stream ("stdout" or "stderr").
  Status Write(absl::string_view stream, absl::string_view data, int64_t now_nanos);
  // Ends a stream: what is left without a newline is written as a partial record.
  Status Flush(absl::string_view stream, int64_t now_nanos);

  // The records for data from one stream given what was pending for it; exposed
  // for tests. pending holds the bytes of an unfinished line on entry and exit.
  static std::string Format(absl::string_view stream, std::string& pending, absl::string_view data,
                            int64_t now_nanos, bool flush);

 private:
  Status Append(const std::string& records);
  std::string path_;
  UniqueFd fd_;
  std::string pending_stdout_;
  std::string pending_stderr_;
};

}  // namespace berth::pods
