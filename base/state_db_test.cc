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
    auto db = StateDb::Open(path_);
    ASSERT_TRUE(db.ok()) << db.status();
    EXPECT_EQ((*db)->schema_version(), StateDb::CurrentSchemaVersion());
    ASSERT_TRUE((*db)->PutSetting("pod_cidr", "10.1.0.0/16").ok());
    ASSERT_TRUE((*db)->PutSetting("pod_cidr", "10.2.0.0/16").ok());
  }
  auto db = StateDb::Open(path_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto value = (*db)->GetSetting("pod_cidr");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->value_or(""), "10.2.0.0/16");
  auto missing = (*db)->GetSetting("nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StateDbTest, RefusesDatabaseFromNewerBerth) {
  {
    auto db = StateDb::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->DbForTest().Exec("PRAGMA user_version = 999").ok());
  }
  auto db = StateDb::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(db.status().message().find("newer"), absl::string_view::npos) << db.status();
}

TEST_F(StateDbTest, RefusesCorruptFileWithoutTouchingIt) {
  const std::string garbage(8192, 'x');
  ASSERT_TRUE(WriteFileAtomically(path_, garbage).ok());
  auto db = StateDb::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find(path_), absl::string_view::npos) << db.status();
  EXPECT_NE(db.status().message().find("will not reset"), absl::string_view::npos) << db.status();
  auto after = ReadFile(path_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, garbage);
}

TEST_F(StateDbTest, FailedTransactionLeavesNothing) {
  auto db = StateDb::Open(path_);
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
