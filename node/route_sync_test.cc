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

TEST(RouteSyncTest, PlansExactlyANodesRoutes) {
  std::map<std::string, NodeRoute> current = {
      {"10.244.2.0/24", {"w2", "10.244.2.0/24", "10.87.0.7"}},
      {"10.244.3.0/24", {"w3", "10.244.3.0/24", "10.87.0.8"}},
      {"10.244.4.0/24", {"w2", "10.244.4.0/24", "10.87.0.7"}},
  };
  // Set already: nothing to do.
  RouteChanges same = PlanRoutes(current, {"w3", {{"w3", "10.244.3.0/24", "10.87.0.8"}}});
  EXPECT_TRUE(same.set.empty());
  EXPECT_TRUE(same.removed.empty());
  // A new address, and a CIDR the node no longer has.
  RouteChanges moved = PlanRoutes(current, {"w2", {{"w2", "10.244.2.0/24", "10.87.0.9"}}});
  ASSERT_EQ(moved.set.size(), 1u);
  EXPECT_EQ(moved.set[0].via, "10.87.0.9");
  ASSERT_EQ(moved.removed.size(), 1u);
  EXPECT_EQ(moved.removed[0].cidr, "10.244.4.0/24");
  // Deleted: every route of its, and no other's.
  RouteChanges deleted = PlanRoutes(current, {"w2", {}});
  EXPECT_TRUE(deleted.set.empty());
  ASSERT_EQ(deleted.removed.size(), 2u);
  for (const auto& route : deleted.removed) EXPECT_EQ(route.node, "w2");
  // A CIDR handed to another node is taken over by it, not removed by the old one.
  RouteChanges taken = PlanRoutes(current, {"w5", {{"w5", "10.244.3.0/24", "10.87.0.10"}}});
  ASSERT_EQ(taken.set.size(), 1u);
  EXPECT_TRUE(taken.removed.empty());
}

}  // namespace
}  // namespace berth::node
