#include "base/state_db.h"

#include <array>
#include "absl/strings/string_view.h"

namespace berth {
namespace {

// Migration N (1-based) takes the schema from version N-1 to N. Append only: a
// shipped migration is never edited, since databases in the field already ran it.
constexpr std::array<absl::string_view, 2> kMigrations = {
    // 1: the first schema. Records are serialized protobuf messages of the CRI types
    // plus berth's own fields; the columns are what lookups and uniqueness need.
    R"sql(
    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    CREATE TABLE pods (
      id          TEXT PRIMARY KEY,
      name        TEXT NOT NULL UNIQUE,   -- name_namespace_uid_attempt, as kubelet reserves it
      created_at  INTEGER NOT NULL,       -- unix nanoseconds
      state       INTEGER NOT NULL,
      record      BLOB NOT NULL
    );
    CREATE TABLE containers (
      id          TEXT PRIMARY KEY,
      pod_id      TEXT NOT NULL REFERENCES pods(id),
      name        TEXT NOT NULL UNIQUE,
      created_at  INTEGER NOT NULL,
      state       INTEGER NOT NULL,
      record      BLOB NOT NULL
    );
    CREATE INDEX containers_by_pod ON containers(pod_id);
    CREATE TABLE images (
      id          TEXT PRIMARY KEY,       -- config digest
      record      BLOB NOT NULL
    );
    CREATE TABLE image_names (
      name        TEXT PRIMARY KEY,       -- repo:tag or repo@digest
      image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
    );
    )sql",
    // 2: image content and layer snapshots. An image holds references to the blobs
    // and layers it is made of; a container holds the layers under its rootfs. What
    // nothing references is garbage.
    R"sql(
    CREATE TABLE layers (
      chain_id    TEXT PRIMARY KEY,
      snapshot_id INTEGER NOT NULL UNIQUE,  -- directory name under images/snapshots
      diff_id     TEXT NOT NULL,
      size        INTEGER NOT NULL          -- bytes of files unpacked
    );
    CREATE TABLE image_refs (
      image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      kind        TEXT NOT NULL,            -- 'blob' or 'layer'
      ref         TEXT NOT NULL,            -- a digest or a chain ID
      PRIMARY KEY (image_id, kind, ref)
    );
    CREATE INDEX image_refs_by_ref ON image_refs(kind, ref);
    CREATE TABLE container_layers (
      container_id TEXT NOT NULL,
      chain_id     TEXT NOT NULL,
      PRIMARY KEY (container_id, chain_id)
    );
    )sql",
};

StatusOr<int> ReadUserVersion(SqliteDatabase& db) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError("PRAGMA user_version returned no row");
  return static_cast<int>(stmt.ColumnInt(0));
}

Status CheckIntegrity(SqliteDatabase& db) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare("PRAGMA quick_check"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::DataLossError("integrity check returned nothing");
  std::string verdict = stmt.ColumnText(0);
  if (verdict != "ok") {
    return absl::DataLossError(absl::StrCat("integrity check failed: ", verdict));
  }
  return absl::OkStatus();
}

}  // namespace

int StateDb::CurrentSchemaVersion() { return static_cast<int>(kMigrations.size()); }

StatusOr<std::unique_ptr<StateDb>> StateDb::Open(const std::string& path) {
  // Whatever makes the file unreadable, say so and leave it for the operator.
  auto refuse = [&path](const Status& status) {
    return Status(status.code(),
                  absl::StrCat("state database ", path, " is unusable: ", status.message(),
                               "; berthd will not reset it: move it away to start with empty "
                               "state, or restore it from a backup"));
  };
  auto opened = SqliteDatabase::Open(path, /*create=*/true);
  if (!opened.ok()) return refuse(opened.status());
  std::unique_ptr<SqliteDatabase> db = std::move(opened).value();
  auto version = ReadUserVersion(*db);
  if (!version.ok()) return refuse(version.status());
  Status integrity = CheckIntegrity(*db);
  if (!integrity.ok()) return refuse(integrity);
  if (*version > CurrentSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state database ", path, " has schema version ", *version,
        ", newer than this berthd understands (", CurrentSchemaVersion(),
        "): it was written by a newer berth; run that version or restore a backup"));
  }
  for (int v = *version; v < CurrentSchemaVersion(); ++v) {
    ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(db.get()));
    Status applied = db->Exec(kMigrations[static_cast<size_t>(v)]);
    if (applied.ok()) applied = db->Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
    if (applied.ok()) applied = txn.Commit();
    if (!applied.ok()) {
      return Annotate(applied, absl::StrCat("migrate state database ", path, " to version ", v + 1));
    }
  }
  return std::unique_ptr<StateDb>(new StateDb(std::move(db), CurrentSchemaVersion()));
}

Status StateDb::Transaction(const std::function<Status(SqliteDatabase& db)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(db_.get()));
  RETURN_IF_ERROR(fn(*db_));
  return txn.Commit();
}

Status StateDb::Read(const std::function<Status(SqliteDatabase& db)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  return fn(*db_);
}

StatusOr<std::optional<std::string>> StateDb::GetSetting(const std::string& key) {
  std::optional<std::string> value;
  RETURN_IF_ERROR(Read([&](SqliteDatabase& db) -> Status {
    ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT value FROM settings WHERE key = ?"));
    stmt.Bind(1, key);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) value = stmt.ColumnText(0);
    return absl::OkStatus();
  }));
  return value;
}

Status StateDb::PutSetting(const std::string& key, const std::string& value) {
  return Transaction([&](SqliteDatabase& db) -> Status {
    ASSIGN_OR_RETURN(auto stmt, db.Prepare(
        "INSERT INTO settings(key, value) VALUES(?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    stmt.Bind(1, key).Bind(2, value);
    return stmt.Run();
  });
}

}  // namespace berth
