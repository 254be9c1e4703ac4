#include "base/mount_points.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(UnescapeMountPathTest, UndoesOctalEscapes) {
  EXPECT_EQ(UnescapeMountPath("/var/lib/a\\040b"), "/var/lib/a b");
  EXPECT_EQ(UnescapeMountPath("/tab\\011and\\134slash"), "/tab\tand\\slash");
  EXPECT_EQ(UnescapeMountPath("/plain"), "/plain");
  // Not an escape: too short, or not octal digits.
  EXPECT_EQ(UnescapeMountPath("/end\\04"), "/end\\04");
  EXPECT_EQ(UnescapeMountPath("/x\\09y"), "/x\\09y");
}

TEST(MountPointsUnderTest, ListsNothingUnderAFreshDirectory) {
  auto points = MountPointsUnder("/nonexistent-berth-dir");
  ASSERT_TRUE(points.ok()) << points.status();
  EXPECT_TRUE(points->empty());
}

}  // namespace
}  // namespace berth
