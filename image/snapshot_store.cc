#include "image/snapshot_store.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "base/log.h"
#include "image/layer_unpacker.h"

namespace berth::image {

std::string RootfsLayers::MountData() const {
  return absl::StrCat("lowerdir=", absl::StrJoin(lower_dirs, ":"), ",upperdir=", upper_dir,
                      ",workdir=", work_dir);
}

StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(StateDb* db, const std::string& dir,
                                                             const std::string& containers_dir) {
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::unique_ptr<SnapshotStore> store(new SnapshotStore(db, dir, containers_dir));
  RETURN_IF_ERROR(store->RemoveOrphans());
  return store;
}

Status SnapshotStore::RemoveOrphans() {
  std::set<std::string> listed;
  RETURN_IF_ERROR(db_->Read([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto stmt, sql.Prepare("SELECT snapshot_id FROM layers"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      listed.insert(absl::StrCat(stmt.ColumnInt(0)));
    }
    return absl::OkStatus();
  }));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (!listed.count(name)) {
      BERTH_LOG(Info) << "removing unfinished or unlisted layer directory" << Kv("dir", entry.path().string());
      RETURN_IF_ERROR(RemoveAll(entry.path().string()));
    }
  }
  return absl::OkStatus();
}

StatusOr<std::string> SnapshotStore::LayerDir(const std::string& chain_id) {
  std::string dir;
  RETURN_IF_ERROR(db_->Read([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto stmt, sql.Prepare("SELECT snapshot_id FROM layers WHERE chain_id = ?"));
    stmt.Bind(1, chain_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::NotFoundError(absl::StrCat("layer ", chain_id, " is not unpacked"));
    dir = absl::StrCat(dir_, "/", stmt.ColumnInt(0));
    return absl::OkStatus();
  }));
  return dir;
}

bool SnapshotStore::Has(const std::string& chain_id) { return LayerDir(chain_id).ok(); }

Status SnapshotStore::Ensure(const std::string& chain_id, const std::string& diff_id,
                             const std::string& blob_path, uint64_t max_bytes) {
  return unpacks_.Do(chain_id, [&] {
    return Has(chain_id) ? absl::OkStatus() : Unpack(chain_id, diff_id, blob_path, max_bytes);
  });
}

Status SnapshotStore::Unpack(const std::string& chain_id, const std::string& diff_id,
                             const std::string& blob_path, uint64_t max_bytes) {
  std::string staging = dir_ + "/staging-XXXXXX";
  if (::mkdtemp(staging.data()) == nullptr) return ErrnoError(absl::StrCat("create ", staging));
  bool kept = false;
  absl::Cleanup remove_staging = [&] {
    if (!kept) (void)RemoveAll(staging);
  };
  // The layer root's own mode: what a directory of an image root has.
  if (::chmod(staging.c_str(), 0755) != 0) return ErrnoError(absl::StrCat("chmod ", staging));
  auto unpacked = UnpackLayer(blob_path, staging, max_bytes);
  if (!unpacked.ok()) return Annotate(unpacked.status(), absl::StrCat("unpack layer ", diff_id));
  if (unpacked->diff_id != diff_id) {
    return absl::DataLossError(absl::StrCat("layer unpacked to ", unpacked->diff_id,
                                            " but the image config says ", diff_id));
  }
  return db_->Transaction([&](SqliteDatabase& sql) -> Status {
    // Snapshot ids only grow, so a directory name is never reused.
    ASSIGN_OR_RETURN(auto next, sql.Prepare("SELECT value FROM settings WHERE key = 'next_snapshot_id'"));
    ASSIGN_OR_RETURN(bool row, next.Step());
    int64_t id = 1;
    if (row && !absl::SimpleAtoi(next.ColumnText(0), &id)) id = 1;
    ASSIGN_OR_RETURN(auto bump, sql.Prepare(
        "INSERT INTO settings(key, value) VALUES('next_snapshot_id', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    bump.Bind(1, absl::StrCat(id + 1));
    RETURN_IF_ERROR(bump.Run());
    ASSIGN_OR_RETURN(auto insert, sql.Prepare(
        "INSERT INTO layers(chain_id, snapshot_id, diff_id, size) VALUES(?, ?, ?, ?)"));
    insert.Bind(1, chain_id).Bind(2, id).Bind(3, diff_id).Bind(4, static_cast<int64_t>(unpacked->file_bytes));
    RETURN_IF_ERROR(insert.Run());
    std::string final_dir = absl::StrCat(dir_, "/", id);
    if (::rename(staging.c_str(), final_dir.c_str()) != 0) {
      return ErrnoError(absl::StrCat("rename layer to ", final_dir));
    }
    kept = true;
    return absl::OkStatus();
  });
}

StatusOr<uint64_t> SnapshotStore::Size(const std::vector<std::string>& chain_ids) {
  uint64_t total = 0;
  RETURN_IF_ERROR(db_->Read([&](SqliteDatabase& sql) -> Status {
    for (const auto& id : chain_ids) {
      ASSIGN_OR_RETURN(auto q, sql.Prepare("SELECT size FROM layers WHERE chain_id = ?"));
      q.Bind(1, id);
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) total += static_cast<uint64_t>(q.ColumnInt(0));
    }
    return absl::OkStatus();
  }));
  return total;
}

StatusOr<std::vector<std::string>> SnapshotStore::HoldLayers(const std::string& holder,
                                                             const std::vector<std::string>& chain_ids) {
  std::vector<std::string> dirs;
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    for (auto it = chain_ids.rbegin(); it != chain_ids.rend(); ++it) {
      ASSIGN_OR_RETURN(auto q, sql.Prepare("SELECT snapshot_id FROM layers WHERE chain_id = ?"));
      q.Bind(1, *it);
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return absl::NotFoundError(absl::StrCat("layer ", *it, " is not unpacked"));
      dirs.push_back(absl::StrCat(dir_, "/", q.ColumnInt(0)));
      ASSIGN_OR_RETURN(auto hold, sql.Prepare(
          "INSERT OR IGNORE INTO container_layers(container_id, chain_id) VALUES(?, ?)"));
      hold.Bind(1, holder).Bind(2, *it);
      RETURN_IF_ERROR(hold.Run());
    }
    return absl::OkStatus();
  }));
  return dirs;
}

Status SnapshotStore::ReleaseLayers(const std::string& holder) {
  return db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("DELETE FROM container_layers WHERE container_id = ?"));
    q.Bind(1, holder);
    return q.Run();
  });
}

StatusOr<RootfsLayers> SnapshotStore::PrepareRootfs(const std::string& container_id,
                                                    const std::vector<std::string>& chain_ids) {
  RootfsLayers layers;
  std::string base = absl::StrCat(containers_dir_, "/", container_id);
  layers.upper_dir = base + "/upper";
  layers.work_dir = base + "/work";
  ASSIGN_OR_RETURN(layers.lower_dirs, HoldLayers(container_id, chain_ids));
  if (layers.lower_dirs.empty()) {
    // An image without layers still needs a lower directory for overlayfs.
    std::string empty = base + "/empty";
    RETURN_IF_ERROR(MakeDirs(empty, 0755));
    layers.lower_dirs.push_back(empty);
  }
  RETURN_IF_ERROR(MakeDirs(layers.upper_dir, 0755));
  RETURN_IF_ERROR(MakeDirs(layers.work_dir, 0700));
  return layers;
}

Status SnapshotStore::RemoveRootfs(const std::string& container_id) {
  RETURN_IF_ERROR(RemoveAll(absl::StrCat(containers_dir_, "/", container_id)));
  return ReleaseLayers(container_id);
}

Status SnapshotStore::CollectGarbage(const std::set<std::string>& keep) {
  std::vector<std::pair<std::string, int64_t>> unused;
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare(
        "SELECT chain_id, snapshot_id FROM layers WHERE "
        "chain_id NOT IN (SELECT ref FROM image_refs WHERE kind = 'layer') AND "
        "chain_id NOT IN (SELECT chain_id FROM container_layers)"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      std::string chain_id = q.ColumnText(0);
      if (!keep.count(chain_id)) unused.emplace_back(chain_id, q.ColumnInt(1));
    }
    for (const auto& [chain_id, id] : unused) {
      ASSIGN_OR_RETURN(auto del, sql.Prepare("DELETE FROM layers WHERE chain_id = ?"));
      del.Bind(1, chain_id);
      RETURN_IF_ERROR(del.Run());
    }
    return absl::OkStatus();
  }));
  // Rows go first: a directory left behind by a crash here is an orphan, removed at open.
  for (const auto& [chain_id, id] : unused) {
    RETURN_IF_ERROR(RemoveAll(absl::StrCat(dir_, "/", id)));
  }
  return absl::OkStatus();
}

}  // namespace berth::image
