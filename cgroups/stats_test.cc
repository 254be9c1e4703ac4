#include "cgroups/stats.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file_util.h"

namespace berth::cgroups {
namespace {

Layout FakeLayout(Mode mode, const std::string& root) {
  Layout layout;
  layout.mode = mode;
  layout.root = root;
  return layout;
}

// A cgroup tree written by hand in a temporary directory, standing in for
// /sys/fs/cgroup: the readers only open files under the layout's root.
class FakeCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cgstats-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& relative, const std::string& content) {
    std::string path = root_ + relative;
    ASSERT_TRUE(MakeDirs(std::filesystem::path(path).parent_path().string()).ok());
    ASSERT_TRUE(WriteFileAtomically(path, content).ok());
  }
  std::string root_;
};

TEST_F(FakeCgroupTree, ReadsV2) {
  const std::string dir = "/kubepods/pod1/ctr";
  Write(dir + "/cpu.stat",
        "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 700\n");
  Write(dir + "/memory.current", "10485760\n");
  Write(dir + "/memory.peak", "20971520\n");
  Write(dir + "/memory.stat",
        "anon 4096000\nfile 6000000\nkernel 123456\nfile_mapped 81920\ninactive_file 2000000\n"
        "pgfault 4242\npgmajfault 7\n");
  Write(dir + "/memory.swap.current", "8192\n");
  Write(dir + "/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
  Write(dir + "/memory.max", "67108864\n");
  Write(dir + "/memory.swap.max", "max\n");
  Write(dir + "/pids.current", "3\n");
  Write(dir + "/pids.max", "max\n");
  Write(dir + "/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
  Write(dir + "/cpu.pressure", "some avg10=1.50 avg60=0.20 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 "
                               "avg300=0.00 total=99\n");

  Layout layout = FakeLayout(Mode::kUnified, root_);
  auto stats = ReadStats(layout, dir);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->cpu.usage_nanos, 2500000u);
  EXPECT_EQ(stats->cpu.user_nanos, 2000000u);
  EXPECT_EQ(stats->cpu.system_nanos, 500000u);
  EXPECT_EQ(stats->cpu.periods, 10u);
  EXPECT_EQ(stats->cpu.throttled_periods, 3u);
  EXPECT_EQ(stats->cpu.throttled_nanos, 700000u);
  EXPECT_EQ(stats->memory.usage_bytes, 10485760u);
  EXPECT_EQ(stats->memory.max_usage_bytes, 20971520u);
  EXPECT_EQ(stats->memory.working_set_bytes, 10485760u - 2000000u);
  EXPECT_EQ(stats->memory.rss_bytes, 4096000u);
  EXPECT_EQ(stats->memory.cache_bytes, 6000000u);
  EXPECT_EQ(stats->memory.mapped_file_bytes, 81920u);
  EXPECT_EQ(stats->memory.kernel_bytes, 123456u);
  EXPECT_EQ(stats->memory.swap_bytes, 8192u);
  EXPECT_EQ(stats->memory.page_faults, 4242u);
  EXPECT_EQ(stats->memory.hierarchy_major_page_faults, 7u);
  EXPECT_EQ(stats->memory.oom_kills, 1u);
  EXPECT_EQ(stats->memory.limit_bytes, 67108864u);
  EXPECT_FALSE(stats->memory.swap_limit_bytes.has_value());
  EXPECT_EQ(stats->pids.current, 3u);
  EXPECT_EQ(stats->pids.limit, 0u);
  ASSERT_EQ(stats->io.size(), 1u);
  EXPECT_EQ(stats->io[0].major, 8u);
  EXPECT_EQ(stats->io[0].write_bytes, 8192u);
  EXPECT_EQ(stats->io[0].writes, 2u);
  ASSERT_TRUE(stats->cpu_pressure.has_value());
  EXPECT_EQ(stats->cpu_pressure->some.total_micros, 1234u);
  EXPECT_DOUBLE_EQ(stats->cpu_pressure->some.avg10, 1.5);
  EXPECT_EQ(stats->cpu_pressure->full.total_micros, 99u);
  EXPECT_FALSE(stats->memory_pressure.has_value());

  auto cpu = ReadCpuUsage(layout, dir);
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(*cpu, 2500000u);
}

TEST_F(FakeCgroupTree, V2KernelMemoryFromItsPartsOnOlderKernels) {
  Write("/c/memory.current", "100\n");
  Write("/c/memory.stat", "kernel_stack 10\npagetables 20\npercpu 1\nsock 2\nslab 30\n");
  auto stats = ReadStats(FakeLayout(Mode::kUnified, root_), "/c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->memory.kernel_bytes, 63u);
}

TEST_F(FakeCgroupTree, WorkingSetIsFlooredAtZero) {
  Write("/c/memory.current", "100\n");
  Write("/c/memory.stat", "inactive_file 500\n");
  auto stats = ReadStats(FakeLayout(Mode::kUnified, root_), "/c");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->memory.working_set_bytes, 0u);
}

TEST_F(FakeCgroupTree, ReadsV1) {
  const std::string path = "/berth/pod/ctr";
  Write("/cpuacct" + path + "/cpuacct.usage", "5000000000\n");
  Write("/cpuacct" + path + "/cpuacct.usage_user", "4000000000\n");
  Write("/cpuacct" + path + "/cpuacct.usage_sys", "1000000000\n");
  Write("/cpu" + path + "/cpu.stat", "nr_periods 50\nnr_throttled 5\nthrottled_time 123456789\n");
  Write("/memory" + path + "/memory.usage_in_bytes", "3000000\n");
  Write("/memory" + path + "/memory.max_usage_in_bytes", "4000000\n");
  Write("/memory" + path + "/memory.stat",
        "cache 1\nrss 2\npgfault 10\npgmajfault 1\ntotal_cache 1000000\ntotal_rss 1500000\n"
        "total_mapped_file 4096\ntotal_swap 0\ntotal_inactive_file 200000\ntotal_pgfault 30\ntotal_pgmajfault 3\n");
  Write("/memory" + path + "/memory.kmem.usage_in_bytes", "65536\n");
  Write("/memory" + path + "/memory.failcnt", "4\n");
  Write("/memory" + path + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  Write("/memory" + path + "/memory.limit_in_bytes", "67108864\n");
  Write("/memory" + path + "/memory.memsw.limit_in_bytes", "134217728\n");
  Write("/memory" + path + "/cgroup.procs", "12\n13\n");
  Write("/pids" + path + "/pids.current", "5\n");
  Write("/pids" + path + "/pids.max", "1024\n");
  Write("/blkio" + path + "/blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n");
  Write("/blkio" + path + "/blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");

  Layout layout = FakeLayout(Mode::kHybrid, root_);
  auto stats = ReadStats(layout, path);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->cpu.usage_nanos, 5000000000u);
  EXPECT_EQ(stats->cpu.user_nanos, 4000000000u);
  EXPECT_EQ(stats->cpu.throttled_nanos, 123456789u);
  EXPECT_EQ(stats->memory.working_set_bytes, 2800000u);
  EXPECT_EQ(stats->memory.rss_bytes, 1500000u);
  EXPECT_EQ(stats->memory.page_faults, 10u);
  EXPECT_EQ(stats->memory.hierarchy_page_faults, 30u);
  EXPECT_EQ(stats->memory.kernel_bytes, 65536u);
  EXPECT_EQ(stats->memory.failcnt, 4u);
  EXPECT_EQ(stats->memory.oom_kills, 2u);
  EXPECT_EQ(stats->memory.swap_limit_bytes, 67108864u);
  EXPECT_EQ(stats->pids.current, 5u);
  EXPECT_EQ(stats->pids.limit, 1024u);
  ASSERT_EQ(stats->io.size(), 1u);
  EXPECT_EQ(stats->io[0].read_bytes, 4096u);
  EXPECT_EQ(stats->io[0].reads, 1u);
  EXPECT_EQ(stats->io[0].writes, 2u);
  EXPECT_FALSE(stats->cpu_pressure.has_value());
  EXPECT_EQ(ReadProcs(layout, path), (std::vector<int>{12, 13}));
}

TEST_F(FakeCgroupTree, MissingCgroupIsNotFound) {
  EXPECT_EQ(ReadStats(FakeLayout(Mode::kUnified, root_), "/gone").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadStats(FakeLayout(Mode::kLegacy, root_), "/gone").status().code(), StatusCode::kNotFound);
}

TEST(ParseLimit, TreatsMaxAndHugeValuesAsUnlimited) {
  EXPECT_FALSE(ParseLimit("max\n").has_value());
  EXPECT_FALSE(ParseLimit("9223372036854771712\n").has_value());
  EXPECT_FALSE(ParseLimit("garbage").has_value());
  EXPECT_EQ(ParseLimit("1048576\n"), 1048576u);
}

TEST(ParsePressure, RefusesGarbage) {
  EXPECT_FALSE(ParsePressure("").has_value());
  EXPECT_FALSE(ParsePressure("some avg10=x total=1\n").has_value());
}

}  // namespace
}  // namespace berth::cgroups
