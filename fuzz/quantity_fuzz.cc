// Kubernetes quantities ("128Mi", "1.5G", "100m") in pod specs and annotations.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pods/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)berth::pods::ParseQuantity(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
