#include "network/interface_counters.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "network/netns_thread.h"

namespace berth::network {

std::vector<InterfaceCounters> ParseNetDev(absl::string_view text) {
  std::vector<InterfaceCounters> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(':', 1));
    absl::string_view name = absl::StripAsciiWhitespace(parts.first);
    std::vector<absl::string_view> fields = absl::StrSplit(parts.second, ' ', absl::SkipEmpty());
    // Header lines have no colon, or no 16 numbers after it.
    if (name.empty() || name == "lo" || fields.size() < 16) continue;
    uint64_t values[16];
    bool numeric = true;
    for (int i = 0; i < 16 && numeric; ++i) numeric = absl::SimpleAtoi(fields[i], &values[i]);
    if (!numeric) continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit:
    // bytes packets errs drop fifo colls carrier compressed.
    out.push_back(InterfaceCounters{.name = std::string(name),
                                    .rx_bytes = values[0],
                                    .rx_packets = values[1],
                                    .rx_errors = values[2],
                                    .rx_dropped = values[3],
                                    .tx_bytes = values[8],
                                    .tx_packets = values[9],
                                    .tx_errors = values[10],
                                    .tx_dropped = values[11]});
  }
  return out;
}

const InterfaceCounters* DefaultInterface(const std::vector<InterfaceCounters>& interfaces) {
  for (const auto& interface : interfaces) {
    if (interface.name == "eth0") return &interface;
  }
  return interfaces.empty() ? nullptr : &interfaces.front();
}

StatusOr<std::vector<InterfaceCounters>> ReadInterfaceCounters(const std::string& netns_path) {
  StatusOr<std::string> table = absl::InternalError("not read");
  RETURN_IF_ERROR(RunInNetworkNamespace(netns_path, [&] { table = ReadFile("/proc/thread-self/net/dev"); }));
  if (!table.ok()) return table.status();
  return ParseNetDev(*table);
}

}  // namespace berth::network
