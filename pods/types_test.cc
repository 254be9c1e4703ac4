#include "pods/types.h"

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

TEST(ParseQuantityTest, ReadsKubernetesSuffixes) {
  EXPECT_EQ(ParseQuantity("10M").value_or(0), 10000000u);
  EXPECT_EQ(ParseQuantity("1Gi").value_or(0), 1073741824u);
  EXPECT_EQ(ParseQuantity("500k").value_or(0), 500000u);
  EXPECT_EQ(ParseQuantity("1.5G").value_or(0), 1500000000u);
  EXPECT_EQ(ParseQuantity("2e3").value_or(0), 2000u);
  EXPECT_EQ(ParseQuantity("1500m").value_or(0), 2u);  // rounded up, as Kubernetes does
  EXPECT_EQ(ParseQuantity("42").value_or(0), 42u);
}

TEST(ParseQuantityTest, RefusesWhatIsNotAQuantity) {
  for (const char* bad : {"", "M", "-1M", "10X", "1.2.3", "10 M", "1e99"}) {
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace berth::pods
