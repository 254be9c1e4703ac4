// test/streaming/client (client-go's streaming clients, built with Go at test time)
// and what the streaming tests do with it: run a port-forward, talk through one.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"

namespace berth::testing {

// The client's binary, built once per test run (a second or so from the module
// cache; the first build on a machine fetches the modules from the proxy). Empty,
// with why in *missing, where no Go toolchain is installed (*no_go set) or the build
// failed.
std::string StreamClient(std::string* missing, bool* no_go);

// client-go's port-forwarder running on a streaming URL: the local port it listens
// on, and how to stop it (by pid, the one process the test started).
class Forwarder {
 public:
  // command: the client's, up to -forward.
  Forwarder(std::vector<std::string> command, int port);
  ~Forwarder();
  int local_port() const { return local_port_; }

 private:
  pid_t pid_ = -1;
  UniqueFd stdin_;
  int local_port_ = 0;
};

// A process a test started with its stdout on a pipe, read until a marker showed.
// The pipe stays open (a client that writes on would die of SIGPIPE); the test ends
// the process by pid.
struct ReadingChild {
  pid_t pid = -1;
  UniqueFd stdout_pipe;
  std::string seen;  // what came before (and with) the marker; short if the output ended
};
ReadingChild StartReadingUntil(const std::vector<std::string>& argv, const std::string& marker);

// One exchange through a forward on the host's loopback: sends data, half-closes,
// and reads until the far side closes. Empty with the connection refused.
std::string Exchange(int port, const std::string& data);

}  // namespace berth::testing
