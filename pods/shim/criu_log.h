// What CRIU's own log (dump.log, restore.log) says went wrong, for the messages of
// a failed checkpoint or restore: the runtime that ran CRIU reports only that it
// failed.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace berth::pods::shim {

// The error CRIU gave first that is a cause: not a warning it logs on every run
// (it cannot raise its own open-file limit without CAP_SYS_RESOURCE) nor the
// "Dumping FAILED." it ends with. Without the "(time) Error (file:line):" prefix;
// "" when the log has none.
std::string CriuLogCause(absl::string_view log);

// CriuLogCause of the log file at path; "" when it cannot be read.
std::string CriuLogFileCause(const std::string& path);

}  // namespace berth::pods::shim
