#include "image/layer_unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "base/file_util.h"
#include "image/digest.h"
#include "image/test_tar.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

using testing::BuildTar;
using testing::Compress;
using testing::Entry;

class LayerUnpackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "unpacking sets owners and overlay xattrs: needs root";
    char tmpl[] = "/tmp/berth-unpack-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    target_ = dir_ + "/layer";
    outside_ = dir_ + "/outside";
    ASSERT_TRUE(MakeDirs(target_).ok());
    ASSERT_TRUE(MakeDirs(outside_).ok());
    ASSERT_TRUE(WriteFileAtomically(outside_ + "/secret", "host data").ok());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  StatusOr<UnpackedLayer> Unpack(const std::vector<Entry>& entries, Compress c = Compress::kGzip,
                                 std::string* diff_id = nullptr) {
    std::string blob = BuildTar(entries, c, diff_id);
    EXPECT_TRUE(WriteFileAtomically(dir_ + "/blob", blob).ok());
    return UnpackLayer(dir_ + "/blob", target_);
  }

  // Nothing outside the layer's directory changed.
  void ExpectOutsideUntouched() {
    EXPECT_EQ(ReadFile(outside_ + "/secret").value_or(""), "host data");
    int n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(outside_)) ++n;
    EXPECT_EQ(n, 1) << "something was written to " << outside_;
    for (const char* p : {"/tmp/berth-escape-a", "/tmp/berth-escape-b", "/berth-escape"}) {
      EXPECT_FALSE(fs::exists(fs::symlink_status(p))) << p;
    }
  }

  std::string dir_, target_, outside_;
};

TEST_F(LayerUnpackerTest, UnpacksFilesDirsLinksOwnersModesAndXattrs) {
  for (Compress c : {Compress::kGzip, Compress::kZstd, Compress::kNone}) {
    fs::remove_all(target_);
    fs::create_directory(target_);
    std::string diff_id;
    auto result = Unpack(
        {
            {.name = "./", .type = AE_IFDIR, .perm = 0755},
            {.name = "bin/", .type = AE_IFDIR, .perm = 0755},
            {.name = "bin/tool", .content = "#!/bin/sh\n", .perm = 04755, .uid = 0, .gid = 0,
             .xattrs = {{"user.note", "hello"}}},
            {.name = "bin/alias", .hardlink = "bin/tool"},
            {.name = "bin/sh", .type = AE_IFLNK, .symlink = "/bin/tool"},
            {.name = "home/berth/private/", .type = AE_IFDIR, .perm = 0700, .uid = 1000, .gid = 1000},
            {.name = "home/berth/private/key", .content = "k", .perm = 0600, .uid = 1000, .gid = 1000},
            {.name = "tmp/", .type = AE_IFDIR, .perm = 01777},
            {.name = "run/fifo", .type = AE_IFIFO, .perm = 0600},
        },
        c, &diff_id);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->diff_id, diff_id);
    EXPECT_EQ(result->file_bytes, 11u);
    struct stat st;
    ASSERT_EQ(::stat((target_ + "/bin/tool").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);
    EXPECT_EQ(st.st_nlink, 2u);
    EXPECT_EQ(st.st_mtime, 1546300800);
    char note[16] = {};
    EXPECT_EQ(::getxattr((target_ + "/bin/tool").c_str(), "user.note", note, sizeof note), 5);
    EXPECT_EQ(fs::read_symlink(target_ + "/bin/sh"), "/bin/tool");
    ASSERT_EQ(::stat((target_ + "/home/berth/private").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_mtime, 1546300800) << "directory mtime must survive its children";
    ASSERT_EQ(::stat((target_ + "/tmp").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 01777u);
    ASSERT_EQ(::lstat((target_ + "/run/fifo").c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
  }
}

TEST_F(LayerUnpackerTest, TurnsOciWhiteoutsIntoOverlayWhiteouts) {
  auto result = Unpack({
      {.name = "etc/", .type = AE_IFDIR, .perm = 0755},
      {.name = "etc/.wh.motd"},
      {.name = "var/cache/", .type = AE_IFDIR, .perm = 0755},
      {.name = "var/cache/.wh..wh..opq"},
      {.name = "var/cache/new", .content = "n"},
  });
  ASSERT_TRUE(result.ok()) << result.status();
  struct stat st;
  ASSERT_EQ(::lstat((target_ + "/etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(target_ + "/etc/.wh.motd"));
  char opaque[4] = {};
  EXPECT_EQ(::getxattr((target_ + "/var/cache").c_str(), "trusted.overlay.opaque", opaque, sizeof opaque), 1);
  EXPECT_EQ(opaque[0], 'y');
  EXPECT_FALSE(fs::exists(target_ + "/var/cache/.wh..wh..opq"));
  EXPECT_TRUE(fs::exists(target_ + "/var/cache/new"));
}

TEST_F(LayerUnpackerTest, LaterEntriesReplaceEarlierOnes) {
  auto result = Unpack({
      {.name = "a/b/c", .content = "1"},
      {.name = "a/b", .content = "file now"},
      {.name = "x", .type = AE_IFLNK, .symlink = "y"},
      {.name = "x", .content = "plain"},
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(ReadFile(target_ + "/a/b").value_or(""), "file now");
  EXPECT_FALSE(fs::is_symlink(target_ + "/x"));
  EXPECT_EQ(ReadFile(target_ + "/x").value_or(""), "plain");
}

struct HostileCase {
  const char* name;
  std::vector<Entry> entries;
  const char* why;
};

class HostileLayerTest : public LayerUnpackerTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(HostileLayerTest, IsRefusedAndWritesNothingOutside) {
  // Entries may name the test's outside dir; fill in its path.
  std::vector<Entry> entries = GetParam().entries;
  for (auto& e : entries) {
    for (std::string* s : {&e.name, &e.symlink, &e.hardlink}) {
      size_t at = s->find("@OUT@");
      if (at != std::string::npos) s->replace(at, 5, outside_);
    }
  }
  auto result = Unpack(entries);
  ASSERT_FALSE(result.ok()) << GetParam().name << " was accepted";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  EXPECT_NE(result.status().message().find(GetParam().why), absl::string_view::npos) << result.status();
  ExpectOutsideUntouched();
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, HostileLayerTest,
    ::testing::Values(
        HostileCase{"AbsolutePath", {{.name = "/tmp/berth-escape-a", .content = "x"}}, "absolute path"},
        HostileCase{"DotDot", {{.name = "../outside/new", .content = "x"}}, "contains \"..\""},
        HostileCase{"DotDotInside", {{.name = "a/../../outside/new", .content = "x"}}, "contains \"..\""},
        HostileCase{"AbsoluteSymlinkThenWrite",
                    {{.name = "evil", .type = AE_IFLNK, .symlink = "@OUT@"}, {.name = "evil/new", .content = "x"}},
                    "leaves the layer"},
        HostileCase{"RelativeSymlinkThenWrite",
                    {{.name = "d/", .type = AE_IFDIR},
                     {.name = "d/up", .type = AE_IFLNK, .symlink = "../../outside"},
                     {.name = "d/up/new", .content = "x"}},
                    "leaves the layer"},
        HostileCase{"SymlinkChain",
                    {{.name = "l1", .type = AE_IFLNK, .symlink = "l2"},
                     {.name = "l2", .type = AE_IFLNK, .symlink = "/"},
                     {.name = "l1/tmp/berth-escape-b", .content = "x"}},
                    "leaves the layer"},
        HostileCase{"DirReplacedBySymlink",
                    {{.name = "d/", .type = AE_IFDIR},
                     {.name = "d", .type = AE_IFLNK, .symlink = "@OUT@"},
                     {.name = "d/new", .content = "x"}},
                    "leaves the layer"},
        HostileCase{"HardLinkAbsolute", {{.name = "h", .hardlink = "@OUT@/secret"}}, "absolute path"},
        HostileCase{"HardLinkDotDot", {{.name = "h", .hardlink = "../outside/secret"}}, "contains \"..\""},
        HostileCase{"HardLinkThroughSymlink",
                    {{.name = "s", .type = AE_IFLNK, .symlink = "@OUT@"}, {.name = "h", .hardlink = "s/secret"}},
                    "leaves the layer"},
        HostileCase{"CharDevice", {{.name = "dev/mem", .type = AE_IFCHR, .dev = makedev(1, 1)}}, "device node"},
        HostileCase{"BlockDevice", {{.name = "sda", .type = AE_IFBLK, .dev = makedev(8, 0)}}, "device node"},
        HostileCase{"WhiteoutOfDotDot", {{.name = "a/.wh..."}}, "whiteout of an invalid name"},
        HostileCase{"RootReplacedBySymlink",
                    {{.name = ".", .type = AE_IFLNK, .symlink = "@OUT@"}, {.name = "new", .content = "x"}},
                    "replace the layer root"},
        HostileCase{"EmptyName", {{.name = "", .content = "x"}}, "empty name"},
        HostileCase{"OverlayXattr",
                    {{.name = "d/", .type = AE_IFDIR, .xattrs = {{"trusted.overlay.redirect", "/etc"}}}},
                    "overlayfs attribute"}),
    [](const ::testing::TestParamInfo<HostileCase>& info) { return std::string(info.param.name); });

TEST_F(LayerUnpackerTest, RefusesCorruptAndTruncatedStreams) {
  std::string blob = BuildTar({{.name = "f", .content = std::string(100000, 'x')}}, Compress::kGzip, nullptr);
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/blob", blob.substr(0, blob.size() / 2)).ok());
  auto result = UnpackLayer(dir_ + "/blob", target_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status();
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/blob", std::string(4096, '\x7f')).ok());
  result = UnpackLayer(dir_ + "/blob", target_);
  ASSERT_FALSE(result.ok());
  ExpectOutsideUntouched();
}

// A decompression bomb (here 8 MiB of zeros in a few KiB of gzip) stops at the cap,
// with RESOURCE_EXHAUSTED naming it, however small the blob.
TEST_F(LayerUnpackerTest, StopsALayerThatExpandsPastTheCap) {
  std::string blob = BuildTar({{.name = "zeros", .content = std::string(8 << 20, '\0')}}, Compress::kGzip, nullptr);
  ASSERT_LT(blob.size(), 64u << 10);
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/blob", blob).ok());
  auto result = UnpackLayer(dir_ + "/blob", target_, 1 << 20);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted) << result.status();
  EXPECT_NE(result.status().message().find("images.max_layer_bytes"), absl::string_view::npos);
  ExpectOutsideUntouched();
}

}  // namespace
}  // namespace berth::image
