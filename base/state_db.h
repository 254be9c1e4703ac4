// berthd's persistent state: one SQLite database under the state root.
//
// The schema is versioned with SQLite's user_version. Open() applies every migration
// newer than the file's version, each in its own transaction, and refuses a file that
// is corrupt or was written by a newer berth: state is never reset behind the
// operator's back. Each module owns its own tables (pods/ the pod and container
// tables, image/ the image tables); the migrations live here so that their order is
// one list.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/sqlite.h"
#include "base/status.h"

namespace berth {

class StateDb {
 public:
  // The schema version this build writes.
  static int CurrentSchemaVersion();

  // Opens or creates the database at path and migrates it.
  static StatusOr<std::unique_ptr<StateDb>> Open(const std::string& path);

  // Runs fn inside one transaction with the database to itself: committed when fn
  // succeeds, rolled back when it fails. Every module writes through here, so
  // transactions of concurrent RPCs never interleave on the one connection.
  Status Transaction(const std::function<Status(SqliteDatabase& db)>& fn);
  // Runs fn (reads) with the database to itself.
  Status Read(const std::function<Status(SqliteDatabase& db)>& fn);

  // For tests and migrations only: the connection without the lock.
  SqliteDatabase& DbForTest() { return *db_; }
  int schema_version() const { return schema_version_; }

  // Node-wide settings kept across restarts (e.g. the pod CIDR kubelet pushes).
  StatusOr<std::optional<std::string>> GetSetting(const std::string& key);
  Status PutSetting(const std::string& key, const std::string& value);

 private:
  explicit StateDb(std::unique_ptr<SqliteDatabase> db, int version)
      : db_(std::move(db)), schema_version_(version) {}
  std::mutex mu_;
  std::unique_ptr<SqliteDatabase> db_;
  int schema_version_;
};

}  // namespace berth
