// Unix stream sockets by path, whatever the path's length: sun_path holds 108
// bytes, and state directories nest deeper than that, so the path is reached
// through an O_PATH descriptor of its directory (/proc/self/fd/N/NAME).
#pragma once

#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth {

// Binds and listens at path (a stale file there is replaced); non-blocking.
StatusOr<UniqueFd> ListenUnix(const std::string& path, int backlog = 16);
// Connects to path; blocking.
StatusOr<UniqueFd> ConnectUnix(const std::string& path);

}  // namespace berth
