// Registry documents: an index, a manifest, an image config, each from a registry
// that may be hostile.
#include <cstddef>
#include <cstdint>

#include "image/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  (void)berth::image::ParseIndex(body);
  (void)berth::image::ParseManifest(body);
  (void)berth::image::ParseImageConfig(body);
  return 0;
}
