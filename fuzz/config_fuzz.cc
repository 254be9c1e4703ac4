// berthd's YAML config file.
#include <cstddef>
#include <cstdint>

#include "pods/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto config = berth::pods::ParseConfig(yaml, "fuzz.yaml");
  if (config.ok()) (void)config->ToYaml();
  return 0;
}
