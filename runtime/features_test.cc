#include "runtime/features.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/spec.h"

namespace berth::runtime {
namespace {

bool Lists(const nlohmann::json& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

TEST(FeaturesTest, TheDocumentSaysWhatTheRuntimeDoes) {
  auto features = nlohmann::json::parse(FeaturesJson());
  EXPECT_EQ(features["ociVersionMax"], kOciVersion);
  EXPECT_TRUE(Lists(features["mountOptions"], "rro")) << "berthd asks for this one";
  const auto& linux = features["linux"];
  EXPECT_TRUE(Lists(linux["namespaces"], "network"));
  EXPECT_TRUE(Lists(linux["namespaces"], "user")) << "joined by path, as berthd's pods need";
  EXPECT_FALSE(linux["mountExtensions"]["idmap"]["enabled"]) << "berthd idmaps volumes itself";
  EXPECT_TRUE(Lists(linux["capabilities"], "CAP_SYS_ADMIN"));
  EXPECT_TRUE(Lists(linux["seccomp"]["actions"], "SCMP_ACT_ERRNO"));
  EXPECT_TRUE(Lists(linux["seccomp"]["operators"], "SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(Lists(linux["seccomp"]["archs"], "SCMP_ARCH_X86_64"));
}

}  // namespace
}  // namespace berth::runtime
