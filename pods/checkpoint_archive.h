// A container checkpoint as one tar archive, laid out as CRI-O and Podman lay
// theirs, so that tools that read those (checkpointctl) read berth's:
//   config.dump      who the container was (checkpointed_config below, as JSON)
//   spec.dump        its OCI spec
//   checkpoint/      CRIU's images of its processes
//   rootfs-diff.tar  its writable layer as an OCI layer (deletions as whiteouts)
//   deleted.files    the image paths it deleted, a JSON list
//   stats-dump       CRIU's statistics of the dump
//   dump.log         CRIU's log of the dump
// Archives come back in through CreateContainer and may be hostile: they are
// unpacked with the image layer unpacker, which writes nothing outside its directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"

namespace berth::pods {

inline constexpr char kCheckpointConfigFile[] = "config.dump";
inline constexpr char kCheckpointSpecFile[] = "spec.dump";
inline constexpr char kCheckpointImagesDir[] = "checkpoint";
inline constexpr char kCheckpointRootfsDiff[] = "rootfs-diff.tar";
inline constexpr char kCheckpointDeletedFiles[] = "deleted.files";
inline constexpr char kCheckpointStatsFile[] = "stats-dump";
inline constexpr char kCheckpointDumpLog[] = "dump.log";

// config.dump, with Podman's field names.
struct CheckpointedContainer {
  std::string id;
  std::string name;
  std::string image;      // the image as the container named it
  std::string image_ref;  // its id (sha256:...)
  std::string image_name;
  std::string runtime;  // the runtime handler that ran it
  int64_t created_at = 0;  // unix nanoseconds
  int64_t checkpointed_at = 0;
};
std::string CheckpointedContainerJson(const CheckpointedContainer& container);
// INVALID_ARGUMENT naming what is missing or malformed.
StatusOr<CheckpointedContainer> ParseCheckpointedContainer(absl::string_view json);

// Writes the overlayfs upper directory upper_dir as an OCI layer at tar_path:
// overlayfs whiteouts become ".wh." entries, opaque directories ".wh..wh..opq"
// ones, overlayfs's own xattrs are left out. Returns the deleted paths
// (deleted.files), relative, without a leading slash.
StatusOr<std::vector<std::string>> WriteRootfsDiff(const std::string& upper_dir, const std::string& tar_path);

// Packs the files under dir into a tar at archive_path, written beside it and
// renamed into place, so a reader never sees half an archive.
Status WriteArchive(const std::string& dir, const std::string& archive_path);

// Unpacks archive_path into dir (made here, empty) and checks it holds a
// checkpoint: INVALID_ARGUMENT for a tar that is not one, naming what it lacks.
Status ExtractArchive(const std::string& archive_path, const std::string& dir);

// Whether CreateContainer's image names a checkpoint archive rather than an image:
// an absolute path to a regular file (image references never start with "/").
bool NamesCheckpointArchive(const std::string& image);

// A pod checkpoint (CheckpointPod) is a directory of one archive per container and
// pod.options, {"version":1,"containers":{NAME:ARCHIVE}}, saying which is whose.
inline constexpr char kPodOptionsFile[] = "pod.options";
inline constexpr int kPodCheckpointVersion = 1;

std::string PodOptionsJson(const std::map<std::string, std::string>& archives);
// The archives by container name. The file may come from anywhere: INVALID_ARGUMENT
// for another version, or for an archive that is not a plain file name.
StatusOr<std::map<std::string, std::string>> ParsePodOptions(absl::string_view json);

}  // namespace berth::pods
