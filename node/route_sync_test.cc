#include "node/route_sync.h"

#include <gtest/gtest.h>

namespace berth::node {
namespace {

const RoutePolicy kPolicy{.self = "worker-1", .pod_subnet = "10.244.0.0/16"};

TEST(RouteSyncTest, AnotherNodesCidrGoesThroughItsAddress) {
  auto route = RouteTo("worker-2", "10.244.2.0/24", {"10.87.0.7"}, kPolicy);
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->node, "worker-2");
  EXPECT_EQ(route->cidr, "10.244.2.0/24");
  EXPECT_EQ(route->via, "10.87.0.7");
}

TEST(RouteSyncTest, DualStackPicksTheCidrsFamily) {
  auto route = RouteTo("w2", "fd00:10:244:2::/64", {"10.87.0.7", "fd00::7"},
                       {.self = "w1", .pod_subnet = "fd00:10:244::/56"});
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->via, "fd00::7");
}

TEST(RouteSyncTest, NoRouteForItselfForWhatIsNotThereYetOrOutsideThePodSubnet) {
  EXPECT_FALSE(RouteTo("worker-1", "10.244.1.0/24", {"10.87.0.6"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("worker-2", "", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("worker-2", "10.244.2.0/24", {}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("", "10.244.2.0/24", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "10.244.2.0/24", {";reboot"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "10.244.2.0/99", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "10.244.2.0", {"10.87.0.7"}, kPolicy).has_value());
  // A node claiming the default route, the node network or a wider net is ignored.
  EXPECT_FALSE(RouteTo("w2", "0.0.0.0/0", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "10.87.0.0/16", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "10.244.0.0/15", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "10.245.2.0/24", {"10.87.0.7"}, kPolicy).has_value());
  EXPECT_FALSE(RouteTo("w2", "fd00::/64", {"fd00::7"}, kPolicy).has_value());
  EXPECT_TRUE(RouteTo("w2", "10.244.0.0/16", {"10.87.0.7"}, kPolicy).has_value());
}

}  // namespace
}  // namespace berth::node
