#include "runtime/idmap.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(IdMapTest, TextHasOneLinePerMapping) {
  EXPECT_EQ(IdMapText({{0, 1000, 100000}}), "0 1000 100000\n");
  EXPECT_EQ(IdMapText({{0, 1000, 1}, {1, 2000, 10}}), "0 1000 1\n1 2000 10\n");
}

TEST(IdMapTest, HostIdFollowsTheMappingThatCoversTheId) {
  std::vector<IdMapping> map = {{0, 100000, 65536}, {70000, 5000, 10}};
  EXPECT_EQ(HostId(map, 0), 100000u);
  EXPECT_EQ(HostId(map, 65535), 165535u);
  EXPECT_EQ(HostId(map, 65536), std::nullopt);
  EXPECT_EQ(HostId(map, 70009), 5009u);
  EXPECT_EQ(HostId({}, 0), std::nullopt);
}

TEST(IdMapTest, ChecksLengthAndRange) {
  EXPECT_TRUE(CheckIdMappings({{0, 1000, 100000}}, "uid").ok());
  EXPECT_EQ(CheckIdMappings({{0, 1000, 0}}, "uid").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckIdMappings({{0, 4294967000u, 1000}}, "gid").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::runtime
