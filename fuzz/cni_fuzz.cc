// What CNI plugins and network config files say: a plugin's result (PodIpsFromResult)
// and a network config (ParseNetworkConfig).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "network/cni.h"
#include "network/cni_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)berth::network::PodIpsFromResult(text, "eth0");
  const std::vector<std::string> bin_dirs = {"/nonexistent/cni/bin"};
  (void)berth::network::ParseNetworkConfig("/etc/cni/net.d/10-fuzz.conflist", text, false, bin_dirs);
  (void)berth::network::ParseNetworkConfig("/etc/cni/net.d/10-fuzz.conf", text, true, bin_dirs);
  return 0;
}
