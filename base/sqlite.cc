#include "base/sqlite.h"

#include <utility>

namespace berth {

StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                               bool create) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return absl::UnavailableError(absl::StrCat("open database ", path, ": ", msg));
  }
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw, path));
  // Several RPC threads may write at once: wait on the lock instead of failing.
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"));
  // WAL keeps readers off writers; it needs a writable directory, which the state root is.
  RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL;"));
  return db;
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close_v2(db_); }

Status SqliteDatabase::Error(absl::string_view context, int rc) const {
  StatusCode code = StatusCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = StatusCode::kDataLoss; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = StatusCode::kUnavailable; break;
    case SQLITE_CONSTRAINT: code = StatusCode::kAlreadyExists; break;
    case SQLITE_FULL:
    case SQLITE_IOERR: code = StatusCode::kResourceExhausted; break;
    default: break;
  }
  return Status(code, absl::StrCat(context, ": ", sqlite3_errmsg(db_), " (database ", path_, ")"));
}

Status SqliteDatabase::Exec(absl::string_view sql) {
  std::string copy(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status status = Error("sql", rc);
    sqlite3_free(err);
    return status;
  }
  return absl::OkStatus();
}

StatusOr<SqliteStatement> SqliteDatabase::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(absl::StrCat("prepare \"", sql, "\""), rc);
  return SqliteStatement(this, stmt);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::Bind(int index, absl::string_view text) {
  int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(int index, absl::string_view blob) {
  int rc = sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error("bind", rc);
  return *this;
}

StatusOr<bool> SqliteStatement::Step() {
  RETURN_IF_ERROR(bind_error_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(absl::StrCat("step \"", sqlite3_sql(stmt_), "\""), rc);
}

Status SqliteStatement::Run() {
  ASSIGN_OR_RETURN(bool row, Step());
  (void)row;
  return absl::OkStatus();
}

int64_t SqliteStatement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::ColumnText(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

StatusOr<SqliteTransaction> SqliteTransaction::Begin(SqliteDatabase* db) {
  RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  return SqliteTransaction(db);
}

SqliteTransaction::~SqliteTransaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status SqliteTransaction::Commit() {
  RETURN_IF_ERROR(db_->Exec("COMMIT"));
  db_ = nullptr;
  return absl::OkStatus();
}

}  // namespace berth
