// berth-shim: one per container, the parent of its init process.
//
// It starts the container with the OCI runtime's `create`, holds the container's
// stdout and stderr (or, with --tty, the master end of its terminal) and its stdin
// (with --stdin, a pipe kept open for attach), writes the output to the CRI log
// file, reopens that file when told to (a line "reopen" on the control FIFO), and
// when the init exits records its exit status, finish time and whether the
// kernel's OOM killer took it, in a file written atomically. It detaches from
// berthd at start so that it, and the container, outlive berthd restarts and crashes.
//
//   berth-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --log FILE
//              --exit-file FILE --control FIFO [--oom-file FILE] [--runtime-log FILE]
//              [--tty] [--stdin]
//
// fd 3 receives "OK <pid>" once the container is created, or "ERR <message>".
//
//   berth-shim --pod-init
//
// is a pod's init instead: pid 1 of a new PID namespace that the pod's containers
// share, reaping their orphans until it is told to stop (fd 3 receives its pid).
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "pods/shim/cri_log.h"

using berth::pods::CriLogWriter;
using berth::Status;
using berth::UniqueFd;

namespace {

constexpr int kReadyFd = 3;

struct Options {
  std::string id, bundle, runtime, runtime_root, log, exit_file, control, oom_file, runtime_log;
  bool tty = false;    // the container gets a terminal; its output is logged as stdout
  bool stdin = false;  // the container's stdin is a pipe the shim holds open (for attach)
};

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

void Report(const std::string& line) {
  std::string out = line + "\n";
  [[maybe_unused]] ssize_t n = ::write(kReadyFd, out.data(), out.size());
}

[[noreturn]] void Fail(const std::string& message) {
  Report("ERR " + message);
  _exit(1);
}

bool ParseOptions(int argc, char** argv, Options* o) {
  static const option kLong[] = {
      {"id", required_argument, nullptr, 'i'},          {"bundle", required_argument, nullptr, 'b'},
      {"runtime", required_argument, nullptr, 'r'},     {"runtime-root", required_argument, nullptr, 'R'},
      {"log", required_argument, nullptr, 'l'},         {"exit-file", required_argument, nullptr, 'e'},
      {"control", required_argument, nullptr, 'c'},     {"oom-file", required_argument, nullptr, 'o'},
      {"runtime-log", required_argument, nullptr, 'L'}, {"tty", no_argument, nullptr, 't'},
      {"stdin", no_argument, nullptr, 's'},             {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (c) {
      case 'i': o->id = optarg; break;
      case 'b': o->bundle = optarg; break;
      case 'r': o->runtime = optarg; break;
      case 'R': o->runtime_root = optarg; break;
      case 'l': o->log = optarg; break;
      case 'e': o->exit_file = optarg; break;
      case 'c': o->control = optarg; break;
      case 'o': o->oom_file = optarg; break;
      case 'L': o->runtime_log = optarg; break;
      case 't': o->tty = true; break;
      case 's': o->stdin = true; break;
      default: return false;
    }
  }
  return !o->id.empty() && !o->bundle.empty() && !o->runtime.empty() && !o->runtime_root.empty() &&
         !o->log.empty() && !o->exit_file.empty() && !o->control.empty();
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

// A listening socket the runtime sends the terminal's master end to. It lives in the
// container's run dir but is named through /proc so the path fits in sun_path
// however deep the state dir is.
UniqueFd ListenConsoleSocket(const Options& o, std::string* path) {
  std::string dir = o.exit_file.substr(0, o.exit_file.rfind('/'));
  int dir_fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY);  // kept for the shim's life
  if (dir_fd < 0) Fail("open " + dir + ": " + strerror(errno));
  *path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(dir_fd) + "/console.sock";
  // Non-blocking: the runtime has connected and sent by the time its create exits,
  // so an empty backlog then means it never will.
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path->c_str());
  ::unlink(path->c_str());
  if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(sock.get(), 1) != 0) {
    Fail("console socket: " + std::string(strerror(errno)));
  }
  return sock;
}

// The terminal master the runtime sent during create.
UniqueFd ReceiveConsole(int listener, const std::string& path) {
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  ::unlink(path.c_str());
  if (!conn) Fail("the runtime sent no terminal");
  char name[128];
  iovec payload = {name, sizeof name};
  char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message = {};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (::recvmsg(conn.get(), &message, MSG_CMSG_CLOEXEC) < 0) {
    Fail("receive the terminal: " + std::string(strerror(errno)));
  }
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (header == nullptr || header->cmsg_type != SCM_RIGHTS) Fail("the runtime sent no terminal");
  int fd;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return UniqueFd(fd);
}

// Runs the runtime's create with the container's stdio; returns the init's pid.
pid_t CreateContainer(const Options& o, int in_r, int out_w, int err_w, const std::string& console_socket) {
  std::string pid_file = o.bundle + "/init.pid";
  ::unlink(pid_file.c_str());
  std::vector<std::string> args = {o.runtime};
  if (!o.runtime_log.empty()) {
    args.insert(args.end(), {"--log", o.runtime_log, "--log-format", "json"});
  }
  args.insert(args.end(), {"--root", o.runtime_root, "create", "--bundle", o.bundle, "--pid-file", pid_file});
  if (!console_socket.empty()) args.insert(args.end(), {"--console-socket", console_socket});
  args.push_back(o.id);
  pid_t child = ::fork();
  if (child < 0) Fail(std::string("fork: ") + strerror(errno));
  if (child == 0) {
    int null_fd = in_r >= 0 ? in_r : ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_w, 1);
    ::dup2(err_w, 2);
    ::close_range(3, ~0U, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = "runtime create failed";
    if (!o.runtime_log.empty()) {
      auto log = berth::ReadFile(o.runtime_log);
      // The last line of the runtime's own log (JSON, as asked for) says why.
      if (log.ok() && !log->empty()) {
        std::string text = *log;
        while (!text.empty() && text.back() == '\n') text.pop_back();
        std::string last = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
        auto entry = nlohmann::json::parse(last, nullptr, false);
        if (entry.is_object() && entry.contains("msg") && entry["msg"].is_string()) {
          last = entry["msg"].get<std::string>();
        }
        why += ": " + last;
      }
    }
    Fail(why);
  }
  auto pid_text = berth::ReadFile(pid_file);
  if (!pid_text.ok()) Fail("runtime create left no pid file");
  pid_t pid = static_cast<pid_t>(std::strtol(pid_text->c_str(), nullptr, 10));
  if (pid <= 0) Fail("runtime create wrote a bad pid file");
  return pid;
}

// pid 1 of a pod's shared PID namespace: reaps whatever is reparented to it and
// exits on SIGTERM or SIGINT.
[[noreturn]] void RunPodInit() {
  pid_t daemon = ::fork();
  if (daemon < 0) Fail(std::string("fork: ") + strerror(errno));
  if (daemon > 0) _exit(0);
  ::setsid();
  if (::unshare(CLONE_NEWPID) != 0) Fail(std::string("unshare PID namespace: ") + strerror(errno));
  pid_t init = ::fork();
  if (init < 0) Fail(std::string("fork: ") + strerror(errno));
  if (init > 0) {
    Report("OK " + std::to_string(init));
    _exit(0);
  }
  ::close(kReadyFd);
  ::prctl(PR_SET_NAME, "berth-pod-init");
  int null_fd = ::open("/dev/null", O_RDWR);
  ::dup2(null_fd, 0);
  ::dup2(null_fd, 1);
  ::dup2(null_fd, 2);
  sigset_t mask;
  sigfillset(&mask);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  for (;;) {
    int sig = 0;
    sigwait(&mask, &sig);
    if (sig == SIGTERM || sig == SIGINT) _exit(0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing of berthd's but the ready pipe belongs here.
  ::close_range(kReadyFd + 1, ~0U, 0);
  // "--pod-init POD_DIR": the pod's directory only names the process for people and tests.
  if (argc >= 2 && std::string(argv[1]) == "--pod-init") RunPodInit();
  Options o;
  if (!ParseOptions(argc, argv, &o)) {
    fprintf(stderr, "usage: berth-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --log FILE "
                    "--exit-file FILE --control FIFO [--oom-file FILE] [--runtime-log FILE] [--tty] [--stdin]\n");
    return 2;
  }
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

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGPIPE);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  UniqueFd signals(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) Fail("pipe failed");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]), err_r(err_pipe[0]), err_w(err_pipe[1]);

  CriLogWriter log_writer(o.log);
  if (Status s = log_writer.Open(); !s.ok()) Fail(std::string(s.message()));
  if (::mkfifo(o.control.c_str(), 0600) != 0 && errno != EEXIST) Fail("mkfifo control failed");
  // Read-write so the FIFO never reports end-of-file between berthd's writes.
  UniqueFd control(::open(o.control.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));

  // With stdin, the shim holds the write end for attach; the container sees an open
  // stdin that gives end-of-file only when the shim closes it.
  UniqueFd in_r, in_w;
  if (o.stdin) {
    int in_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) Fail("pipe failed");
    in_r = UniqueFd(in_pipe[0]);
    in_w = UniqueFd(in_pipe[1]);
  }
  std::string console_path;
  UniqueFd console_listener;
  if (o.tty) console_listener = ListenConsoleSocket(o, &console_path);

  pid_t init = CreateContainer(o, in_r.get(), out_w.get(), err_w.get(), console_path);
  // Only the container holds the write ends now: end-of-file means it is gone.
  out_w.Reset();
  err_w.Reset();
  in_r.Reset();
  // A terminal's output arrives on its master end, logged as stdout as kubelet expects.
  UniqueFd terminal;
  if (o.tty) {
    terminal = ReceiveConsole(console_listener.get(), console_path);
    console_listener.Reset();
  }
  Report("OK " + std::to_string(init));
  ::close(kReadyFd);

  int exit_code = -1;
  bool exited = false;
  auto exited_at = std::chrono::steady_clock::now();
  char buf[65536];
  for (;;) {
    pollfd fds[5] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}, {signals.get(), POLLIN, 0},
                     {control.get(), POLLIN, 0}, {terminal.get(), POLLIN, 0}};
    bool streams_open = out_r.valid() || err_r.valid() || terminal.valid();
    if (exited && !streams_open) break;
    int timeout = -1;
    if (exited) {
      // Processes that escaped the container may hold the pipes: wait a moment, not forever.
      auto left = std::chrono::milliseconds(1000) -
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - exited_at);
      if (left.count() <= 0) break;
      timeout = static_cast<int>(left.count());
    }
    int n = ::poll(fds, 5, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      UniqueFd& fd = i == 0 ? out_r : err_r;
      const char* stream = i == 0 ? "stdout" : "stderr";
      ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got > 0) {
        (void)log_writer.Write(stream, absl::string_view(buf, static_cast<size_t>(got)), NowNanos());
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        (void)log_writer.Flush(stream, NowNanos());
        fd.Reset();
      }
    }
    if (fds[4].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::read(terminal.get(), buf, sizeof buf);
      if (got > 0) {
        (void)log_writer.Write("stdout", absl::string_view(buf, static_cast<size_t>(got)), NowNanos());
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        // EIO: every holder of the terminal's slave end has gone.
        (void)log_writer.Flush("stdout", NowNanos());
        terminal.Reset();
      }
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(signals.get(), &info, sizeof info) == sizeof info) {
      }
      int status;
      pid_t pid;
      // As a subreaper the shim inherits the container's orphans too: reap them all.
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid != init) continue;
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        exited = true;
        exited_at = std::chrono::steady_clock::now();
      }
    }
    if (fds[3].revents & POLLIN) {
      ssize_t got = ::read(control.get(), buf, sizeof buf);
      if (got > 0 && absl::string_view(buf, static_cast<size_t>(got)).find("reopen") != absl::string_view::npos) {
        (void)log_writer.Reopen();
      }
    }
  }
  (void)log_writer.Flush("stdout", NowNanos());
  (void)log_writer.Flush("stderr", NowNanos());
  std::string record = "{\"exit_code\":" + std::to_string(exit_code) +
                       ",\"finished_at\":" + std::to_string(NowNanos()) +
                       ",\"oom_killed\":" + (OomKills(o.oom_file) > 0 ? "true" : "false") + "}\n";
  (void)berth::WriteFileAtomically(o.exit_file, record, 0644, berth::Durability::kCrash);
  ::unlink(o.control.c_str());
  return 0;
}
