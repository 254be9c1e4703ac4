// Where berth-runtime's errors go besides stderr: the --log file, in runc's formats,
// so that a caller keeping only the log (a shim whose stderr is the container's)
// still learns why.
#pragma once

#include <string>

#include "base/status.h"

namespace berth::runtime {

struct ErrorLog {
  std::string path;               // empty: stderr only
  std::string format = "text";    // or "json"

  // stderr carries the code as a tag (see errors.h); the log's msg is the plain
  // message, as runc writes it.
  void Write(const Status& status) const;
  // What went wrong without failing the command (a poststart hook), at level warning.
  void Warn(const Status& status) const;

 private:
  void Append(absl::string_view level, absl::string_view message) const;
};

}  // namespace berth::runtime
