#include "runtime/checkpoint.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::runtime {
namespace {

bool Has(const std::vector<std::string>& args, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag && args[i + 1] == value) return true;
  }
  return false;
}

Spec PodContainerSpec(const std::string& hosts_source) {
  Spec spec;
  spec.root_path = "/var/lib/berth/containers/c1/bundle/rootfs";
  spec.mounts = {{"/proc", "proc", "proc", {}},
                 {"/etc/hosts", "bind", hosts_source, {"rbind", "ro"}},
                 {"/dev/shm", "", "/run/berth/pods/p1/shm", {"bind"}},
                 {"/sys/fs/cgroup", "cgroup", "cgroup", {"ro"}}};
  return spec;
}

TEST(CheckpointTest, ExternalMountsAreTheBindsAndTheCgroupHierarchies) {
  auto mounts = ExternalMountsOf(PodContainerSpec("/run/berth/pods/p1/hosts"), {"memory", "cpu,cpuacct"});
  ASSERT_EQ(mounts.size(), 4u);
  EXPECT_EQ(mounts[0].key, "/etc/hosts");
  EXPECT_EQ(mounts[1].key, "/dev/shm");
  EXPECT_EQ(mounts[2].key, "/sys/fs/cgroup/memory");
  EXPECT_EQ(mounts[2].kind, "cgroup");
  EXPECT_EQ(mounts[3].detail, "cpu,cpuacct");

  auto parsed = ParseExternalMounts(ExternalMountsJson(mounts));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[3].key, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_FALSE(ParseExternalMounts("{}").ok());
  EXPECT_FALSE(ParseExternalMounts(R"([{"key":"/x","kind":"tmpfs"}])").ok());
}

TEST(CheckpointTest, RestoreMapsEachMountToTheNewContainersSource) {
  Spec restored = PodContainerSpec("/run/berth/pods/p2/hosts");
  std::vector<std::pair<std::string, std::string>> cgroups = {{"memory", "/sys/fs/cgroup/memory/berth/p2/c2"}};
  auto hosts = RestoreSource({"/etc/hosts", "bind", ""}, restored, cgroups);
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(*hosts, "/run/berth/pods/p2/hosts");
  auto memory = RestoreSource({"/sys/fs/cgroup/memory", "cgroup", "memory"}, restored, cgroups);
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(*memory, "/sys/fs/cgroup/memory/berth/p2/c2");
  auto missing = RestoreSource({"/data", "bind", ""}, restored, cgroups);
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("/data"), std::string::npos) << missing.status();
  EXPECT_EQ(RestoreSource({"/sys/fs/cgroup/pids", "cgroup", "pids"}, restored, cgroups).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(CheckpointTest, CriuCommandLines) {
  DumpPlan dump;
  dump.criu = "/usr/sbin/criu";
  dump.pid = 42;
  dump.image_path = "/img";
  dump.work_path = "/work";
  dump.root = "/rootfs";
  dump.freezer_dir = "/sys/fs/cgroup/freezer/c";
  dump.mounts = {{"/etc/hosts", "bind", ""}};
  dump.netns_inode = "4026532000";
  dump.leave_running = true;
  auto args = CriuDumpArgs(dump);
  EXPECT_EQ(args[0], "/usr/sbin/criu");
  EXPECT_EQ(args[1], "dump");
  EXPECT_TRUE(Has(args, "--tree", "42"));
  EXPECT_TRUE(Has(args, "--freeze-cgroup", "/sys/fs/cgroup/freezer/c"));
  EXPECT_TRUE(Has(args, "--external", "mnt[/etc/hosts]:/etc/hosts"));
  EXPECT_TRUE(Has(args, "--external", "net[4026532000]:berth-netns"));
  EXPECT_NE(std::find(args.begin(), args.end(), "--leave-running"), args.end());
  EXPECT_EQ(std::find(args.begin(), args.end(), "--tcp-established"), args.end());

  RestorePlan restore;
  restore.criu = "criu";
  restore.image_path = "/img";
  restore.work_path = "/work";
  restore.root = "/new-rootfs";
  restore.pid_file = "/work/pid";
  restore.mounts = {{"/etc/hosts", "/run/berth/pods/p2/hosts"}};
  restore.netns_fd = 3;
  restore.join_namespaces = {{"ipc", "/run/berth/pods/p2/ipc"}};
  restore.inherited_pipes = {{1, "pipe:[77]"}};
  restore.tcp_established = true;
  args = CriuRestoreArgs(restore);
  EXPECT_EQ(args[1], "restore");
  EXPECT_TRUE(Has(args, "--root", "/new-rootfs"));
  EXPECT_TRUE(Has(args, "--external", "mnt[/etc/hosts]:/run/berth/pods/p2/hosts"));
  EXPECT_TRUE(Has(args, "--inherit-fd", "fd[3]:berth-netns"));
  EXPECT_TRUE(Has(args, "--inherit-fd", "fd[1]:pipe:[77]"));
  EXPECT_TRUE(Has(args, "--join-ns", "ipc:/run/berth/pods/p2/ipc"));
  EXPECT_NE(std::find(args.begin(), args.end(), "--restore-sibling"), args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "--tcp-established"), args.end());
}

}  // namespace
}  // namespace berth::runtime
