// The node's images: pulled from registries, kept in the content store and as
// unpacked layers, named by tags and digests, listed, found, removed and
// garbage-collected. This is the image module's public face.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/state_db.h"
#include "base/single_flight.h"
#include "base/status.h"
#include "image/content_store.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry_client.h"
#include "image/registry_hosts.h"
#include "image/snapshot_store.h"

namespace berth::image {

struct ImageRecord {
  std::string id;               // the config's digest
  std::string manifest_digest;  // the manifest pulled for this platform
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  int64_t size = 0;             // bytes of content: manifests, config and layer blobs
  std::vector<std::string> chain_ids;  // bottom layer first
  std::vector<std::string> blobs;      // every blob the image holds
  ImageConfig config;
  bool pinned = false;
};

// A pull under way, for progress reports.
struct PullProgress {
  std::string reference;
  int64_t total_bytes = 0;  // of the layers, once the manifest is known
  int64_t done_bytes = 0;
  int layers = 0;
  int layers_done = 0;
};

struct ImageStoreOptions {
  std::string dir;             // ROOT/images
  std::string containers_dir;  // ROOT/containers
  RegistryConfig registry;
  Platform platform = HostPlatform();
  std::vector<std::string> pinned;  // references never garbage-collected or removed by kubelet
  int max_concurrent_downloads = 3;
  std::chrono::seconds progress_timeout{60};  // see RegistryClient::set_progress_timeout
  uint64_t max_layer_bytes = 0;               // uncompressed, per layer; 0: no limit
};

class ImageStore {
 public:
  static StatusOr<std::unique_ptr<ImageStore>> Open(StateDb* db, ImageStoreOptions options);
  ~ImageStore();

  // Pulls (or finds already pulled) the image; concurrent pulls of one reference
  // share one pull, and of shared layers share their downloads.
  StatusOr<ImageRecord> Pull(absl::string_view reference, const Credentials& credentials);
  // By ID ("sha256:..." or bare hex), tag or digest reference. NOT_FOUND otherwise.
  StatusOr<ImageRecord> Find(absl::string_view ref_or_id);
  std::vector<ImageRecord> List();
  // Removes the image with all its names; removing what is not there is not an error.
  Status Remove(absl::string_view ref_or_id);

  std::vector<PullProgress> ActivePulls();
  SnapshotStore& snapshots() { return *snapshots_; }
  // Where containers' writable layers are made.
  const std::string& containers_dir() const { return options_.containers_dir; }
  ContentStore& content() { return *content_; }

 private:
  struct PullState;
  ImageStore(StateDb* db, ImageStoreOptions options, std::unique_ptr<ContentStore> content,
             std::unique_ptr<SnapshotStore> snapshots);
  Status Load();
  StatusOr<ImageRecord> PullNow(const Reference& ref, const Credentials& credentials, PullState& state);
  StatusOr<ImageRecord> PullFrom(RegistryClient& client, const Reference& ref, PullState& state);
  Status FetchLayers(RegistryClient& client, const ImageManifest& manifest, const ImageConfig& config,
                     PullState& state);
  Status Commit(const ImageRecord& record, const std::vector<std::string>& names);
  Status CollectGarbage();
  std::optional<std::string> ResolveId(absl::string_view ref_or_id);
  ImageRecord WithNames(const ImageRecord& record);
  bool IsPinned(const ImageRecord& record) const;

  StateDb* db_;
  const ImageStoreOptions options_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<SnapshotStore> snapshots_;

  std::mutex mu_;
  std::map<std::string, ImageRecord> images_;          // by id, names not filled in
  std::map<std::string, std::string> names_;           // name -> id
  // Pulls going on, by reference and credentials: the same pull asked for twice runs once.
  SingleFlight<StatusOr<ImageRecord>> pulls_;
  std::map<std::string, std::shared_ptr<PullState>> pull_states_;
};

}  // namespace berth::image
