#include "pods/shim/runtime_create.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/process.h"
#include "pods/shim/criu_log.h"

namespace berth::pods::shim {
namespace {

// The last line of the runtime's JSON log, its "msg" when it has one.
std::string LastLogMessage(const std::string& path) {
  if (path.empty()) return "";
  auto log = ReadFile(path);
  if (!log.ok() || log->empty()) return "";
  std::string text = *log;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t newline = text.rfind('\n');
  std::string last = text.substr(newline == std::string::npos ? 0 : newline + 1);
  auto entry = nlohmann::json::parse(last, nullptr, false);
  if (entry.is_object() && entry.contains("msg") && entry["msg"].is_string()) return entry["msg"].get<std::string>();
  return last;
}

}  // namespace

StatusOr<pid_t> CreateWithRuntime(const ShimOptions& o, const CreateStdio& stdio) {
  std::string pid_file = o.bundle + "/init.pid";
  ::unlink(pid_file.c_str());
  std::vector<std::string> args = {o.runtime};
  if (!o.runtime_log.empty()) args.insert(args.end(), {"--log", o.runtime_log, "--log-format", "json"});
  args.insert(args.end(), {"--root", o.runtime_root});
  if (!o.criu.empty()) args.insert(args.end(), {"--criu", o.criu});
  if (o.restore_images.empty()) {
    args.push_back("create");
  } else {
    args.insert(args.end(), {"restore", "--detach", "--image-path", o.restore_images, "--work-path", o.restore_work});
    if (o.tcp_established) args.push_back("--tcp-established");
  }
  args.insert(args.end(), {"--bundle", o.bundle, "--pid-file", pid_file});
  if (!stdio.console_socket.empty()) args.insert(args.end(), {"--console-socket", stdio.console_socket});
  args.push_back(o.id);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) return ErrnoError("fork");
  if (child == 0) {
    int in = stdio.stdin_read >= 0 ? stdio.stdin_read : ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(stdio.stdout_write, 1);
    ::dup2(stdio.stderr_write, 2);
    ::close_range(3, ~0U, 0);
    ResetSignalsForExec();  // the shim blocks SIGCHLD and SIGPIPE for its monitor
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = LastLogMessage(o.runtime_log);
    const char* what = o.restore_images.empty() ? "runtime create failed" : "runtime restore failed";
    if (!o.restore_images.empty()) {
      // The runtime says only that CRIU failed; CRIU's log says why.
      std::string cause = CriuLogFileCause(o.restore_work + "/restore.log");
      if (!cause.empty()) why = absl::StrCat("CRIU: ", cause);
      why = absl::StrCat(why.empty() ? "" : why + " ", "(CRIU's log: ", o.restore_work, "/restore.log)");
    }
    return absl::InternalError(why.empty() ? std::string(what) : absl::StrCat(what, ": ", why));
  }
  auto pid_text = ReadFile(pid_file);
  if (!pid_text.ok()) return absl::InternalError("runtime create left no pid file");
  pid_t pid = static_cast<pid_t>(std::strtol(pid_text->c_str(), nullptr, 10));
  if (pid <= 0) return absl::InternalError("runtime create wrote a bad pid file");
  return pid;
}

}  // namespace berth::pods::shim
