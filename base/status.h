// Error values used across berth's modules.
//
// berth uses absl::Status / absl::StatusOr everywhere a call can fail. Its codes are
// gRPC's codes, so the CRI layer maps a module's error to the wire without a table
// per module. Errors are created at the source with the code that says what went
// wrong (NOT_FOUND for a lookup miss, ALREADY_EXISTS for a name conflict,
// FAILED_PRECONDITION for a wrong state, INVALID_ARGUMENT for a bad request,
// UNAVAILABLE while not ready) and a message naming the object; callers add context
// on the way up with Annotate().
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace berth {

using absl::Status;
using absl::StatusCode;
using absl::StatusOr;

// The current errno as a Status: code from the errno (ENOENT is NOT_FOUND, EEXIST is
// ALREADY_EXISTS, ...) and a message "what: strerror".
Status ErrnoError(absl::string_view what);
Status ErrnoError(int errnum, absl::string_view what);

// Prefixes the message of a failed status with context, keeping the code:
// Annotate(s, "pull busybox") turns "connection refused" into
// "pull busybox: connection refused".
Status Annotate(const Status& status, absl::string_view context);

}  // namespace berth

#define BERTH_STATUS_CONCAT_INNER_(a, b) a##b
#define BERTH_STATUS_CONCAT_(a, b) BERTH_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when expr yields a failed Status.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status berth_status_ = (expr);           \
    if (!berth_status_.ok()) return berth_status_;   \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a StatusOr<T>; on error returns its status,
// else moves the value into lhs (which may be a declaration: `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_STATUS_CONCAT_(berth_statusor_, __LINE__), lhs, expr)
#define BERTH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
