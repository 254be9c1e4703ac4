// What `berthctl cluster load` reads from an archive a user was handed: the tar
// itself (compressed or not, hostile names and links), the OCI layout's index.json
// and manifests, a Docker archive's manifest.json and configs.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "base/file_util.h"
#include "cluster/image_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/berth-archive-fuzz-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return 0;
  const std::string archive = dir + "/archive";
  std::filesystem::create_directory(dir + "/work");
  if (berth::WriteFileAtomically(archive, std::string(reinterpret_cast<const char*>(data), size)).ok()) {
    (void)berth::cluster::ReadImageArchive(archive, dir + "/work");
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
