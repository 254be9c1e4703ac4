#include "nri/adjustment.h"

#include <gtest/gtest.h>

namespace berth::nri {
namespace {

api::ContainerAdjustment EnvAdjustment(const std::string& key, const std::string& value) {
  api::ContainerAdjustment adjust;
  api::KeyValue* env = adjust.add_env();
  env->set_key(key);
  env->set_value(value);
  return adjust;
}

TEST(AdjustmentMergerTest, EachPluginSeesTheContainerAsTheOnesBeforeLeftIt) {
  api::Container container;
  container.add_env("PATH=/bin");
  container.add_env("KEEP=1");
  AdjustmentMerger merger(&container);
  ASSERT_TRUE(merger.Add("10-first", EnvAdjustment("PATH", "/usr/bin")).ok());
  api::ContainerAdjustment mount;
  api::Mount* m = mount.add_mounts();
  m->set_destination("/data");
  m->set_source("/srv");
  m->set_type("bind");
  (*mount.mutable_annotations())["-gone"] = "";
  ASSERT_TRUE(merger.Add("20-second", mount).ok());
  EXPECT_EQ(std::vector<std::string>(container.env().begin(), container.env().end()),
            (std::vector<std::string>{"KEEP=1", "PATH=/usr/bin"}));
  ASSERT_EQ(container.mounts_size(), 1);
  EXPECT_EQ(merger.merged().env_size(), 1);
  EXPECT_EQ(merger.merged().mounts_size(), 1);
  EXPECT_EQ(merger.merged().annotations().count("-gone"), 1u);
}

TEST(AdjustmentMergerTest, TwoPluginsSettingOneThingAreRefusedByName) {
  api::Container container;
  AdjustmentMerger merger(&container);
  ASSERT_TRUE(merger.Add("10-first", EnvAdjustment("MODE", "a")).ok());
  Status conflict = merger.Add("20-second", EnvAdjustment("-MODE", ""));
  EXPECT_EQ(conflict.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(conflict.message(),
            "NRI plugins 10-first and 20-second both adjust environment variable MODE of the container");

  api::ContainerAdjustment memory, cpu, memory_again;
  memory.mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(1 << 20);
  cpu.mutable_linux()->mutable_resources()->mutable_cpu()->mutable_shares()->set_value(512);
  memory_again.mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(2 << 20);
  api::Container other;
  AdjustmentMerger resources(&other);
  ASSERT_TRUE(resources.Add("10-mem", memory).ok());
  ASSERT_TRUE(resources.Add("20-cpu", cpu).ok());  // another field: no conflict
  EXPECT_EQ(resources.Add("30-mem", memory_again).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(resources.merged().linux().resources().memory().limit().value(), 1 << 20);
  EXPECT_EQ(resources.merged().linux().resources().cpu().shares().value(), 512u);
  EXPECT_EQ(other.linux().resources().memory().limit().value(), 1 << 20);
}

}  // namespace
}  // namespace berth::nri
