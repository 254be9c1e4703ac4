#include "runtime/sysctl.h"

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

TEST(SysctlPathTest, DotsSeparateLevelsAndSlashesStandForDotsInALevel) {
  EXPECT_EQ(*SysctlPath("net.ipv4.ip_forward"), "net/ipv4/ip_forward");
  EXPECT_EQ(*SysctlPath("net.ipv4.conf.eth0/100.forwarding"), "net/ipv4/conf/eth0.100/forwarding");
  EXPECT_EQ(*SysctlPath("kernel.shmmax"), "kernel/shmmax");
}

TEST(SysctlPathTest, RefusesNamesThatLeaveTheirLevel) {
  for (const char* key : {"", ".", "net..ipv4", "net.", ".net", "net.ipv4/../../kernel.core_pattern",
                          "net.//.kernel", "net.ipv4.conf.//.x", "net./"}) {
    auto path = SysctlPath(key);
    EXPECT_FALSE(path.ok()) << key << " -> " << path.value_or("");
    EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST(SysctlNamespaceTest, KnowsTheNamespacedFamilies) {
  EXPECT_EQ(SysctlNamespaceOf("net.core.somaxconn"), SysctlNamespace::kNetwork);
  EXPECT_EQ(SysctlNamespaceOf("kernel.shmmax"), SysctlNamespace::kIpc);
  EXPECT_EQ(SysctlNamespaceOf("kernel.shm_rmid_forced"), SysctlNamespace::kIpc);
  EXPECT_EQ(SysctlNamespaceOf("kernel.msgmnb"), SysctlNamespace::kIpc);
  EXPECT_EQ(SysctlNamespaceOf("kernel.sem"), SysctlNamespace::kIpc);
  EXPECT_EQ(SysctlNamespaceOf("fs.mqueue.msg_max"), SysctlNamespace::kIpc);
  EXPECT_EQ(SysctlNamespaceOf("kernel.hostname"), SysctlNamespace::kUts);
  EXPECT_EQ(SysctlNamespaceOf("kernel.domainname"), SysctlNamespace::kUts);
  EXPECT_EQ(SysctlNamespaceOf("kernel.core_pattern"), SysctlNamespace::kNone);
  EXPECT_EQ(SysctlNamespaceOf("kernel.semaphores"), SysctlNamespace::kNone);
  EXPECT_EQ(SysctlNamespaceOf("vm.overcommit_memory"), SysctlNamespace::kNone);
  EXPECT_EQ(SysctlNamespaceOf("fs.mqueue"), SysctlNamespace::kNone);
  EXPECT_EQ(SysctlNamespaceOf("network.x"), SysctlNamespace::kNone);
}

TEST(CheckSysctlTest, AllowsOnlyWhatTheContainerOwns) {
  PrivateNamespaces all{.ipc = true, .network = true, .uts = true};
  PrivateNamespaces none;
  EXPECT_TRUE(CheckSysctl("net.ipv4.ip_forward", all).ok());
  EXPECT_TRUE(CheckSysctl("kernel.shmmni", all).ok());
  EXPECT_TRUE(CheckSysctl("kernel.domainname", all).ok());

  auto refused = CheckSysctl("kernel.core_pattern", all);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("kernel.core_pattern"), std::string::npos) << refused;

  for (const char* key : {"net.ipv4.ip_forward", "kernel.shmmax", "fs.mqueue.queues_max", "kernel.hostname"}) {
    auto status = CheckSysctl(key, none);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << key;
    EXPECT_NE(status.message().find(key), std::string::npos) << status;
    EXPECT_NE(status.message().find("shares the host's"), std::string::npos) << status;
  }
  EXPECT_FALSE(CheckSysctl("net.ipv4.ip_forward", {.ipc = true, .uts = true}).ok());
  EXPECT_FALSE(CheckSysctl("kernel.sem", {.network = true, .uts = true}).ok());
  EXPECT_FALSE(CheckSysctl("kernel.hostname", {.ipc = true, .network = true}).ok());
  EXPECT_FALSE(CheckSysctl("net..x", all).ok());
}

}  // namespace
}  // namespace berth::runtime
