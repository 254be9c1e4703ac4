// berthd's persistent state: one SQLite database under the state root.
//
// Each module owns its tables and their migrations (a Schema: pods/ the pod and
// container records, image/ the images and layers, base the node settings), and
// each is versioned on its own in the schema_versions table. Open() applies every
// migration newer than a module's version, each in its own transaction, and refuses
// a file that is corrupt or was written by a newer berth: state is never reset
// behind the operator's back.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/sqlite.h"
#include "base/status.h"

namespace berth {

// One module's tables. Migration N (1-based) takes them from version N-1 to N.
// Append only: a shipped migration is never edited, since databases in the field
// already ran it.
struct Schema {
  std::string module;
  std::vector<absl::string_view> migrations;
};

class StateDb {
 public:
  // Opens or creates the database at path and migrates the node settings and the
  // modules' tables to what this build writes.
  static StatusOr<std::unique_ptr<StateDb>> Open(const std::string& path, const std::vector<const Schema*>& modules);

  // Runs fn inside one transaction with the database to itself: committed when fn
  // succeeds, rolled back when it fails. Every module writes through here, so
  // transactions of concurrent RPCs never interleave on the one connection.
  Status Transaction(const std::function<Status(SqliteDatabase& db)>& fn);
  // Runs fn (reads) with the database to itself.
  Status Read(const std::function<Status(SqliteDatabase& db)>& fn);

  // For tests and migrations only: the connection without the lock.
  SqliteDatabase& DbForTest() { return *db_; }
  // Each module's schema version ("base" included).
  const std::map<std::string, int>& schema_versions() const { return versions_; }

  // Node-wide settings kept across restarts (e.g. the pod CIDR kubelet pushes).
  StatusOr<std::optional<std::string>> GetSetting(const std::string& key);
  Status PutSetting(const std::string& key, const std::string& value);

 private:
  StateDb(std::unique_ptr<SqliteDatabase> db, std::map<std::string, int> versions)
      : db_(std::move(db)), versions_(std::move(versions)) {}
  std::mutex mu_;
  std::unique_ptr<SqliteDatabase> db_;
  std::map<std::string, int> versions_;
};

}  // namespace berth
