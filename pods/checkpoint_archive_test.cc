#include "pods/checkpoint_archive.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "image/layer_unpacker.h"

namespace berth::pods {
namespace {

class CheckpointArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST(CheckpointedContainerTest, RoundTripsWithPodmansFieldNames) {
  CheckpointedContainer c;
  c.id = "abc";
  c.name = "counter";
  c.image = "registry.example/busybox:1";
  c.image_ref = "sha256:0123";
  c.image_name = "registry.example/busybox:1";
  c.runtime = "runc";
  c.created_at = 1'700'000'000'123'456'789;
  c.checkpointed_at = 1'700'000'100'000'000'000;
  std::string json = CheckpointedContainerJson(c);
  for (const char* key : {"\"rootfsImageRef\"", "\"rootfsImageName\"", "\"checkpointedTime\"", "\"createdTime\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
  auto parsed = ParseCheckpointedContainer(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, c.id);
  EXPECT_EQ(parsed->image_ref, c.image_ref);
  EXPECT_EQ(parsed->created_at, c.created_at);
  EXPECT_EQ(parsed->checkpointed_at, c.checkpointed_at);

  EXPECT_EQ(ParseCheckpointedContainer("[1]").status().code(), StatusCode::kInvalidArgument);
  auto no_image = ParseCheckpointedContainer(R"({"id":"x","name":"y"})");
  EXPECT_EQ(no_image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_image.status().message().find("names no image"), std::string::npos) << no_image.status();
}

TEST(PodOptionsTest, RoundTrips) {
  std::map<std::string, std::string> archives = {{"web", "web.tar"}, {"side car", "0123abcd.tar"}};
  auto parsed = ParsePodOptions(PodOptionsJson(archives));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, archives);
}

TEST(PodOptionsTest, RefusesWhatBerthDidNotWrite) {
  // A pod checkpoint may come from anywhere: fields of another type are refused,
  // not thrown at berthd, and no archive name leads out of the directory.
  for (const char* text : {"", "[]", R"({"version":1})", R"({"version":1,"containers":[]})",
                           R"({"version":"1","containers":{}})", R"({"version":1.0,"containers":{}})",
                           R"({"version":2,"containers":{}})", R"({"containers":{}})",
                           R"({"version":1,"containers":{"a":7}})", R"({"version":1,"containers":{"a":""}})",
                           R"({"version":1,"containers":{"a":"../a.tar"}})",
                           R"({"version":1,"containers":{"a":"x/a.tar"}})",
                           R"({"version":1,"containers":{"a":".hidden.tar"}})"}) {
    auto parsed = ParsePodOptions(text);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST_F(CheckpointArchiveTest, ArchivesRoundTripAndNeedTheirParts) {
  const std::string tree = dir_ + "/tree";
  ASSERT_TRUE(MakeDirs(tree + "/checkpoint", 0700).ok());
  ASSERT_TRUE(WriteFileAtomically(tree + "/config.dump", R"({"id":"x","rootfsImage":"busybox"})").ok());
  ASSERT_TRUE(WriteFileAtomically(tree + "/spec.dump", "{}").ok());
  ASSERT_TRUE(WriteFileAtomically(tree + "/checkpoint/pages-1.img", std::string(100000, 'p')).ok());
  const std::string archive = dir_ + "/c.tar";
  ASSERT_TRUE(WriteArchive(tree, archive).ok());
  EXPECT_NE(::access((archive + ".partial").c_str(), F_OK), 0) << "no partial archive left";
  EXPECT_TRUE(NamesCheckpointArchive(archive));
  EXPECT_FALSE(NamesCheckpointArchive("busybox:latest"));
  EXPECT_FALSE(NamesCheckpointArchive(dir_));

  ASSERT_TRUE(ExtractArchive(archive, dir_ + "/out").ok());
  auto pages = ReadFile(dir_ + "/out/checkpoint/pages-1.img");
  ASSERT_TRUE(pages.ok());
  EXPECT_EQ(pages->size(), 100000u);

  // A tar without CRIU's images is not a checkpoint; nor are bytes that are no tar.
  ASSERT_TRUE(RemoveAll(tree + "/checkpoint").ok());
  ASSERT_TRUE(WriteArchive(tree, dir_ + "/half.tar").ok());
  Status half = ExtractArchive(dir_ + "/half.tar", dir_ + "/half");
  EXPECT_EQ(half.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(half.message().find("has no checkpoint"), std::string::npos) << half;
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/junk.tar", "just some bytes").ok());
  EXPECT_EQ(ExtractArchive(dir_ + "/junk.tar", dir_ + "/junk").code(), StatusCode::kInvalidArgument);
}

TEST_F(CheckpointArchiveTest, RootfsDiffTurnsOverlayWhiteoutsIntoOciOnes) {
  if (::geteuid() != 0) GTEST_SKIP() << "overlayfs whiteouts are device nodes: needs root";
  const std::string upper = dir_ + "/upper";
  ASSERT_TRUE(MakeDirs(upper + "/etc", 0755).ok());
  ASSERT_TRUE(MakeDirs(upper + "/var/cache", 0755).ok());
  ASSERT_TRUE(WriteFileAtomically(upper + "/etc/new", "made\n").ok());
  ASSERT_EQ(::mknod((upper + "/etc/motd").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((upper + "/var/cache").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  auto deleted = WriteRootfsDiff(upper, dir_ + "/diff.tar");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, std::vector<std::string>{"etc/motd"});

  // The diff is an OCI layer: the image layer unpacker makes the upper dir again.
  const std::string again = dir_ + "/again";
  ASSERT_TRUE(MakeDirs(again, 0755).ok());
  auto unpacked = image::UnpackLayer(dir_ + "/diff.tar", again);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  EXPECT_EQ(ReadFile(again + "/etc/new").value_or(""), "made\n");
  struct stat st;
  ASSERT_EQ(::lstat((again + "/etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) << "the whiteout is one again";
  char opaque[2] = {};
  EXPECT_EQ(::getxattr((again + "/var/cache").c_str(), "trusted.overlay.opaque", opaque, sizeof opaque), 1);
  EXPECT_EQ(opaque[0], 'y');
}

}  // namespace
}  // namespace berth::pods
