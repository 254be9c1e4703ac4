#include "cgroups/device_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/unique_fd.h"

namespace berth::cgroups {
namespace {

// The program sees a struct bpf_cgroup_dev_ctx in r1: access_type (the access bits
// in the high 16 bits, the device type in the low 16), major, minor. It answers in
// r0: 1 allows, 0 refuses.
constexpr int16_t kAccessTypeOffset = 0;
constexpr int16_t kMajorOffset = 4;
constexpr int16_t kMinorOffset = 8;

// Registers the rules compare against, loaded once at the top.
constexpr uint8_t kType = BPF_REG_2;
constexpr uint8_t kAccess = BPF_REG_3;
constexpr uint8_t kMajor = BPF_REG_4;
constexpr uint8_t kMinor = BPF_REG_5;
constexpr uint8_t kScratch = BPF_REG_1;  // the context pointer is not needed after the loads

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn = {};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}
bpf_insn LoadWord(uint8_t dst, int16_t offset) { return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, offset, 0); }
bpf_insn And32(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn ShiftRight32(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn Move32(uint8_t dst, uint8_t src) { return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn Return(bool allow) { return Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, allow ? 1 : 0); }
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
// Jumps whose offset is patched once the rule's block is complete.
bpf_insn SkipIfNotEqual(uint8_t reg, int32_t imm) { return Insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, imm); }
bpf_insn SkipIfNotEqualReg(uint8_t reg, uint8_t other) { return Insn(BPF_JMP | BPF_JNE | BPF_X, reg, other, 0, 0); }

int32_t AccessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}
constexpr int32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

long Bpf(int command, bpf_attr* attr) { return ::syscall(SYS_bpf, command, attr, sizeof(*attr)); }

}  // namespace

std::vector<bpf_insn> CompileDeviceFilter(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> program = {
      LoadWord(kType, kAccessTypeOffset), And32(kType, 0xffff),
      LoadWord(kAccess, kAccessTypeOffset), ShiftRight32(kAccess, 16),
      LoadWord(kMajor, kMajorOffset),       LoadWord(kMinor, kMinorOffset),
  };
  // The last rule decides, so the rules are tried from the last; a rule that
  // matches everything ends the program (the verifier refuses code it can never reach).
  for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) {
    std::vector<bpf_insn> block;
    if (rule->type == 'c' || rule->type == 'b') {
      block.push_back(SkipIfNotEqual(kType, rule->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
    }
    int32_t allowed = AccessBits(rule->access);
    if (allowed != kAllAccess) {
      // Matches when what is asked for is within what the rule names.
      block.push_back(Move32(kScratch, kAccess));
      block.push_back(And32(kScratch, allowed));
      block.push_back(SkipIfNotEqualReg(kScratch, kAccess));
    }
    if (rule->major >= 0) block.push_back(SkipIfNotEqual(kMajor, static_cast<int32_t>(rule->major)));
    if (rule->minor >= 0) block.push_back(SkipIfNotEqual(kMinor, static_cast<int32_t>(rule->minor)));
    const bool matches_everything = block.empty();
    block.push_back(Return(rule->allow));
    block.push_back(Exit());
    for (size_t i = 0; i < block.size(); ++i) {
      if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) == BPF_JNE) {
        block[i].off = static_cast<int16_t>(block.size() - i - 1);  // to the next rule's block
      }
    }
    program.insert(program.end(), block.begin(), block.end());
    if (matches_everything) return program;
  }
  program.push_back(Return(false));
  program.push_back(Exit());
  return program;
}

Status AttachDeviceFilter(const std::string& dir, const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> program = CompileDeviceFilter(rules);
  static const char kLicense[] = "Apache-2.0";
  std::string verifier_log(16384, '\0');
  bpf_attr load = {};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  load.log_buf = reinterpret_cast<uint64_t>(verifier_log.data());
  load.log_size = static_cast<uint32_t>(verifier_log.size());
  load.log_level = 1;
  UniqueFd prog(static_cast<int>(Bpf(BPF_PROG_LOAD, &load)));
  if (!prog) {
    Status error = ErrnoError("load the cgroup v2 device program");
    std::string log(verifier_log.c_str());
    if (log.empty()) return error;
    return Status(error.code(), absl::StrCat(error.message(), " (verifier: ", absl::StripSuffix(log, "\n"), ")"));
  }
  UniqueFd cgroup(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return ErrnoError(absl::StrCat("open cgroup ", dir));
  bpf_attr attach = {};
  attach.target_fd = static_cast<uint32_t>(cgroup.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  // Programs of the parents (say, systemd's) keep applying as well.
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attach) != 0) {
    return ErrnoError(absl::StrCat("attach the device program to cgroup ", dir));
  }
  return absl::OkStatus();
}

}  // namespace berth::cgroups
