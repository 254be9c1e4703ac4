#include "image/snapshot_store.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "base/file_util.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/schema.h"
#include "image/test_tar.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;
using testing::BuildTar;
using testing::Compress;

class SnapshotStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "overlay mounts need root";
    char tmpl[] = "/tmp/berth-snap-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = StateDb::Open(dir_ + "/berth.db", {&ImageSchema()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto store = SnapshotStore::Open(db_.get(), dir_ + "/snapshots", dir_ + "/containers");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override {
    if (dir_.empty()) return;
    ::umount2((dir_ + "/rootfs").c_str(), MNT_DETACH);
    fs::remove_all(dir_);
  }
  // Writes a layer blob; returns {path, diff_id}.
  std::pair<std::string, std::string> Layer(const std::string& name, const std::vector<testing::Entry>& entries) {
    std::string diff_id;
    std::string blob = BuildTar(entries, Compress::kGzip, &diff_id);
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path, blob).ok());
    return {path, diff_id};
  }
  int CountDirs(const std::string& path) {
    int n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(path)) ++n;
    return n;
  }

  std::string dir_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<SnapshotStore> store_;
};

TEST_F(SnapshotStoreTest, ContainerRootfsIsAWritableOverlayOfTheLayers) {
  auto [lower_blob, lower_diff] = Layer("l1", {{.name = "etc/hello", .content = "hi"},
                                               {.name = "etc/keep", .content = "k"}});
  auto [upper_blob, upper_diff] = Layer("l2", {{.name = "etc/.wh.hello"}, {.name = "new", .content = "n"}});
  auto chain = ChainIds({lower_diff, upper_diff});
  ASSERT_TRUE(store_->Ensure(chain[0], lower_diff, lower_blob).ok());
  ASSERT_TRUE(store_->Ensure(chain[1], upper_diff, upper_blob).ok());

  auto rootfs = store_->PrepareRootfs("c1", chain);
  ASSERT_TRUE(rootfs.ok()) << rootfs.status();
  ASSERT_EQ(rootfs->lower_dirs.size(), 2u);
  std::string target = dir_ + "/rootfs";
  ASSERT_TRUE(MakeDirs(target).ok());
  ASSERT_EQ(::mount("overlay", target.c_str(), "overlay", 0, rootfs->MountData().c_str()), 0)
      << strerror(errno) << " " << rootfs->MountData();
  EXPECT_FALSE(fs::exists(target + "/etc/hello")) << "the upper layer's whiteout hides it";
  EXPECT_EQ(ReadFile(target + "/etc/keep").value_or(""), "k");
  EXPECT_EQ(ReadFile(target + "/new").value_or(""), "n");
  ASSERT_TRUE(WriteFileAtomically(target + "/written", "w").ok());
  ASSERT_EQ(::umount2(target.c_str(), 0), 0);
  EXPECT_TRUE(fs::exists(rootfs->upper_dir + "/written"));

  // Held by the container, the layers survive garbage collection; released, they go.
  ASSERT_TRUE(store_->CollectGarbage({}).ok());
  EXPECT_TRUE(store_->Has(chain[0]));
  ASSERT_TRUE(store_->RemoveRootfs("c1").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/containers/c1"));
  ASSERT_TRUE(store_->CollectGarbage({}).ok());
  EXPECT_FALSE(store_->Has(chain[0]));
  EXPECT_EQ(CountDirs(dir_ + "/snapshots"), 0);
}

TEST_F(SnapshotStoreTest, ConcurrentEnsureOfOneLayerUnpacksOnce) {
  // Named copies: clang 14 (the fuzz and sanitizer build) cannot capture structured bindings.
  auto [layer_blob, layer_diff] = Layer("l", {{.name = "f", .content = std::string(1 << 20, 'x')}});
  const std::string blob = layer_blob, diff = layer_diff;
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = store_->Ensure(diff, diff, blob); });
  }
  for (auto& t : threads) t.join();
  for (const auto& status : results) EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(CountDirs(dir_ + "/snapshots"), 1);
}

TEST_F(SnapshotStoreTest, WrongDiffIdIsRefusedAndLeavesNothing) {
  auto [blob, diff] = Layer("l", {{.name = "f", .content = "x"}});
  std::string wrong = Sha256Of("not this layer");
  Status status = store_->Ensure(wrong, wrong, blob);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status;
  EXPECT_FALSE(store_->Has(wrong));
  EXPECT_EQ(CountDirs(dir_ + "/snapshots"), 0);
}

TEST_F(SnapshotStoreTest, UnlistedDirectoriesAreRemovedAtOpen) {
  ASSERT_TRUE(MakeDirs(dir_ + "/snapshots/staging-abc/x").ok());
  ASSERT_TRUE(MakeDirs(dir_ + "/snapshots/77").ok());
  auto store = SnapshotStore::Open(db_.get(), dir_ + "/snapshots", dir_ + "/containers");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(CountDirs(dir_ + "/snapshots"), 0);
}

}  // namespace
}  // namespace berth::image
