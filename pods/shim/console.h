// A container's terminal: the OCI runtime creates it inside the container and sends
// its master end over a unix socket (--console-socket) that the shim listens on.
#pragma once

#include <chrono>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace berth::pods::shim {

struct ConsoleSocket {
  UniqueFd listener;
  std::string path;  // what to pass as --console-socket
};

// Listens in dir for the runtime's connection. The path goes through /proc (an fd
// of dir kept open for the process's life), so it fits in sun_path however deep dir
// is. Non-blocking: the runtime has connected and sent by the time its create
// exits, so an empty backlog then means it never will.
StatusOr<ConsoleSocket> ListenConsoleSocket(const std::string& dir);

// The terminal master the runtime sent during create; the socket file is removed.
StatusOr<UniqueFd> ReceiveConsole(const ConsoleSocket& socket);
// For a runtime that keeps running (exec): waits up to timeout for the terminal,
// giving up early when give_up_fd (the runtime's pidfd: its exit) becomes readable.
StatusOr<UniqueFd> AwaitConsole(const ConsoleSocket& socket, int give_up_fd, std::chrono::milliseconds timeout);

}  // namespace berth::pods::shim
