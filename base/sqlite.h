// A thin RAII layer over SQLite's C API: a connection, prepared statements and
// transactions, with Status errors that carry SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "base/status.h"

namespace berth {

class SqliteStatement;

class SqliteDatabase {
 public:
  // Opens (creating if asked) the database file; WAL journal, foreign keys on.
  static StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path, bool create);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Runs one or more statements that return no rows.
  Status Exec(absl::string_view sql);
  StatusOr<SqliteStatement> Prepare(absl::string_view sql);

  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }
  // The last error of this connection as a Status with the given context.
  Status Error(absl::string_view context, int rc) const;

 private:
  SqliteDatabase(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// A prepared statement. Bind parameters are 1-based, columns 0-based, as in SQLite.
class SqliteStatement {
 public:
  SqliteStatement(SqliteDatabase* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  SqliteStatement& Bind(int index, absl::string_view text);
  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& BindBlob(int index, absl::string_view blob);
  SqliteStatement& BindNull(int index);

  // Advances to the next row: true with a row, false when done.
  StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  SqliteDatabase* db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() succeeded.
class SqliteTransaction {
 public:
  static StatusOr<SqliteTransaction> Begin(SqliteDatabase* db);
  SqliteTransaction(SqliteTransaction&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)) {}
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();
  Status Commit();

 private:
  explicit SqliteTransaction(SqliteDatabase* db) : db_(db) {}
  SqliteDatabase* db_;
};

}  // namespace berth
