// Unpacked layers ("snapshots"), one directory per layer keyed by chain ID, used as
// overlayfs lower directories; and the writable layer of each container on top.
//
// A layer is unpacked into a staging directory, checked against its diff ID, and
// renamed to images/snapshots/<n> (short names keep overlay's mount options under a
// page for deep images). The database row is written in the same step, so a layer
// that is listed is complete. Staging and unlisted directories are removed at open.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/state_db.h"
#include "base/single_flight.h"
#include "base/status.h"

namespace berth::image {

// What a container's root filesystem is made of; Mount() and Unmount() act on it.
struct RootfsLayers {
  std::vector<std::string> lower_dirs;  // top layer first, as overlayfs wants them
  std::string upper_dir;
  std::string work_dir;
  // The overlay mount data string ("lowerdir=...,upperdir=...,workdir=...").
  std::string MountData() const;
};

class SnapshotStore {
 public:
  static StatusOr<std::unique_ptr<SnapshotStore>> Open(StateDb* db, const std::string& dir,
                                                       const std::string& containers_dir);

  bool Has(const std::string& chain_id);
  // Makes sure the layer exists, unpacking blob_path if not. Concurrent calls for one
  // chain ID share the one unpack.
  // max_bytes: see UnpackLayer.
  Status Ensure(const std::string& chain_id, const std::string& diff_id, const std::string& blob_path,
                uint64_t max_bytes = 0);
  // Total bytes of files unpacked for these layers.
  StatusOr<uint64_t> Size(const std::vector<std::string>& chain_ids);

  // Creates the container's upper and work dirs over the given layers (bottom first)
  // and records that the container holds them.
  StatusOr<RootfsLayers> PrepareRootfs(const std::string& container_id,
                                       const std::vector<std::string>& chain_ids);
  // Removes the container's writable layer and releases its layers.
  Status RemoveRootfs(const std::string& container_id);

  // The layers' directories (top first), held for holder (an image volume's
  // "volume:<pod>:<image>") until ReleaseLayers: not collected meanwhile.
  StatusOr<std::vector<std::string>> HoldLayers(const std::string& holder, const std::vector<std::string>& chain_ids);
  Status ReleaseLayers(const std::string& holder);

  // Deletes layers that no image and no container references, except those in keep.
  Status CollectGarbage(const std::set<std::string>& keep);

 private:
  SnapshotStore(StateDb* db, std::string dir, std::string containers_dir)
      : db_(db), dir_(std::move(dir)), containers_dir_(std::move(containers_dir)) {}
  Status Unpack(const std::string& chain_id, const std::string& diff_id, const std::string& blob_path,
                uint64_t max_bytes);
  StatusOr<std::string> LayerDir(const std::string& chain_id);
  Status RemoveOrphans();

  StateDb* db_;
  const std::string dir_;
  const std::string containers_dir_;
  // Layers being unpacked: a second Ensure of one chain waits for the first.
  SingleFlight<Status> unpacks_;
};

}  // namespace berth::image
