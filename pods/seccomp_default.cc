#include "pods/seccomp_default.h"

#include <algorithm>
#include <map>

namespace berth::pods {
namespace {


// What any container may call: the x86-64 system calls minus the ones below.
const std::vector<std::string> kAllowed = {
    "accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk", "cachestat", "capget", "capset",
    "chdir", "chmod", "chown", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range",
    "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "execve", "execveat", "exit",
    "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
    "fchmodat", "fchmodat2", "fchown", "fchownat", "fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock",
    "fork", "fremovexattr", "fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex", "futex_requeue",
    "futex_wait", "futex_waitv", "futex_wake", "futimesat", "get_robust_list", "get_thread_area", "getcpu",
    "getcwd", "getdents", "getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresuid", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday",
    "getuid", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
    "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup", "io_submit", "ioctl", "ioprio_get",
    "ioprio_set", "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown",
    "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "modify_ldt", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "nanosleep",
    "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_madvise", "process_mrelease", "pselect6", "ptrace", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recvfrom", "recvmmsg", "recvmsg",
    "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
    "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
    "select", "semctl", "semget", "semop", "semtimedop", "sendfile", "sendmmsg", "sendmsg", "sendto",
    "set_robust_list", "set_thread_area", "set_tid_address", "setdomainname", "setfsgid", "setfsuid", "setgid",
    "setgroups", "sethostname", "setitimer", "setpgid", "setpriority", "setregid", "setresgid", "setresuid",
    "setreuid", "setrlimit", "setsid", "setsockopt", "setuid", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "socket", "socketpair", "splice", "stat",
    "statfs", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill",
    "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
    "timerfd_create", "timerfd_gettime", "timerfd_settime", "times", "tkill", "truncate", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimes", "vfork", "vmsplice", "wait4", "waitid", "write",
    "writev",
    // The 32-bit x86 calls a 32-bit program in an image makes instead of the above.
    "_llseek", "_newselect", "chown32", "fadvise64_64", "fchown32", "fcntl64", "fstat64", "fstatat64",
    "fstatfs64", "ftruncate64", "getegid32", "geteuid32", "getgid32", "getgroups32", "getresgid32",
    "getresuid32", "getuid32", "ipc", "lchown32", "lstat64", "mmap2", "nice", "recv", "send", "sendfile64",
    "setfsgid32", "setfsuid32", "setgid32", "setgroups32", "setregid32", "setresgid32", "setresuid32",
    "setreuid32", "setuid32", "sigaction", "sigprocmask", "sigreturn", "sigsuspend", "socketcall", "stat64",
    "statfs64", "truncate64", "ugetrlimit", "waitpid", "clock_gettime64", "clock_nanosleep_time64",
    "futex_time64", "ppoll_time64", "pselect6_time64", "recvmmsg_time64", "rt_sigtimedwait_time64",
    "semtimedop_time64", "timer_gettime64", "timer_settime64", "timerfd_gettime64", "timerfd_settime64",
    "utimensat_time64", "io_pgetevents_time64", "mq_timedreceive_time64", "mq_timedsend_time64",
    "clock_getres_time64", "sched_rr_get_interval_time64",
};

// Allowed only with a capability: the kernel would check it anyway for most of
// them, but a filter keeps the attack surface of the call itself closed to the
// containers that lack it.
const std::map<std::string, std::vector<std::string>> kAllowedWithCapability = {
    {"CAP_SYS_ADMIN", {"bpf", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                       "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at", "open_tree",
                       "perf_event_open", "pivot_root", "quotactl", "quotactl_fd", "setns", "swapoff", "swapon",
                       "syslog", "umount2", "unshare"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_DAC_READ_SEARCH", {"name_to_handle_at", "open_by_handle_at"}},
    {"CAP_PERFMON", {"perf_event_open"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"delete_module", "finit_module", "init_module"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "migrate_pages", "move_pages", "set_mempolicy",
                      "set_mempolicy_home_node"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_vm_readv", "process_vm_writev", "userfaultfd"}},
    {"CAP_SYS_RAWIO", {"ioperm", "iopl"}},
    {"CAP_SYS_TIME", {"adjtimex", "clock_adjtime", "clock_settime", "settimeofday"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYSLOG", {"syslog"}},
};

// Refused whatever the capabilities: obsolete, unimplemented, or not namespaced
// (the kernel keyrings), and io_uring, whose operations bypass this filter.
const std::vector<std::string> kRefused = {
    "_sysctl", "add_key", "afs_syscall", "create_module", "epoll_ctl_old", "epoll_wait_old", "get_kernel_syms",
    "getpmsg", "io_uring_enter", "io_uring_register", "io_uring_setup", "kexec_file_load", "kexec_load",
    "keyctl", "nfsservctl", "putpmsg", "query_module", "request_key", "security", "sysfs", "tuxcall",
    "uselib", "ustat", "vserver",
};

// personality(2) for the values programs ask for: Linux, 32-bit uname (linux32),
// the 2.6-looking uname, both, and the query.
constexpr uint64_t kPersonalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

// clone(2) flags that make namespaces, which only CAP_SYS_ADMIN may use here.
constexpr uint64_t kNamespaceFlags = 0x7E020000;

constexpr int kEperm = 1;
constexpr int kEnosys = 38;

runtime::SeccompSyscall Rule(std::vector<std::string> names, const char* action) {
  runtime::SeccompSyscall rule;
  rule.names = std::move(names);
  rule.action = action;
  return rule;
}

}  // namespace

runtime::Seccomp RuntimeDefaultSeccompProfile(const std::vector<std::string>& capabilities) {
  auto has = [&](const std::string& cap) {
    return std::find(capabilities.begin(), capabilities.end(), cap) != capabilities.end();
  };
  std::vector<std::string> allowed = kAllowed;
  std::vector<std::string> refused = kRefused;
  for (const auto& [cap, names] : kAllowedWithCapability) {
    for (const auto& name : names) {
      auto& list = has(cap) ? allowed : refused;
      if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
    }
  }
  // A call both lists name (bpf: CAP_SYS_ADMIN or CAP_BPF) is allowed.
  refused.erase(std::remove_if(refused.begin(), refused.end(),
                               [&](const std::string& name) {
                                 return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
                               }),
                refused.end());

  runtime::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.default_errno_ret = kEnosys;
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  auto& syscalls = profile.syscalls;
  syscalls.push_back(Rule(allowed, "SCMP_ACT_ALLOW"));
  for (uint64_t persona : kPersonalities) {
    runtime::SeccompSyscall rule = Rule({"personality"}, "SCMP_ACT_ALLOW");
    rule.args = {{.index = 0, .value = persona, .value_two = 0, .op = "SCMP_CMP_EQ"}};
    syscalls.push_back(rule);
  }
  if (has("CAP_SYS_ADMIN")) {
    syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ALLOW"));
  } else {
    runtime::SeccompSyscall clone = Rule({"clone"}, "SCMP_ACT_ALLOW");
    // MASKED_EQ: (flags & value) == valueTwo.
    clone.args = {{.index = 0, .value = kNamespaceFlags, .value_two = 0, .op = "SCMP_CMP_MASKED_EQ"}};
    syscalls.push_back(clone);
    // clone3 passes its flags in memory, out of a filter's sight: ENOSYS makes the
    // C library use clone instead.
    runtime::SeccompSyscall clone3 = Rule({"clone3"}, "SCMP_ACT_ERRNO");
    clone3.errno_ret = kEnosys;
    syscalls.push_back(clone3);
    refused.erase(std::remove(refused.begin(), refused.end(), "clone3"), refused.end());
  }
  runtime::SeccompSyscall refuse = Rule(refused, "SCMP_ACT_ERRNO");
  refuse.errno_ret = kEperm;
  syscalls.push_back(refuse);
  return profile;
}

}  // namespace berth::pods
