#include "base/disk_usage.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/file_util.h"

namespace berth {
namespace {

TEST(MeasureDiskUsage, CountsEveryInodeOnceAndAllocatedBlocks) {
  char tmpl[] = "/tmp/berth-du-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_TRUE(MakeDirs(dir + "/a/b").ok());
  ASSERT_TRUE(WriteFileAtomically(dir + "/a/b/file", std::string(64 * 1024, 'x')).ok());
  ASSERT_EQ(::link((dir + "/a/b/file").c_str(), (dir + "/a/hardlink").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/a/symlink").c_str()), 0);
  auto usage = MeasureDiskUsage(dir);
  ASSERT_TRUE(usage.ok()) << usage.status();
  // dir, a, b, the file (its second link not again), the symlink (not followed).
  EXPECT_EQ(usage->inodes, 5u);
  EXPECT_GE(usage->bytes, 64u * 1024);
  // Walks run side by side.
  std::vector<std::thread> walkers;
  std::vector<uint64_t> inodes(4);
  for (int i = 0; i < 4; ++i) {
    walkers.emplace_back([&, i] { inodes[i] = MeasureDiskUsage(dir).value_or(DiskUsage{}).inodes; });
  }
  for (auto& walker : walkers) walker.join();
  for (uint64_t n : inodes) EXPECT_EQ(n, 5u);
  EXPECT_EQ(MeasureDiskUsage(dir + "/missing").value_or(DiskUsage{.bytes = 1, .inodes = 1}).inodes, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth
