#include "base/state_db.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/file_util.h"

namespace berth {
namespace {

class StateDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-statedb-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/berth.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(StateDbTest, CreatesSchemaAndKeepsSettingsAcrossReopen) {
  {
    auto db = StateDb::Open(path_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_EQ((*db)->schema_versions().at("base"), 1);
    ASSERT_TRUE((*db)->PutSetting("pod_cidr", "10.1.0.0/16").ok());
    ASSERT_TRUE((*db)->PutSetting("pod_cidr", "10.2.0.0/16").ok());
  }
  auto db = StateDb::Open(path_, {});
  ASSERT_TRUE(db.ok()) << db.status();
  auto value = (*db)->GetSetting("pod_cidr");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->value_or(""), "10.2.0.0/16");
  auto missing = (*db)->GetSetting("nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

// Two modules of a test's own, the second with two migrations.
const Schema kWidgets = {"widgets", {"CREATE TABLE widgets (id TEXT PRIMARY KEY);"}};
const Schema kGadgets = {"gadgets", {"CREATE TABLE gadgets (id TEXT PRIMARY KEY);",
                                     "ALTER TABLE gadgets ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"}};

TEST_F(StateDbTest, EachModuleMigratesItsOwnTables) {
  {
    const Schema first_gadgets = {"gadgets", {kGadgets.migrations[0]}};
    auto db = StateDb::Open(path_, {&kWidgets, &first_gadgets});
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_EQ((*db)->schema_versions().at("gadgets"), 1);
    ASSERT_TRUE((*db)->DbForTest().Exec("INSERT INTO gadgets(id) VALUES('g1')").ok());
  }
  auto db = StateDb::Open(path_, {&kWidgets, &kGadgets});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->schema_versions(), (std::map<std::string, int>{{"base", 1}, {"gadgets", 2}, {"widgets", 1}}));
  EXPECT_TRUE((*db)->DbForTest().Exec("UPDATE gadgets SET size = 3 WHERE id = 'g1'").ok()) << "migration 2 ran";
}

TEST_F(StateDbTest, AFileOfTheOneListLayoutKeepsItsRecords) {
  {
    // What berth wrote before modules had versions of their own: file version 2,
    // every table made.
    auto sql = SqliteDatabase::Open(path_, /*create=*/true);
    ASSERT_TRUE(sql.ok());
    ASSERT_TRUE((*sql)->Exec("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                             "CREATE TABLE widgets (id TEXT PRIMARY KEY);"
                             "INSERT INTO settings VALUES ('pod_cidr', '10.1.0.0/16');"
                             "PRAGMA user_version = 2;")
                    .ok());
  }
  const Schema pods = {"pods", {"CREATE TABLE widgets (id TEXT PRIMARY KEY);"}};
  const Schema images = {"images", {"SELECT 1;", "SELECT 2;", "CREATE TABLE extra (id TEXT);"}};
  auto db = StateDb::Open(path_, {&pods, &images});
  ASSERT_TRUE(db.ok()) << db.status() << " (a table made twice means the old versions were not carried over)";
  EXPECT_EQ((*db)->schema_versions().at("images"), 3) << "2 carried over, 3 applied";
  EXPECT_EQ((*(*db)->GetSetting("pod_cidr")).value_or(""), "10.1.0.0/16");
}

TEST_F(StateDbTest, RefusesAModuleFromNewerBerth) {
  {
    auto db = StateDb::Open(path_, {&kGadgets});
    ASSERT_TRUE(db.ok());
  }
  const Schema older = {"gadgets", {kGadgets.migrations[0]}};
  auto db = StateDb::Open(path_, {&older});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(db.status().message().find("gadgets schema version 2"), absl::string_view::npos) << db.status();
}

TEST_F(StateDbTest, RefusesDatabaseFromNewerBerth) {
  {
    auto db = StateDb::Open(path_, {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->DbForTest().Exec("PRAGMA user_version = 999").ok());
  }
  auto db = StateDb::Open(path_, {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(db.status().message().find("newer"), absl::string_view::npos) << db.status();
}

TEST_F(StateDbTest, RefusesCorruptFileWithoutTouchingIt) {
  const std::string garbage(8192, 'x');
  ASSERT_TRUE(WriteFileAtomically(path_, garbage).ok());
  auto db = StateDb::Open(path_, {});
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find(path_), absl::string_view::npos) << db.status();
  EXPECT_NE(db.status().message().find("will not reset"), absl::string_view::npos) << db.status();
  auto after = ReadFile(path_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, garbage);
}

TEST_F(StateDbTest, FailedTransactionLeavesNothing) {
  auto db = StateDb::Open(path_, {});
  ASSERT_TRUE(db.ok());
  Status status = (*db)->Transaction([](SqliteDatabase& sql) -> Status {
    RETURN_IF_ERROR(sql.Exec("INSERT INTO settings(key, value) VALUES('k', 'v')"));
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  auto value = (*db)->GetSetting("k");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
}

}  // namespace
}  // namespace berth
