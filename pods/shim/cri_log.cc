#include "pods/shim/cri_log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace berth::pods {

std::string Rfc3339Nano(int64_t unix_nanos) {
  time_t seconds = static_cast<time_t>(unix_nanos / 1000000000);
  long nanos = static_cast<long>(unix_nanos % 1000000000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return buf;
}

Status CriLogWriter::Open() {
  fd_.Reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) return ErrnoError(absl::StrCat("open log ", path_));
  return absl::OkStatus();
}

Status CriLogWriter::Reopen() {
  fd_.Reset();
  return Open();
}

std::string CriLogWriter::Format(absl::string_view stream, std::string& pending, absl::string_view data,
                                 int64_t now_nanos, bool flush) {
  std::string out;
  const std::string stamp = Rfc3339Nano(now_nanos);
  auto record = [&](absl::string_view line, char tag) {
    absl::StrAppend(&out, stamp, " ", stream, " ", absl::string_view(&tag, 1), " ", line, "\n");
  };
  while (!data.empty()) {
    size_t newline = data.find('\n');
    absl::string_view piece = newline == absl::string_view::npos ? data : data.substr(0, newline);
    // A line too long to hold goes out in partial records.
    while (pending.size() + piece.size() >= kMaxLine) {
      size_t take = kMaxLine - pending.size();
      pending.append(piece.data(), take);
      record(pending, 'P');
      pending.clear();
      piece.remove_prefix(take);
    }
    if (newline == absl::string_view::npos) {
      pending.append(piece.data(), piece.size());
      break;
    }
    pending.append(piece.data(), piece.size());
    record(pending, 'F');
    pending.clear();
    data.remove_prefix(newline + 1);
  }
  if (flush && !pending.empty()) {
    record(pending, 'P');
    pending.clear();
  }
  return out;
}

Status CriLogWriter::Append(const std::string& records) {
  if (!fd_ || records.empty()) return absl::OkStatus();
  absl::string_view left = records;
  while (!left.empty()) {
    ssize_t n = ::write(fd_.get(), left.data(), left.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("write log ", path_));
    }
    left.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

Status CriLogWriter::Write(absl::string_view stream, absl::string_view data, int64_t now_nanos) {
  std::string& pending = stream == "stdout" ? pending_stdout_ : pending_stderr_;
  return Append(Format(stream, pending, data, now_nanos, /*flush=*/false));
}

Status CriLogWriter::Flush(absl::string_view stream, int64_t now_nanos) {
  std::string& pending = stream == "stdout" ? pending_stdout_ : pending_stderr_;
  return Append(Format(stream, pending, "", now_nanos, /*flush=*/true));
}

}  // namespace berth::pods
