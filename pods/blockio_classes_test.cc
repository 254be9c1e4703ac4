#include "pods/blockio_classes.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

namespace berth::pods {
namespace {

// A block device this host has, to match against; the tests skip without one.
std::string SomeBlockDevice(struct stat* st) {
  for (const char* path : {"/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda", "/dev/zram0", "/dev/loop0"}) {
    if (::stat(path, st) == 0 && S_ISBLK(st->st_mode)) return path;
  }
  return "";
}

TEST(BlockIoClassesTest, AClassBecomesThrottlesOfItsDevices) {
  struct stat st;
  const std::string device = SomeBlockDevice(&st);
  if (device.empty()) GTEST_SKIP() << "no block device to match";
  const std::string yaml = "Classes:\n  slow:\n    - Devices: [" + device + ", /dev/berth-no-such-disk*]\n" +
                           "      ThrottleReadBps: 10Mi\n      ThrottleWriteIOPS: 500\n      Weight: 80\n" +
                           "    - Weight: 50\n  fast: []\n";
  cgroups::Resources resources;
  resources.throttle_read_bps.push_back({static_cast<int64_t>(major(st.st_rdev)),
                                         static_cast<int64_t>(minor(st.st_rdev)), 1});
  ASSERT_TRUE(BlockIoClasses::ApplyFrom(yaml, "blockio.yaml", "slow", &resources).ok());
  ASSERT_EQ(resources.throttle_read_bps.size(), 1u) << "the class's limit replaces the device's";
  EXPECT_EQ(resources.throttle_read_bps[0].rate, 10u << 20);
  EXPECT_EQ(resources.throttle_read_bps[0].major, static_cast<int64_t>(major(st.st_rdev)));
  ASSERT_EQ(resources.throttle_write_iops.size(), 1u);
  EXPECT_EQ(resources.throttle_write_iops[0].rate, 500u);
  ASSERT_EQ(resources.blkio_weight_devices.size(), 1u);
  EXPECT_EQ(resources.blkio_weight_devices[0].weight, 80);
  EXPECT_EQ(resources.blkio_weight, 50) << "a group without devices sets the default weight";
  EXPECT_TRUE(BlockIoClasses::ApplyFrom(yaml, "blockio.yaml", "fast", &resources).ok());
}

TEST(BlockIoClassesTest, UnknownClassesAndMalformedFilesAreRefusedSayingWhat) {
  cgroups::Resources resources;
  EXPECT_EQ(BlockIoClasses("").Apply("slow", &resources).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(BlockIoClasses::ApplyFrom("Classes: {}\n", "b.yaml", "slow", &resources).code(),
            StatusCode::kFailedPrecondition);
  struct Case {
    const char* yaml;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"[]", "no Classes mapping"},
           {"Classes:\n  slow: {Weight: 5}\n", "class slow is not a list"},
           {"Classes:\n  slow:\n    - Weight: 5\n", "Weight 5 is outside 10 to 1000"},
           {"Classes:\n  slow:\n    - Wieght: 50\n", "unknown key Wieght"},
           {"Classes:\n  slow:\n    - ThrottleReadBps: 1M\n", "ThrottleReadBps needs Devices"},
           {"Classes:\n  slow:\n    - Devices: [/dev/null]\n      ThrottleReadBps: 1M\n", "not a block device"},
           {"Classes:\n  slow:\n    - Devices: [/dev/berth-none]\n      ThrottleReadBps: fast\n", "ThrottleReadBps"},
           {"Classes: [", "invalid YAML"},
       }) {
    Status status = BlockIoClasses::ApplyFrom(c.yaml, "b.yaml", "slow", &resources);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_NE(status.message().find(c.says), std::string::npos) << status;
  }
}

}  // namespace
}  // namespace berth::pods
