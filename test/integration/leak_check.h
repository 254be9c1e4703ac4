// What a test run leaves on the host: processes, mounts, network namespaces, network
// links and cgroups. Take a snapshot before, another after, and whatever is new is a
// leak that fails the test.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace berth::testing {

struct HostSnapshot {
  std::set<std::string> processes;  // "pid cmdline" of processes naming the test dir
  std::set<std::string> mounts;     // mount points
  std::set<std::string> netns;      // entries of /run/netns
  std::set<std::string> links;      // network interfaces
  std::set<std::string> cgroups;    // cgroup directories, a few levels deep
  std::set<std::string> iptables;   // "family table: rule" and user chains, IPv4 and IPv6

  // Reads the host now; processes are those whose command line mentions marker.
  static HostSnapshot Take(const std::string& marker);
};

// Describes everything in after that is not in before; empty when nothing leaked.
std::vector<std::string> FindLeaks(const HostSnapshot& before, const HostSnapshot& after);

}  // namespace berth::testing
