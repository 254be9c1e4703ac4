#include <gtest/gtest.h>

#include "pods/runtime_handler.h"

namespace berth::pods {
namespace {

TEST(HandlerFeaturesTest, RuncOneOneSaysHooksButNoNewerProcessFields) {
  auto features = RuntimeHandler::ParseFeatures(R"({
    "ociVersionMin": "1.0.0", "ociVersionMax": "1.0.2-dev",
    "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    "mountOptions": ["bind", "rbind"],
    "linux": {"namespaces": ["mount", "network", "user"]}})");
  EXPECT_TRUE(features.RunsHook("createRuntime"));
  EXPECT_TRUE(features.RunsHook("poststop"));
  EXPECT_FALSE(features.RunsHook("createruntime"));
  EXPECT_FALSE(features.recursive_read_only);
  EXPECT_TRUE(features.user_namespace);
  EXPECT_FALSE(features.io_priority);
  EXPECT_FALSE(features.scheduler);
  EXPECT_FALSE(features.memory_policy);
  EXPECT_FALSE(features.net_devices);
  EXPECT_FALSE(features.seccomp_notify);
}

TEST(HandlerFeaturesTest, NetDevicesAndSeccompNotifyAreSaidInLinux) {
  auto features = RuntimeHandler::ParseFeatures(R"({"linux": {
    "seccomp": {"enabled": true, "actions": ["SCMP_ACT_ALLOW", "SCMP_ACT_NOTIFY"]},
    "netDevices": {"enabled": true}}})");
  EXPECT_TRUE(features.net_devices);
  EXPECT_TRUE(features.seccomp_notify);
  features = RuntimeHandler::ParseFeatures(R"({"linux": {"netDevices": {"enabled": false}, "seccomp": {}}})");
  EXPECT_FALSE(features.net_devices);
  EXPECT_FALSE(features.seccomp_notify);
  features = RuntimeHandler::ParseFeatures(R"({"linux": {"netDevices": {"enabled": null}, "seccomp": []}})");
  EXPECT_FALSE(features.net_devices) << "a field of the wrong type says nothing";
  EXPECT_FALSE(features.seccomp_notify);
}

TEST(HandlerFeaturesTest, SpecOneTwoMeansIoPriorityAndScheduler) {
  auto features = RuntimeHandler::ParseFeatures(
      R"({"ociVersionMax": "1.2.1", "mountOptions": ["rro"], "linux": {"memoryPolicy": {"modes": ["MPOL_BIND"]}}})");
  EXPECT_TRUE(features.io_priority);
  EXPECT_TRUE(features.scheduler);
  EXPECT_TRUE(features.memory_policy);
  EXPECT_TRUE(features.recursive_read_only);
  EXPECT_TRUE(features.hooks.empty());
}

TEST(HandlerFeaturesTest, BerthRuntimeSaysItsProcessFieldsInAnnotations) {
  auto features = RuntimeHandler::ParseFeatures(R"({"ociVersionMax": "1.0.2",
    "annotations": {"io.berth.runtime.process.ioPriority": "true", "io.berth.runtime.process.scheduler": "false"}})");
  EXPECT_TRUE(features.io_priority);
  EXPECT_FALSE(features.scheduler);
}

TEST(HandlerFeaturesTest, ADocumentOfTheWrongShapeSaysNothing) {
  for (const char* text : {"", "[]", "not json", R"({"hooks": "prestart", "linux": [], "ociVersionMax": 12})",
                           R"({"hooks": [1, 2], "annotations": [], "mountOptions": {"rro": true}})"}) {
    auto features = RuntimeHandler::ParseFeatures(text);
    EXPECT_TRUE(features.hooks.empty()) << text;
    EXPECT_FALSE(features.io_priority) << text;
    EXPECT_FALSE(features.recursive_read_only) << text;
    EXPECT_FALSE(features.user_namespace) << text;
  }
}

}  // namespace
}  // namespace berth::pods
