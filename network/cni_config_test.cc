#include "network/cni_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file_util.h"

namespace berth::network {
namespace {

class CniConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cni-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MakeDirs(dir_ + "/conf").ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/bin").ok());
    for (const char* plugin : {"bridge", "loopback"}) {
      ASSERT_TRUE(WriteFileAtomically(dir_ + "/bin/" + plugin, "#!/bin/sh\n", 0755).ok());
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/conf/" + name, data).ok());
  }
  StatusOr<CniNetworkConfig> Find() { return FindNetworkConfig(dir_ + "/conf", {dir_ + "/bin"}); }
  std::string dir_;
};

TEST_F(CniConfigTest, EmptyDirIsNotReadyAndSaysWhere) {
  auto config = Find();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(config.status().message().find("no network config found"), absl::string_view::npos);
}

TEST_F(CniConfigTest, PicksLexicographicallyFirstUsableConfig) {
  Write("20-b.conflist",
        R"({"cniVersion":"1.0.0","name":"second","plugins":[{"type":"bridge"}]})");
  Write("10-a.conflist",
        R"({"cniVersion":"1.0.0","name":"first","plugins":[{"type":"bridge"},{"type":"loopback"}]})");
  Write("README", "not a config");
  auto config = Find();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "first");
  ASSERT_EQ(config->plugins.size(), 2u);
  EXPECT_EQ(config->plugins[1].binary_path, dir_ + "/bin/loopback");
}

TEST_F(CniConfigTest, SinglePluginConfIsReadAsListOfOne) {
  Write("10-net.conf", R"({"cniVersion":"0.4.0","name":"single","type":"bridge","bridge":"b0"})");
  auto config = Find();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->cni_version, "0.4.0");
  ASSERT_EQ(config->plugins.size(), 1u);
  EXPECT_NE(config->plugins[0].raw_json.find("\"bridge\":\"b0\""), std::string::npos);
}

TEST_F(CniConfigTest, SkipsBrokenAndMissingPluginConfigsButReportsThem) {
  Write("01-broken.conflist", "{ not json");
  Write("02-missing.conflist",
        R"({"cniVersion":"1.0.0","name":"m","plugins":[{"type":"flannel"}]})");
  auto config = Find();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("\"flannel\" not found"), absl::string_view::npos)
      << config.status();
  Write("03-good.conflist", R"({"cniVersion":"1.0.0","name":"g","plugins":[{"type":"bridge"}]})");
  config = Find();
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name, "g");
}

TEST_F(CniConfigTest, FieldsOfAnotherTypeAreRefusedNotThrown) {
  Write("01-number.conf", R"({"cniVersion":555555555555555,"name":"n","type":"bridge"})");
  Write("02-object.conflist", R"({"cniVersion":"1.0.0","name":{"x":1},"plugins":[{"type":"bridge"}]})");
  Write("03-type.conflist", R"({"cniVersion":"1.0.0","name":"t","plugins":[{"type":["bridge"]}]})");
  auto config = Find();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("01-number.conf: missing or empty string field \"cniVersion\""),
            absl::string_view::npos)
      << config.status();
}

TEST_F(CniConfigTest, RefusesPluginTypeWithPath) {
  Write("10.conflist", R"({"cniVersion":"1.0.0","name":"x","plugins":[{"type":"../bin/bridge"}]})");
  auto config = Find();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("invalid plugin type"), absl::string_view::npos);
}

}  // namespace
}  // namespace berth::network
