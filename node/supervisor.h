// berth-node's process tree: berthd first (waited on until it says READY), then each
// service in order (kubelet, kube-proxy). As the node container's PID 1 it reaps
// every orphan; a program that exits is started again after a back-off (1 s, doubling
// up to 30 s, back to 1 s once it has run a minute), as systemd restarts kubelet in
// a kind node. SIGTERM or SIGINT stops the services in reverse order, then berthd (SIGTERM,
// SIGKILL after 10 s), and Run returns. Pods berthd started are not stopped: they
// end with the node container's PID namespace.
//
// Each program's stdout and stderr go to berth-node's stderr, a line at a time,
// prefixed with its name ("kubelet: ...").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "node/config.h"

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
  struct Program {
    Service service;
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
};

}  // namespace berth::node
