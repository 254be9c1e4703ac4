#include "cgroups/device_filter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "gtest/gtest.h"

namespace berth::cgroups {
namespace {

enum Access { kMknod = BPF_DEVCG_ACC_MKNOD, kRead = BPF_DEVCG_ACC_READ, kWrite = BPF_DEVCG_ACC_WRITE };

// Runs a program of the instructions CompileDeviceFilter emits, as the kernel would.
std::optional<bool> Evaluate(const std::vector<bpf_insn>& program, char type, int access, uint32_t major, uint32_t minor) {
  uint32_t ctx[3] = {(static_cast<uint32_t>(access) << 16) |
                         (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
                     major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const bpf_insn& i = program[pc];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: reg[i.dst_reg] = ctx[i.off / 4]; break;
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg] & i.imm); break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> i.imm; break;
      case BPF_ALU | BPF_MOV | BPF_X: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.src_reg]); break;
      case BPF_ALU64 | BPF_MOV | BPF_K: reg[i.dst_reg] = static_cast<uint64_t>(i.imm); break;
      case BPF_JMP | BPF_JNE | BPF_K: if (reg[i.dst_reg] != static_cast<uint64_t>(i.imm)) pc += i.off; break;
      case BPF_JMP | BPF_JNE | BPF_X: if (reg[i.dst_reg] != reg[i.src_reg]) pc += i.off; break;
      case BPF_JMP | BPF_EXIT: return reg[0] == 1;
      default: ADD_FAILURE() << "unexpected instruction " << int(i.code); return std::nullopt;
    }
  }
  ADD_FAILURE() << "ran off the end of the program";
  return std::nullopt;
}

const std::vector<DeviceRule> kContainer = {
    {false, 'a', -1, -1, "rwm"},  // deny everything, then
    {true, 'c', 1, 3, "rwm"},     // /dev/null
    {true, 'c', 136, -1, "rwm"},  // any pts
    {true, 'c', 1, 11, "r"},      // kmsg, read only
    {false, 'c', 136, 5, "w"},    // but pts/5 not for writing (a later rule wins)
};

TEST(DeviceFilterTest, TheLastMatchingRuleDecides) {
  auto program = CompileDeviceFilter(kContainer);
  EXPECT_EQ(Evaluate(program, 'c', kRead | kWrite, 1, 3), true);
  EXPECT_EQ(Evaluate(program, 'c', kMknod, 1, 3), true);
  EXPECT_EQ(Evaluate(program, 'b', kRead, 1, 3), false) << "a block device with null's numbers";
  EXPECT_EQ(Evaluate(program, 'c', kRead, 1, 5), false) << "not listed";
  EXPECT_EQ(Evaluate(program, 'c', kRead, 136, 42), true);
  EXPECT_EQ(Evaluate(program, 'c', kRead, 1, 11), true);
  EXPECT_EQ(Evaluate(program, 'c', kRead | kWrite, 1, 11), false) << "asks for more than the rule gives";
  EXPECT_EQ(Evaluate(program, 'c', kWrite, 136, 5), false);
  EXPECT_EQ(Evaluate(program, 'c', kRead, 136, 5), true);
  EXPECT_EQ(Evaluate(program, 'b', kRead, 8, 0), false) << "the host's disk";
}

TEST(DeviceFilterTest, AllowAllAndNoRules) {
  auto privileged = CompileDeviceFilter({{false, 'a', -1, -1, "rwm"}, {true, 'a', -1, -1, "rwm"}});
  EXPECT_EQ(Evaluate(privileged, 'b', kRead | kWrite | kMknod, 8, 0), true);
  EXPECT_EQ(privileged.size(), 8u) << "nothing after the rule that matches everything";
  auto none = CompileDeviceFilter({});
  EXPECT_EQ(Evaluate(none, 'c', kRead, 1, 3), false);
}

// The kernel's verifier accepts each shape, and the program is enforced on a real
// v2 cgroup: here, the unified hierarchy beside the v1 ones, or the only one.
std::string V2Root() {
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs;
    if (::statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return root;
  }
  return "";
}

// Runs check in a child moved into the cgroup at dir; its exit code comes back.
int RunInCgroup(const std::string& dir, int (*check)()) {
  pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    int procs = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    std::string pid = absl::StrCat(::getpid());
    if (procs < 0 || ::write(procs, pid.data(), pid.size()) < 0) ::_exit(100);
    ::_exit(check());
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool Opens(const char* path, int flags) {
  int fd = ::open(path, flags | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

TEST(DeviceFilterTest, TheKernelEnforcesIt) {
  std::string root = V2Root();
  if (::geteuid() != 0 || root.empty()) GTEST_SKIP() << "needs root and a cgroup v2 hierarchy";
  std::string restricted = absl::StrCat(root, "/berth-device-filter-test-", ::getpid());
  std::string stacked = restricted + "-stacked";
  ASSERT_EQ(::mkdir(restricted.c_str(), 0755), 0) << restricted;
  ASSERT_EQ(::mkdir(stacked.c_str(), 0755), 0) << stacked;
  ASSERT_TRUE(AttachDeviceFilter(restricted, kContainer).ok());
  // Each shape passes the verifier; with both attached, every program must allow.
  ASSERT_TRUE(AttachDeviceFilter(stacked, {{false, 'a', -1, -1, "rwm"}, {true, 'a', -1, -1, "rwm"}}).ok());
  ASSERT_TRUE(AttachDeviceFilter(stacked, {}).ok());

  int restricted_result = RunInCgroup(restricted, [] {
    int failures = 0;
    if (!Opens("/dev/null", O_RDWR)) failures |= 1;
    if (Opens("/dev/zero", O_RDONLY)) failures |= 2;   // not listed
    if (Opens("/dev/kmsg", O_RDWR)) failures |= 4;     // read only
    if (::mknod("/dev/shm/berth-device-filter-zero", S_IFCHR | 0600, makedev(1, 5)) == 0) {
      ::unlink("/dev/shm/berth-device-filter-zero");
      failures |= 8;  // no 'm' for it either
    }
    return failures;
  });
  int stacked_result = RunInCgroup(stacked, [] { return Opens("/dev/null", O_RDONLY) ? 1 : 0; });
  ::rmdir(restricted.c_str());
  ::rmdir(stacked.c_str());
  EXPECT_EQ(restricted_result, 0) << "bits: 1 null refused, 2 zero opened, 4 kmsg opened for writing, "
                                     "8 a node made; 100: could not join the cgroup";
  EXPECT_EQ(stacked_result, 0) << "a program that refuses everything was overridden by an allowing one";
}

}  // namespace
}  // namespace berth::cgroups
