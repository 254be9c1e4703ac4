#include "pods/apparmor.h"

#include <unistd.h>

#include "base/file_util.h"
#include "base/process.h"
#include "gtest/gtest.h"

namespace berth::pods {
namespace {

bool HostHasAppArmor() {
  auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled");
  return enabled.ok() && !enabled->empty() && (*enabled)[0] == 'Y';
}

SecuritySpec WithProfile(const std::string& type, const std::string& ref = "") {
  SecuritySpec security;
  security.apparmor.type = type;
  security.apparmor.localhost_ref = ref;
  return security;
}

TEST(AppArmorTest, UnconfinedIsNoProfile) {
  EXPECT_EQ(AppArmorProfileFor(WithProfile("unconfined")).value_or("?"), "");
}

TEST(AppArmorTest, PrivilegedGetsNoDefaultProfile) {
  SecuritySpec security = WithProfile("runtime/default");
  security.privileged = true;
  EXPECT_EQ(AppArmorProfileFor(security).value_or("?"), "");
}

TEST(AppArmorTest, WithoutAppArmorOnlyALocalhostProfileFails) {
  if (HostHasAppArmor()) GTEST_SKIP() << "AppArmor is enabled on this host";
  EXPECT_EQ(AppArmorProfileFor(WithProfile("")).value_or("?"), "");
  EXPECT_EQ(AppArmorProfileFor(WithProfile("runtime/default")).value_or("?"), "");
  auto localhost = AppArmorProfileFor(WithProfile("localhost", "my-profile"));
  ASSERT_FALSE(localhost.ok());
  EXPECT_EQ(localhost.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(localhost.status().message().find("my-profile"), absl::string_view::npos);
}

TEST(AppArmorTest, UnknownTypeIsRefused) {
  EXPECT_EQ(AppArmorProfileFor(WithProfile("sometimes")).status().code(), StatusCode::kInvalidArgument);
}

// The profile berth loads where AppArmor is on compiles (without a kernel to load
// it into: -Q), with the parser Debian ships.
TEST(AppArmorTest, DefaultProfileCompiles) {
  const char* parser = "/usr/sbin/apparmor_parser";
  if (::access(parser, X_OK) != 0) GTEST_SKIP() << "apparmor_parser is not installed";
  RunOptions options;
  options.stdin_data = std::string(DefaultAppArmorProfileSource());
  auto run = RunProcess({parser, "--skip-kernel-load", "--skip-cache", "--stdout"}, options);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->err;
  EXPECT_FALSE(run->out.empty()) << "no compiled policy";
}

}  // namespace
}  // namespace berth::pods
