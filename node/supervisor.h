// berth-node's process tree: berthd first (waited on until it says READY), then each
// service in order (kubelet, kube-proxy). As the node container's PID 1 it reaps
// every orphan; a program that exits is started again after a back-off (1 s, doubling
// up to 30 s, back to 1 s once it has run a minute), as systemd restarts kubelet in
// a kind node; the route watch, which exits until the API server answers, is
// retried every 2 s at most, so that routes are in place as soon as it does.
// SIGTERM or SIGINT stops the services in reverse order, then berthd (SIGTERM,
// SIGKILL after 10 s), and Run returns. Pods berthd started are not stopped: they
// end with the node container's PID namespace.
//
// Each program's stdout and stderr go to berth-node's stderr, a line at a time,
// prefixed with its name ("kubelet: ..."), but for the route watch's stdout, whose
// lines go to the route table.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "node/config.h"
#include "node/route_sync.h"

namespace berth::node {

class Supervisor {
 public:
  // Blocks the signals Run takes through a signalfd. Call before any thread starts:
  // a signal goes to any thread that does not block it, and to a PID 1 whose
  // handler is the default one, one from outside its PID namespace is dropped.
  static void BlockSignals();

  explicit Supervisor(const NodeConfig& config);
  // 0 after a requested stop; 1 when berthd never became ready.
  int Run();

 private:
  using LineHandler = std::function<void(const std::string& line)>;

  struct Program {
    Service service;
    LineHandler stdout_lines = nullptr;  // set: stdout goes here instead of the log
    std::chrono::seconds max_backoff{30};
    pid_t pid = 0;
    std::chrono::steady_clock::time_point started = {};
    std::chrono::seconds backoff{1};
    std::chrono::steady_clock::time_point restart_at = {};  // when pid == 0
  };

  bool Spawn(Program& program, int ready_write_fd);
  bool StartBerthd(Program& berthd, int signal_fd);
  void Reap(bool stopping);
  void StopAll(int signal_fd);

  std::vector<Program> programs_;  // berthd first
  std::shared_ptr<RouteTable> routes_;
};

}  // namespace berth::node
