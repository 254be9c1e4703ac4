// berth-shim: one per container, the parent of its init process.
//
// It starts the container with the OCI runtime's `create`, holds the container's
// stdout and stderr (or, with --tty, the master end of its terminal) and its stdin
// (with --stdin, a pipe kept open for attach), writes the output to the CRI log
// file, takes commands on its control FIFO (log reopen), and when the init exits
// records its exit status, finish time and whether the kernel's OOM killer took it.
// It detaches from berthd at start so that it, and the container, outlive berthd
// restarts and crashes. With --pod-init POD_DIR it is a pod's shared-PID init
// instead; with --reap-exec, the parent of a detached runc/crun exec (exec_reaper.h).
// The protocol with berthd is pods/shim/protocol.h; the work is in pods/shim/
// (monitor.h, runtime_create.h, console.h, pod_init.h, exec_reaper.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/file_util.h"
#include "base/unix_socket.h"
#include "pods/shim/console.h"
#include "pods/shim/cri_log.h"
#include "pods/shim/exec_reaper.h"
#include "pods/shim/monitor.h"
#include "pods/shim/pod_init.h"
#include "pods/shim/protocol.h"
#include "pods/shim/runtime_create.h"

namespace shim = berth::pods::shim;
using berth::UniqueFd;

namespace {

void Report(const std::string& line) {
  std::string out = line + "\n";
  [[maybe_unused]] ssize_t n = ::write(shim::kReadyFd, out.data(), out.size());
}

[[noreturn]] void Fail(absl::string_view message) {
  Report(shim::FailedLine(message));
  _exit(1);
}

// The OOM killer's count for the container's memory cgroup: "oom_kill N" in v1's
// memory.oom_control and v2's memory.events.
long OomKills(const std::string& file) {
  if (file.empty()) return 0;
  auto data = berth::ReadFile(file);
  if (!data.ok()) return 0;
  size_t at = data->find("oom_kill ");
  return at == std::string::npos ? 0 : std::strtol(data->c_str() + at + 9, nullptr, 10);
}

UniqueFd Pipe(UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Fail(std::string("pipe: ") + strerror(errno));
  *write_end = UniqueFd(fds[1]);
  return UniqueFd(fds[0]);
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing of berthd's but the ready pipe belongs here.
  ::close_range(shim::kReadyFd + 1, ~0U, 0);
  if ((argc == 3 || argc == 4) && std::string(argv[1]) == "--pod-init") {
    shim::RunPodInit(argv[2], argc == 4 ? argv[3] : "");
  }
  // --reap-exec PID_FILE -- RUNTIME ARGS...: the parent of a detached runc/crun exec.
  if (argc >= 5 && std::string(argv[1]) == "--reap-exec" && std::string(argv[3]) == "--") {
    shim::RunExecReaper(argv[2], std::vector<std::string>(argv + 4, argv + argc));
  }
  auto parsed = shim::ParseShimArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    fprintf(stderr, "berth-shim: %s\n", std::string(parsed.status().message()).c_str());
    return 2;
  }
  const shim::ShimOptions& o = *parsed;
  // Detach: berthd reaps this first process at once; the shim lives on in a new
  // session, reparented away from berthd.
  pid_t daemon = ::fork();
  if (daemon < 0) Fail(std::string("fork: ") + strerror(errno));
  if (daemon > 0) _exit(0);
  ::setsid();
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::prctl(PR_SET_NAME, "berth-shim");
  int null_fd = ::open("/dev/null", O_RDWR);
  ::dup2(null_fd, 0);
  ::dup2(null_fd, 1);
  ::dup2(null_fd, 2);
  ::close(null_fd);
  // Blocked before the init exists, so its exit waits on the monitor's signalfd.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGPIPE);
  sigprocmask(SIG_BLOCK, &mask, nullptr);

  UniqueFd out_w, err_w;
  shim::Monitor::Streams streams;
  streams.stdout_read = Pipe(&out_w);
  streams.stderr_read = Pipe(&err_w);
  berth::pods::CriLogWriter log_writer(o.log);
  if (berth::Status s = log_writer.Open(); !s.ok()) Fail(s.message());
  if (::mkfifo(o.control.c_str(), 0600) != 0 && errno != EEXIST) Fail(std::string("mkfifo: ") + strerror(errno));
  // Read-write so the FIFO never reports end-of-file between berthd's writes.
  streams.control = UniqueFd(::open(o.control.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  // With stdin, the shim holds the write end for attach; the container sees an open
  // stdin that gives end-of-file only when the shim closes it.
  UniqueFd in_r, in_w;
  if (o.stdin) in_r = Pipe(&in_w);
  shim::ConsoleSocket console;
  if (o.tty) {
    auto listening = shim::ListenConsoleSocket(o.exit_file.substr(0, o.exit_file.rfind('/')));
    if (!listening.ok()) Fail(listening.status().message());
    console = *std::move(listening);
  }

  auto init = shim::CreateWithRuntime(o, {in_r.get(), out_w.get(), err_w.get(), console.path});
  if (!init.ok()) Fail(init.status().message());
  // Only the container holds the write ends now: end-of-file means it is gone.
  out_w.Reset();
  err_w.Reset();
  in_r.Reset();
  if (o.tty) {
    auto terminal = shim::ReceiveConsole(console);
    if (!terminal.ok()) Fail(terminal.status().message());
    streams.terminal = *std::move(terminal);
    console.listener.Reset();
  }
  Report(shim::ReadyLine(*init));
  ::close(shim::kReadyFd);

  // The stdin write end stays with the monitor: attachers write to it, and the
  // container sees the end of its stdin only when the monitor closes it.
  streams.stdin_write = std::move(in_w);
  streams.stdin_once = o.stdin_once;
  if (!o.attach.empty()) {
    auto attach = berth::ListenUnix(o.attach);
    if (attach.ok()) streams.attach = *std::move(attach);  // without it, no attach: the container runs on
  }
  shim::Monitor monitor(*init, std::move(streams), &log_writer);
  shim::ExitRecord record;
  record.exit_code = monitor.Run();
  record.finished_at = berth::NowNanos();
  record.oom_killed = OomKills(o.oom_file) > 0;
  (void)berth::WriteFileAtomically(o.exit_file, shim::SerializeExitRecord(record), 0644, berth::Durability::kCrash);
  ::unlink(o.control.c_str());
  return 0;
}
