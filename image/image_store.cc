#include "image/image_store.h"

#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "base/fault_point.h"
#include "base/json_field.h"
#include "base/log.h"
#include "base/metrics.h"
#include "image/pull_metrics.h"
#include "image/digest.h"

namespace berth::image {
namespace {

// Registries serve manifests of a few KiB; anything this large is hostile or broken.
constexpr size_t kMaxManifestBytes = 4 << 20;
constexpr size_t kMaxConfigBytes = 8 << 20;

std::string CredentialsKey(const Credentials& c) {
  if (c.empty()) return "";
  return Sha256Of(absl::StrCat(c.username, "\n", c.password, "\n", c.auth, "\n", c.identity_token, "\n",
                               c.registry_token));
}

nlohmann::json RecordToJson(const ImageRecord& r) {
  return {{"manifestDigest", r.manifest_digest}, {"size", r.size}, {"chainIds", r.chain_ids},
          {"blobs", r.blobs}};
}

}  // namespace

struct ImageStore::PullState {
  PullProgress Snapshot() const {
    return {reference, total.load(), done.load(), layers.load(), layers_done.load()};
  }
  std::string reference;
  std::atomic<int64_t> total{0};
  std::atomic<int64_t> done{0};  // cached layers count as done
  std::atomic<int64_t> fetched{0};  // from registries only, retries included
  std::atomic<int> layers{0};
  std::atomic<int> layers_done{0};
  // Blobs and layers this pull is bringing in, which garbage collection must spare
  // until the image that holds them is committed. Guarded by ImageStore::mu_.
  std::set<std::string> leased;
};

ImageStore::ImageStore(StateDb* db, ImageStoreOptions options, std::unique_ptr<ContentStore> content,
                       std::unique_ptr<SnapshotStore> snapshots)
    : db_(db), options_(std::move(options)), content_(std::move(content)), snapshots_(std::move(snapshots)) {}

ImageStore::~ImageStore() = default;

StatusOr<std::unique_ptr<ImageStore>> ImageStore::Open(StateDb* db, ImageStoreOptions options) {
  RETURN_IF_ERROR(options.registry.Validate());
  ASSIGN_OR_RETURN(auto content, ContentStore::Open(options.dir));
  ASSIGN_OR_RETURN(auto snapshots, SnapshotStore::Open(db, options.dir + "/snapshots", options.containers_dir));
  std::unique_ptr<ImageStore> store(new ImageStore(db, std::move(options), std::move(content), std::move(snapshots)));
  RETURN_IF_ERROR(store->Load());
  // Whatever a crash left unreferenced goes now.
  RETURN_IF_ERROR(store->CollectGarbage());
  return store;
}

Status ImageStore::Load() {
  std::vector<std::pair<std::string, std::string>> rows;
  std::vector<std::pair<std::string, std::string>> names;
  RETURN_IF_ERROR(db_->Read([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto images, sql.Prepare("SELECT id, record FROM images"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, images.Step());
      if (!row) break;
      rows.emplace_back(images.ColumnText(0), images.ColumnText(1));
    }
    ASSIGN_OR_RETURN(auto q, sql.Prepare("SELECT name, image_id FROM image_names"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      names.emplace_back(q.ColumnText(0), q.ColumnText(1));
    }
    return absl::OkStatus();
  }));
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, json_text] : rows) {
    auto doc = nlohmann::json::parse(json_text, nullptr, false);
    auto config_body = content_->Read(id, kMaxConfigBytes);
    auto config = config_body.ok() ? ParseImageConfig(*config_body) : StatusOr<ImageConfig>(config_body.status());
    if (doc.is_discarded() || !config.ok()) {
      BERTH_LOG(Error) << "image record unreadable; it will not be listed" << Kv("image", id)
                       << (config.ok() ? Status(absl::DataLossError("bad record")) : config.status());
      continue;
    }
    ImageRecord record;
    record.id = id;
    record.manifest_digest = JsonString(doc, "manifestDigest");
    record.size = JsonInteger<int64_t>(doc, "size").value_or(0);
    record.chain_ids = JsonStrings(doc, "chainIds").value_or(std::vector<std::string>{});
    record.blobs = JsonStrings(doc, "blobs").value_or(std::vector<std::string>{});
    record.config = std::move(*config);
    images_[id] = std::move(record);
  }
  for (const auto& [name, id] : names) {
    if (images_.count(id)) names_[name] = id;
  }
  return absl::OkStatus();
}

bool ImageStore::IsPinned(const ImageRecord& record) const {
  for (const auto& pinned : options_.pinned) {
    auto ref = ParseReference(pinned);
    if (!ref.ok()) continue;
    for (const auto& name : record.repo_tags) {
      if (name == ref->TagRef()) return true;
    }
  }
  return false;
}

ImageRecord ImageStore::WithNames(const ImageRecord& record) {
  ImageRecord out = record;
  for (const auto& [name, id] : names_) {
    if (id != record.id) continue;
    (absl::StrContains(name, "@") ? out.repo_digests : out.repo_tags).push_back(name);
  }
  out.pinned = IsPinned(out);
  return out;
}

std::optional<std::string> ImageStore::ResolveId(absl::string_view ref_or_id) {
  if (LooksLikeImageId(ref_or_id)) {
    std::string id = absl::StartsWith(ref_or_id, "sha256:") ? std::string(ref_or_id)
                                                           : absl::StrCat("sha256:", ref_or_id);
    if (images_.count(id)) return id;
    // A 64-hex string could in principle also be a name; it is not a valid one.
    return std::nullopt;
  }
  auto ref = ParseReference(ref_or_id);
  if (!ref.ok()) return std::nullopt;
  std::string name = ref->digest.empty() ? ref->TagRef() : ref->DigestRef(ref->digest);
  auto it = names_.find(name);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

StatusOr<ImageRecord> ImageStore::Find(absl::string_view ref_or_id) {
  if (ref_or_id.empty()) return absl::InvalidArgumentError("no image named");
  std::lock_guard<std::mutex> lock(mu_);
  auto id = ResolveId(ref_or_id);
  if (!id) return absl::NotFoundError(absl::StrCat("image \"", ref_or_id, "\" not found"));
  return WithNames(images_.at(*id));
}

std::vector<ImageRecord> ImageStore::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ImageRecord> out;
  for (const auto& [id, record] : images_) out.push_back(WithNames(record));
  return out;
}

std::vector<PullProgress> ImageStore::ActivePulls() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PullProgress> out;
  for (const auto& [key, state] : pull_states_) out.push_back(state->Snapshot());
  return out;
}

StatusOr<ImageRecord> ImageStore::Pull(absl::string_view reference, const Credentials& credentials) {
  ASSIGN_OR_RETURN(Reference ref, ParseReference(reference));
  std::string key = ref.String() + CredentialsKey(credentials);
  return pulls_.Do(key, [&]() -> StatusOr<ImageRecord> {
    auto state = std::make_shared<PullState>();
    state->reference = ref.String();
    {
      std::lock_guard<std::mutex> lock(mu_);
      pull_states_[key] = state;
    }
    auto start = std::chrono::steady_clock::now();
    StatusOr<ImageRecord> result = [&] {
      PullInProgress counted;
      return PullNow(ref, credentials, *state);
    }();
    RecordPull(result.status(), state->fetched.load(), metrics::SecondsSince(start));
    {
      std::lock_guard<std::mutex> lock(mu_);
      pull_states_.erase(key);
    }
    if (result.ok()) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      BERTH_LOG(Info) << "image pulled" << Kv("image", ref.String()) << Kv("id", result->id)
                      << Kv("bytes", state->done.load()) << Kv("ms", ms.count());
    } else {
      // Whatever the failed pull brought in and no image holds goes now.
      Status gc = CollectGarbage();
      if (!gc.ok()) BERTH_LOG(Warn) << "garbage collection after failed pull" << gc;
    }
    return result;
  });
}

StatusOr<ImageRecord> ImageStore::PullNow(const Reference& ref, const Credentials& credentials,
                                          PullState& state) {
  std::vector<Endpoint> endpoints = EndpointsFor(options_.registry, ref.domain);
  std::vector<std::string> failures;
  Status last;
  bool all_not_found = true;
  for (const auto& endpoint : endpoints) {
    RegistryClient client(endpoint, ref.path, credentials);
    client.set_progress_timeout(options_.progress_timeout);
    auto record = PullFrom(client, ref, state);
    if (record.ok()) return record;
    // Content errors (a hostile layer, a digest mismatch) are not a reason to try
    // another source: they would be the same there or worse.
    if (record.status().code() == StatusCode::kInvalidArgument ||
        record.status().code() == StatusCode::kDataLoss) {
      return Annotate(record.status(), absl::StrCat("pull ", ref.String(), " from ", endpoint.base_url));
    }
    BERTH_LOG(Info) << "pull from endpoint failed" << Kv("image", ref.String())
                    << Kv("endpoint", endpoint.base_url) << record.status();
    failures.push_back(absl::StrCat(endpoint.mirror ? "mirror " : "", endpoint.base_url, ": ",
                                    record.status().message()));
    if (record.status().code() != StatusCode::kNotFound) all_not_found = false;
    last = record.status();
  }
  if (endpoints.empty()) return absl::FailedPreconditionError(absl::StrCat("no registry endpoint for ", ref.domain));
  StatusCode code = all_not_found ? StatusCode::kNotFound : last.code();
  return Status(code, absl::StrCat("pull ", ref.String(), ": ", absl::StrJoin(failures, "; ")));
}

StatusOr<ImageRecord> ImageStore::PullFrom(RegistryClient& client, const Reference& ref, PullState& state) {
  ASSIGN_OR_RETURN(FetchedManifest top, client.GetManifest(ref.digest.empty() ? ref.tag : ref.digest,
                                                           kMaxManifestBytes));
  std::vector<FetchedManifest> manifests = {top};
  ASSIGN_OR_RETURN(ManifestKind kind, ClassifyManifest(top.body, top.media_type));
  if (kind == ManifestKind::kIndex) {
    ASSIGN_OR_RETURN(auto entries, ParseIndex(top.body));
    ASSIGN_OR_RETURN(Descriptor chosen, SelectPlatform(entries, options_.platform));
    ASSIGN_OR_RETURN(FetchedManifest platform_manifest, client.GetManifest(chosen.digest, kMaxManifestBytes));
    ASSIGN_OR_RETURN(ManifestKind inner, ClassifyManifest(platform_manifest.body, platform_manifest.media_type));
    if (inner != ManifestKind::kManifest) {
      return absl::InvalidArgumentError(absl::StrCat("index entry ", chosen.digest, " is not an image manifest"));
    }
    manifests.push_back(std::move(platform_manifest));
  }
  const FetchedManifest& chosen = manifests.back();
  ASSIGN_OR_RETURN(ImageManifest manifest, ParseManifest(chosen.body));
  if (manifest.config.size > static_cast<int64_t>(kMaxConfigBytes)) {
    return absl::InvalidArgumentError(absl::StrCat("image config of ", manifest.config.size, " bytes is too large"));
  }
  std::string config_body;
  if (content_->Has(manifest.config.digest)) {
    ASSIGN_OR_RETURN(config_body, content_->Read(manifest.config.digest, kMaxConfigBytes));
  } else {
    RETURN_IF_ERROR(client.GetBlob(
        manifest.config,
        [&](const char* data, size_t size) {
          config_body.append(data, size);
          return absl::OkStatus();
        },
        [&] { config_body.clear(); }));
  }
  ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_body));
  if (config.diff_ids.size() != manifest.layers.size()) {
    return absl::InvalidArgumentError(absl::StrCat("image config lists ", config.diff_ids.size(),
                                                   " layers but the manifest has ", manifest.layers.size()));
  }
  if (!config.platform.architecture.empty() &&
      (config.platform.os != options_.platform.os ||
       config.platform.architecture != options_.platform.architecture)) {
    return absl::FailedPreconditionError(absl::StrCat("image is for ", config.platform.String(),
                                                      ", this node is ", options_.platform.String()));
  }
  ImageRecord record;
  record.id = manifest.config.digest;
  record.manifest_digest = chosen.digest;
  record.chain_ids = ChainIds(config.diff_ids);
  for (const auto& m : manifests) {
    record.blobs.push_back(m.digest);
    record.size += static_cast<int64_t>(m.body.size());
  }
  record.blobs.push_back(manifest.config.digest);
  record.size += manifest.config.size;
  for (const auto& layer : manifest.layers) {
    record.blobs.push_back(layer.digest);
    record.size += layer.size;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    state.leased.insert(record.blobs.begin(), record.blobs.end());
    state.leased.insert(record.chain_ids.begin(), record.chain_ids.end());
  }
  RETURN_IF_ERROR(FetchLayers(client, manifest, config, state));
  for (const auto& m : manifests) RETURN_IF_ERROR(content_->Put(m.digest, m.body));
  RETURN_IF_ERROR(content_->Put(manifest.config.digest, config_body));
  record.config = std::move(config);
  FaultPoint("pull-image/before-record");

  std::vector<std::string> names;
  if (!ref.tag.empty()) names.push_back(ref.TagRef());
  names.push_back(ref.DigestRef(top.digest));
  RETURN_IF_ERROR(Commit(record, names));
  FaultPoint("pull-image/recorded");
  std::lock_guard<std::mutex> lock(mu_);
  return WithNames(images_.at(record.id));
}

Status ImageStore::FetchLayers(RegistryClient& client, const ImageManifest& manifest, const ImageConfig& config,
                               PullState& state) {
  const size_t count = manifest.layers.size();
  std::vector<std::string> chain_ids = ChainIds(config.diff_ids);
  for (const auto& layer : manifest.layers) {
    RETURN_IF_ERROR(LayerCompression(layer.media_type).status());
    state.total += layer.size;
  }
  state.layers = static_cast<int>(count);
  // Each layer unpacks into its own directory, so layers download and unpack in
  // parallel, in any order.
  std::atomic<size_t> next{0};
  std::mutex error_mu;
  Status first_error;
  auto worker = [&] {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!first_error.ok()) return;
      }
      size_t i = next++;
      if (i >= count) return;
      const Descriptor& layer = manifest.layers[i];
      Status status;
      if (!snapshots_->Has(chain_ids[i])) {
        status = content_->Ingest(layer.digest, layer.size, [&](ContentStore::Writer& writer) {
          int64_t taken = 0;
          return client.GetBlob(
              layer,
              [&](const char* data, size_t size) {
                taken += static_cast<int64_t>(size);
                state.done += static_cast<int64_t>(size);
                state.fetched += static_cast<int64_t>(size);
                Status written = writer.Write(data, size);
                FaultPoint("pull-image/blob-partly-written");
                return written;
              },
              [&] {
                state.done -= taken;
                taken = 0;
                writer.Reset();
              });
        });
        if (status.ok()) {
          FaultPoint("pull-image/blob-fetched");
          auto unpack_start = std::chrono::steady_clock::now();
          status = snapshots_->Ensure(chain_ids[i], config.diff_ids[i], content_->BlobPath(layer.digest),
                                      options_.max_layer_bytes);
          if (status.ok()) RecordLayerUnpack(metrics::SecondsSince(unpack_start));
          if (status.ok()) FaultPoint("pull-image/layer-unpacked");
        }
      } else {
        state.done += layer.size;
      }
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = Annotate(status, absl::StrCat("layer ", layer.digest));
        return;
      }
      ++state.layers_done;
    }
  };
  size_t threads = std::min<size_t>(count, static_cast<size_t>(std::max(1, options_.max_concurrent_downloads)));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return first_error;
}

Status ImageStore::Commit(const ImageRecord& record, const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> orphaned;
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto put, sql.Prepare(
        "INSERT INTO images(id, record) VALUES(?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record"));
    put.Bind(1, record.id).BindBlob(2, RecordToJson(record).dump());
    RETURN_IF_ERROR(put.Run());
    for (const auto& blob : record.blobs) {
      ASSIGN_OR_RETURN(auto q, sql.Prepare("INSERT OR IGNORE INTO image_refs(image_id, kind, ref) VALUES(?, 'blob', ?)"));
      q.Bind(1, record.id).Bind(2, blob);
      RETURN_IF_ERROR(q.Run());
    }
    for (const auto& chain_id : record.chain_ids) {
      ASSIGN_OR_RETURN(auto q, sql.Prepare("INSERT OR IGNORE INTO image_refs(image_id, kind, ref) VALUES(?, 'layer', ?)"));
      q.Bind(1, record.id).Bind(2, chain_id);
      RETURN_IF_ERROR(q.Run());
    }
    for (const auto& name : names) {
      // A tag that pointed at another image moves here.
      ASSIGN_OR_RETURN(auto q, sql.Prepare(
          "INSERT INTO image_names(name, image_id) VALUES(?, ?) "
          "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id"));
      q.Bind(1, name).Bind(2, record.id);
      RETURN_IF_ERROR(q.Run());
    }
    // An image left without any name is gone for CRI; drop it.
    ASSIGN_OR_RETURN(auto q, sql.Prepare(
        "SELECT id FROM images WHERE id NOT IN (SELECT image_id FROM image_names)"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      orphaned.push_back(q.ColumnText(0));
    }
    for (const auto& id : orphaned) {
      ASSIGN_OR_RETURN(auto del, sql.Prepare("DELETE FROM images WHERE id = ?"));
      del.Bind(1, id);
      RETURN_IF_ERROR(del.Run());
    }
    return absl::OkStatus();
  }));
  images_[record.id] = record;
  for (const auto& name : names) names_[name] = record.id;
  for (const auto& id : orphaned) images_.erase(id);
  return absl::OkStatus();
}

Status ImageStore::Remove(absl::string_view ref_or_id) {
  if (ref_or_id.empty()) return absl::InvalidArgumentError("no image named");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto id = ResolveId(ref_or_id);
    if (!id) return absl::OkStatus();
    RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
      ASSIGN_OR_RETURN(auto del, sql.Prepare("DELETE FROM images WHERE id = ?"));
      del.Bind(1, *id);
      return del.Run();
    }));
    images_.erase(*id);
    for (auto it = names_.begin(); it != names_.end();) {
      it = it->second == *id ? names_.erase(it) : std::next(it);
    }
  }
  return CollectGarbage();
}

Status ImageStore::CollectGarbage() {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> keep;
  for (const auto& [key, state] : pull_states_) keep.insert(state->leased.begin(), state->leased.end());
  RETURN_IF_ERROR(snapshots_->CollectGarbage(keep));
  RETURN_IF_ERROR(db_->Read([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("SELECT DISTINCT ref FROM image_refs WHERE kind = 'blob'"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      keep.insert(q.ColumnText(0));
    }
    return absl::OkStatus();
  }));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir + "/blobs/sha256", ec)) {
    std::string digest = "sha256:" + entry.path().filename().string();
    if (!keep.count(digest)) RETURN_IF_ERROR(content_->Delete(digest));
  }
  return absl::OkStatus();
}

}  // namespace berth::image
