#include "base/file_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

namespace berth {
namespace {

std::string MakeTempDir() {
  char tmpl[] = "/tmp/berth-fileutil-XXXXXX";
  return ::mkdtemp(tmpl) ? tmpl : "";
}

TEST(FileUtilTest, AtomicWriteReplacesContentAndLeavesNoTemporaryFile) {
  std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  std::string path = dir + "/state.json";
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second", 0600).ok());
  EXPECT_EQ(ReadFile(path).value_or(""), "second");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
  std::filesystem::remove_all(dir);
}

TEST(FileUtilTest, ReadMissingFileIsNotFound) {
  auto data = ReadFile("/nonexistent/berth/file");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound);
  EXPECT_NE(data.status().message().find("/nonexistent/berth/file"), absl::string_view::npos);
}

TEST(FileUtilTest, MakeDirsCreatesNestedAndRefusesFile) {
  std::string dir = MakeTempDir();
  ASSERT_TRUE(MakeDirs(dir + "/a/b/c").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/a/b/c"));
  ASSERT_TRUE(WriteFileAtomically(dir + "/file", "x").ok());
  EXPECT_FALSE(MakeDirs(dir + "/file").ok());
  ASSERT_TRUE(RemoveAll(dir).ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace berth
