// A CDI spec file, and a device's qualified name as kubelet or an NRI plugin sends it.
#include <cstddef>
#include <cstdint>

#include "cdi/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)berth::cdi::ParseSpec(text, "fuzz.yaml");
  (void)berth::cdi::ParseQualifiedName(text);
  return 0;
}
