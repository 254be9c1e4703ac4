// The nri section of berthd's config: whether berthd hosts NRI plugins, where they
// connect or are launched from, and how long each may take.
#pragma once

#include <string>

#include "base/status.h"

namespace berth::nri {

struct NriOptions {
  // Off unless asked for: with no plugins, NRI costs nothing.
  bool enable = false;
  // Where external plugins connect (made mode 0700 in a directory of its own).
  std::string socket_path = "/var/run/nri/nri.sock";
  // Plugins berthd starts itself: executables named NN-name, NN their index.
  std::string plugin_path = "/opt/nri/plugins";
  // Their configuration: NN-name.conf or name.conf, handed over in Configure.
  std::string plugin_config_path = "/etc/nri/conf.d";
  // Only the launched plugins, no socket.
  bool disable_connections = false;
  // A plugin must register within this long of connecting.
  int registration_timeout_ms = 5000;
  // Each event a plugin is sent; one that does not answer in time is dropped.
  int request_timeout_ms = 2000;
  // A new plugin's Synchronize, which may carry every pod and container on the node
  // and which plugins take time over: its own, longer deadline (NRI's Go runtime
  // uses the event one, and drops slow plugins while creations wait).
  int synchronize_timeout_ms = 10000;

  Status Validate() const;
};

}  // namespace berth::nri
