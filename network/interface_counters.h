// Traffic counters of the interfaces in a pod's network namespace, read without a
// process of the pod's: a pause-less pod may have none running.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::network {

struct InterfaceCounters {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t rx_errors = 0;
  uint64_t rx_dropped = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_errors = 0;
  uint64_t tx_dropped = 0;
};

// Every interface but loopback in the namespace pinned at netns_path. A helper
// thread enters the namespace and reads its /proc/thread-self/net/dev; berthd's
// own threads stay where they are.
StatusOr<std::vector<InterfaceCounters>> ReadInterfaceCounters(const std::string& netns_path);

// The interface kubelet reports as the pod's: eth0, else the first one; nullptr
// when there is none.
const InterfaceCounters* DefaultInterface(const std::vector<InterfaceCounters>& interfaces);

// The /proc/net/dev table (two header lines, then "name: 16 numbers"), loopback
// left out. Public for its unit test.
std::vector<InterfaceCounters> ParseNetDev(absl::string_view text);

}  // namespace berth::network
