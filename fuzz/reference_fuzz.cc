// Image references as kubelet and registries hand them in.
#include <cstddef>
#include <cstdint>

#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto reference = berth::image::ParseReference(text);
  if (reference.ok()) {
    // What parses must parse again from its own rendering, to the same thing.
    auto again = berth::image::ParseReference(reference->String());
    if (!again.ok() || again->String() != reference->String()) __builtin_trap();
  }
  return 0;
}
