// What a checkpoint brings back in (CreateContainer and RestorePod take them from
// anywhere): an archive's config.dump, a pod checkpoint's pod.options, and
// berth-runtime's record of external mounts and the OCI spec it restores with.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pods/checkpoint_archive.h"
#include "runtime/checkpoint.h"
#include "runtime/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)berth::pods::ParseCheckpointedContainer(text);
  (void)berth::pods::ParsePodOptions(text);
  (void)berth::runtime::ParseExternalMounts(text);
  (void)berth::runtime::ParseSpec(text, "/bundle");
  return 0;
}
