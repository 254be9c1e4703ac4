// Ports of a cluster's control-plane node published on this machine, as kind's
// extraPortMappings: ADDRESS:HOST_PORT here to NODE_PORT on the node (a NodePort
// Service, or a hostNetwork pod's port). berth-node listens for them (node/forwarder.h).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace berth::cluster {

struct PublishedPort {
  std::string address = "127.0.0.1";
  int host_port = 0;
  int node_port = 0;
};

// "[ADDRESS:]HOST_PORT:NODE_PORT", ADDRESS an IPv4 address (127.0.0.1 unless given);
// INVALID_ARGUMENT saying what is wrong.
StatusOr<PublishedPort> ParsePublishedPort(const std::string& text);

// INVALID_ARGUMENT for an address and port given twice, FAILED_PRECONDITION (or the
// errno's code) for one that something on this machine listens on already: the
// control-plane node could not start.
Status CheckHostPortsFree(const std::vector<PublishedPort>& ports);

}  // namespace berth::cluster
