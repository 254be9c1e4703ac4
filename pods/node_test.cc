#include "pods/node.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

TEST(PodCidrTest, AcceptsSingleAndDualStackPrefixes) {
  EXPECT_TRUE(ValidatePodCidr("10.88.0.0/16").ok());
  EXPECT_TRUE(ValidatePodCidr("10.88.0.0/16,fd00:10:88::/64").ok());
  EXPECT_TRUE(ValidatePodCidr("fd00::/48").ok());
}

TEST(PodCidrTest, RefusesWhatIsNotAPrefix) {
  for (const char* bad : {"", "10.88.0.0", "10.88.0.0/33", "10.88.0/16", "fd00::/129",
                          "a/b", "10.0.0.0/8,10.1.0.0/16,fd00::/64", "10.0.0.0/-1"}) {
    auto status = ValidatePodCidr(bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace berth::pods
