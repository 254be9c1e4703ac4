#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace berth {

Status ErrnoError(absl::string_view what) { return ErrnoError(errno, what); }

Status ErrnoError(int errnum, absl::string_view what) {
  return Status(absl::ErrnoToStatusCode(errnum), absl::StrCat(what, ": ", std::strerror(errnum)));
}

Status Annotate(const Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace berth
