#include "base/state_db.h"

#include "absl/strings/string_view.h"

namespace berth {
namespace {

// The node settings, base's own table.
const Schema kBaseSchema = {"base", {R"sql(
    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
    )sql"}};

// user_version says how the file is laid out: 1 and 2 were one list of migrations
// for every module (base, pods and images 1; images 2 at file version 2); 3 keeps a
// version per module in schema_versions.
constexpr int kPerModuleLayout = 3;

Status StartPerModuleLayout(SqliteDatabase& db, int file_version) {
  RETURN_IF_ERROR(db.Exec("CREATE TABLE schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)"));
  if (file_version >= 1) {
    // What the one list had applied, by module.
    RETURN_IF_ERROR(db.Exec(absl::StrCat("INSERT INTO schema_versions VALUES ('base', 1), ('pods', 1), ('images', ",
                                         file_version, ")")));
  }
  return db.Exec(absl::StrCat("PRAGMA user_version = ", kPerModuleLayout));
}

StatusOr<int> ModuleVersion(SqliteDatabase& db, const std::string& module) {
  ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT version FROM schema_versions WHERE module = ?"));
  stmt.Bind(1, module);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.ColumnInt(0)) : 0;
}

Status Migrate(SqliteDatabase& db, const Schema& schema, const std::string& path, std::map<std::string, int>& versions) {
  ASSIGN_OR_RETURN(int version, ModuleVersion(db, schema.module));
  const int known = static_cast<int>(schema.migrations.size());
  if (version > known) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state database ", path, " has ", schema.module, " schema version ", version,
        ", newer than this berthd understands (", known,
        "): it was written by a newer berth; run that version or restore a backup"));
  }
  for (int v = version; v < known; ++v) {
    ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(&db));
    Status applied = db.Exec(schema.migrations[static_cast<size_t>(v)]);
    if (applied.ok()) {
      auto stmt = db.Prepare(
          "INSERT INTO schema_versions(module, version) VALUES(?, ?) "
          "ON CONFLICT(module) DO UPDATE SET version = excluded.version");
      applied = stmt.status();
      if (applied.ok()) {
        stmt->Bind(1, schema.module).Bind(2, int64_t{v + 1});
        applied = stmt->Run();
      }
    }
    if (applied.ok()) applied = txn.Commit();
    if (!applied.ok()) {
      return Annotate(applied, absl::StrCat("migrate the ", schema.module, " tables of state database ", path,
                                            " to version ", v + 1));
    }
  }
  versions[schema.module] = known;
  return absl::OkStatus();
}

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

StatusOr<std::unique_ptr<StateDb>> StateDb::Open(const std::string& path, const std::vector<const Schema*>& modules) {
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
  if (*version > kPerModuleLayout) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state database ", path, " has layout version ", *version, ", newer than this berthd understands (",
        kPerModuleLayout, "): it was written by a newer berth; run that version or restore a backup"));
  }
  if (*version < kPerModuleLayout) {
    ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(db.get()));
    Status started = StartPerModuleLayout(*db, *version);
    if (started.ok()) started = txn.Commit();
    if (!started.ok()) return Annotate(started, absl::StrCat("give state database ", path, " per-module versions"));
  }
  std::map<std::string, int> versions;
  RETURN_IF_ERROR(Migrate(*db, kBaseSchema, path, versions));
  for (const Schema* schema : modules) RETURN_IF_ERROR(Migrate(*db, *schema, path, versions));
  return std::unique_ptr<StateDb>(new StateDb(std::move(db), std::move(versions)));
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
