#include "node/route_sync.h"

#include <gtest/gtest.h>

namespace berth::node {
namespace {

TEST(RouteSyncTest, ALineNamesTheRouteToAnotherNode) {
  auto route = ParseNodeLine("worker-2 10.244.2.0/24 10.87.0.7", "worker-1");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->node, "worker-2");
  EXPECT_EQ(route->cidr, "10.244.2.0/24");
  EXPECT_EQ(route->via, "10.87.0.7");
}

TEST(RouteSyncTest, DualStackPicksTheCidrsFamily) {
  auto route = ParseNodeLine("w2 fd00:10:244:2::/64 10.87.0.7 fd00::7", "w1");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->via, "fd00::7");
}

TEST(RouteSyncTest, NoRouteForItselfOrWhatIsNotThereYet) {
  EXPECT_FALSE(ParseNodeLine("worker-1 10.244.1.0/24 10.87.0.6", "worker-1").has_value());
  EXPECT_FALSE(ParseNodeLine("worker-2  10.87.0.7", "worker-1").has_value());  // no CIDR yet
  EXPECT_FALSE(ParseNodeLine("worker-2 10.244.2.0/24", "worker-1").has_value());
  EXPECT_FALSE(ParseNodeLine("", "worker-1").has_value());
  EXPECT_FALSE(ParseNodeLine("w2 10.244.2.0/24 ;reboot", "w1").has_value());
  EXPECT_FALSE(ParseNodeLine("w2 10.244.2.0/99 10.87.0.7", "w1").has_value());
  EXPECT_FALSE(ParseNodeLine("w2 10.244.2.0 10.87.0.7", "w1").has_value());
}

}  // namespace
}  // namespace berth::node
