// The layer unpacker on arbitrary bytes (tar, gzip, zstd): whatever the stream, it
// writes nothing outside its directory and never crashes. Each input is unpacked
// into a fresh directory under $TMPDIR, which is checked and removed after.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "base/file_util.h"
#include "image/layer_unpacker.h"

namespace {

std::string Scratch() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/berth-layer-fuzz-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string base = Scratch();
  const std::string blob = base + "/blob";
  const std::string target = base + "/layer/tree";
  if (!berth::WriteFileAtomically(blob, std::string(reinterpret_cast<const char*>(data), size), 0600,
                                  berth::Durability::kCrash)
           .ok()) {
    std::abort();
  }
  if (!berth::MakeDirs(target, 0755).ok()) std::abort();
  (void)berth::image::UnpackLayer(blob, target);
  // Only the target may have gained anything: the scratch holds blob and layer/,
  // and layer/ holds tree/.
  if (Entries(base) != std::set<std::string>{"blob", "layer"}) __builtin_trap();
  if (Entries(base + "/layer") != std::set<std::string>{"tree"}) __builtin_trap();
  if (!berth::RemoveAll(base + "/layer").ok()) std::abort();
  return 0;
}
