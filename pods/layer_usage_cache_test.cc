#include "pods/layer_usage_cache.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file_util.h"

namespace berth::pods {
namespace {

TEST(LayerUsageCache, MeasuresFirstThenAnswersFromTheCacheUntilRefreshed) {
  char tmpl[] = "/tmp/berth-layer-cache-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_TRUE(WriteFileAtomically(dir + "/a", std::string(8192, 'x')).ok());
  {
    LayerUsageCache cache(std::chrono::hours(1));
    DiskUsage first = cache.Get(dir);
    EXPECT_GE(first.bytes, 8192u);
    EXPECT_EQ(first.inodes, 2u);  // the directory and its file
    // Within the refresh period a new file is not seen: the walk is not repeated.
    ASSERT_TRUE(WriteFileAtomically(dir + "/b", std::string(8192, 'y')).ok());
    EXPECT_EQ(cache.Get(dir).inodes, 2u);
    // Forgotten, it is measured anew.
    cache.Retain({});
    EXPECT_EQ(cache.Get(dir).inodes, 3u);
  }
  {
    // A zero refresh period re-walks in the background; the old figure answers meanwhile.
    LayerUsageCache cache(std::chrono::milliseconds(0));
    EXPECT_EQ(cache.Get(dir).inodes, 3u);
    ASSERT_TRUE(WriteFileAtomically(dir + "/c", "z").ok());
    EXPECT_EQ(cache.Get(dir).inodes, 3u);
  }  // the destructor drains the background walk
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::pods
