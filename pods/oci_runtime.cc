#include "pods/oci_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "pods/shim/console.h"
#include "pods/shim/criu_log.h"
#include "pods/shim/protocol.h"
#include "runtime/errors.h"

namespace berth::pods {

Status OciRuntime::Run(std::vector<std::string> args, const char* what) {
  args.insert(args.begin(), {binary_, "--root", root_});
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  ASSIGN_OR_RETURN(RunResult result, RunProcess(args, options));
  if (result.exit_code != 0) {
    return runtime::ClassifyRuntimeError(name_, what, result.exit_code, result.err.empty() ? result.out : result.err);
  }
  return absl::OkStatus();
}

const OciRuntime::Features& OciRuntime::features() {
  std::call_once(features_once_, [this] {
    // berth-runtime, runc and crun all checkpoint through CRIU (with runc's verbs).
    features_.checkpoint = true;
    RunOptions options;
    options.timeout = std::chrono::seconds(10);
    auto run = RunProcess({binary_, "features"}, options);
    if (!run.ok() || run->exit_code != 0) return;
    features_ = ParseFeatures(run->out);
    features_.checkpoint = true;
  });
  return features_;
}

shim::ShimOptions OciRuntime::ShimFor(const ContainerRecord& record, const std::string& oom_file) const {
  shim::ShimOptions options;
  options.id = record.id;
  options.bundle = record.bundle();
  options.runtime = binary_;
  options.runtime_root = root_;
  options.log = record.log_path.empty() ? "/dev/null" : record.log_path;
  options.exit_file = record.exit_file();
  options.control = record.control_fifo();
  options.oom_file = oom_file;
  options.runtime_log = record.run_dir + "/runtime.log";
  options.tty = record.spec.tty;
  options.stdin = record.spec.stdin;
  options.stdin_once = record.spec.stdin_once;
  options.attach = record.attach_socket();
  return options;
}

Status OciRuntime::StartShim(ContainerRecord& record, const shim::ShimOptions& options, absl::string_view what) {
  ASSIGN_OR_RETURN(std::string answer, SpawnDetached(options.ToArgv(shim_)));
  auto container_pid = shim::ParseReadyReply(answer);
  if (!container_pid.ok()) {
    return Annotate(container_pid.status(), absl::StrCat(what, " container ", record.id, " with ", name_));
  }
  record.pid = *container_pid;
  record.pid_start_time = ProcessStartTime(*container_pid);
  // The shim is the container's parent (after a restore, once the runtime is gone:
  // the shim is the subreaper the container falls to).
  record.shim_pid = ParentPid(*container_pid);
  record.shim_start_time = ProcessStartTime(record.shim_pid);
  return absl::OkStatus();
}

Status OciRuntime::PrepareRestore(const ContainerRecord& record, const runtime::Spec& spec) {
  RETURN_IF_ERROR(MakeDirs(root_, 0700));
  RETURN_IF_ERROR(MakeDirs(record.run_dir, 0700));
  return WriteFileAtomically(record.bundle() + "/config.json", runtime::SpecJson(spec), 0600, Durability::kCrash);
}

Status OciRuntime::Create(ContainerRecord& record, const runtime::Spec& spec, const std::string& oom_file) {
  RETURN_IF_ERROR(PrepareRestore(record, spec));
  return StartShim(record, ShimFor(record, oom_file), "create");
}

Status OciRuntime::Restore(ContainerRecord& record, const std::string& oom_file, const CriuRequest& request) {
  if (!features().checkpoint) {
    return absl::FailedPreconditionError(absl::StrCat("runtime handler ", name_, " cannot restore checkpoints"));
  }
  RETURN_IF_ERROR(MakeDirs(request.work_dir, 0700));
  shim::ShimOptions options = ShimFor(record, oom_file);
  options.restore_images = request.images_dir;
  options.restore_work = request.work_dir;
  options.criu = request.criu;
  options.tcp_established = request.tcp_established;
  return StartShim(record, options, "restore");
}

Status OciRuntime::Checkpoint(const std::string& id, const CriuRequest& request, std::chrono::seconds timeout) {
  if (!features().checkpoint) {
    return absl::FailedPreconditionError(absl::StrCat("runtime handler ", name_, " cannot checkpoint containers"));
  }
  RETURN_IF_ERROR(MakeDirs(request.images_dir, 0700));
  RETURN_IF_ERROR(MakeDirs(request.work_dir, 0700));
  std::vector<std::string> args = {binary_, "--root", root_, "--criu", request.criu, "checkpoint",
                                   "--image-path", request.images_dir, "--work-path", request.work_dir,
                                   "--leave-running", "--file-locks"};
  if (request.tcp_established) args.push_back("--tcp-established");
  args.push_back(id);
  RunOptions options;
  options.timeout = timeout;
  ASSIGN_OR_RETURN(RunResult result, RunProcess(args, options));
  if (result.exit_code == 0) return absl::OkStatus();
  // The runtime says only that CRIU failed; CRIU's log says why, and what it names
  // is the container's state as it stands (an open connection, a file it cannot
  // find again): a precondition.
  const std::string log = request.work_dir + "/dump.log";
  std::string cause = shim::CriuLogFileCause(log);
  if (cause.empty()) {
    return runtime::ClassifyRuntimeError(name_, "checkpoint", result.exit_code,
                                         absl::StrCat(result.err.empty() ? result.out : result.err, " (CRIU's log: ",
                                                      log, ")"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("CRIU cannot checkpoint container ", id, ": ", cause, " (CRIU's log: ", log, ")"));
}

StatusOr<runtime::Spec> OciRuntime::ReadSpec(const ContainerRecord& record) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(record.bundle() + "/config.json"));
  auto spec = runtime::ParseSpec(text, record.bundle());
  if (!spec.ok()) {
    return absl::DataLossError(absl::StrCat("container ", record.id, " has a broken config.json: ",
                                            spec.status().message()));
  }
  return spec;
}

Status OciRuntime::Start(const std::string& id) { return Run({"start", id}, "start"); }

StatusOr<std::string> OciRuntime::State(const std::string& id) {
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  ASSIGN_OR_RETURN(RunResult result, RunProcess({binary_, "--root", root_, "state", id}, options));
  if (result.exit_code != 0) {
    return runtime::ClassifyRuntimeError(name_, "state", result.exit_code, result.err.empty() ? result.out : result.err);
  }
  auto state = nlohmann::json::parse(result.out, nullptr, false);
  if (!state.is_object() || !state.contains("status") || !state["status"].is_string()) {
    return absl::InternalError(absl::StrCat(name_, " state ", id, ": no status in its answer"));
  }
  return state["status"].get<std::string>();
}

Status OciRuntime::Kill(const std::string& id, int signal) {
  return Run({"kill", id, std::to_string(signal)}, "kill");
}

Status OciRuntime::Delete(const std::string& id, bool force) {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(id);
  return Run(args, "delete");
}

StatusOr<std::string> OciRuntime::WriteExecProcess(const runtime::Process& process, const std::string& scratch_dir) {
  RETURN_IF_ERROR(MakeDirs(scratch_dir, 0700));
  std::string dir = scratch_dir + "/exec-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return ErrnoError("create exec directory");
  Status written = WriteFileAtomically(dir + "/process.json", runtime::ProcessJson(process), 0600, Durability::kCrash);
  if (!written.ok()) {
    (void)RemoveAll(dir);
    return written;
  }
  return dir;
}

StatusOr<RunResult> OciRuntime::Exec(const std::string& id, const runtime::Process& process,
                                     const std::string& scratch_dir, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string dir, WriteExecProcess(process, scratch_dir));
  const std::string pid_file = dir + "/pid";
  RunOptions options;
  options.timeout = timeout;
  options.max_output = kExecOutputLimit;
  // On timeout the exec'd process itself is killed, not just the runtime's exec.
  options.on_timeout = [&](pid_t) {
    auto pid = ReadFile(pid_file);
    int exec_pid = 0;
    if (pid.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid), &exec_pid) && exec_pid > 0) {
      ::kill(exec_pid, SIGKILL);
    }
  };
  auto result = RunProcess(
      {binary_, "--root", root_, "exec", "--process", dir + "/process.json", "--pid-file", pid_file, id}, options);
  (void)RemoveAll(dir);
  return result;
}

StatusOr<RuntimeHandler::ExecChild> OciRuntime::StartExec(const std::string& id, const runtime::Process& process,
                                                          const std::string& scratch_dir, bool with_stdin) {
  ASSIGN_OR_RETURN(std::string dir, WriteExecProcess(process, scratch_dir));
  ExecChild child;
  child.dir = dir;
  child.pid_file = dir + "/pid";
  absl::Cleanup remove_dir = [&] { (void)RemoveAll(dir); };
  std::vector<std::string> argv = {binary_, "--root", root_, "exec", "--process", dir + "/process.json",
                                   "--pid-file", child.pid_file};
  std::optional<shim::ConsoleSocket> console;
  if (process.terminal) {
    // The terminal's master comes over a console socket, so berthd holds the
    // terminal itself (and can resize it).
    ASSIGN_OR_RETURN(console, shim::ListenConsoleSocket(dir));
    argv.insert(argv.end(), {"--tty", "--console-socket", console->path});
    if (runtime_ != "berth") {
      // runc and crun hand it over only when they detach: berth-shim is then the
      // exec's parent (a subreaper the detached process falls to), and berthd's
      // child, exiting with the process's code.
      argv.push_back("--detach");
      argv.insert(argv.begin(), {shim_, "--reap-exec", child.pid_file, "--"});
    }
  }
  argv.push_back(id);
  ASSIGN_OR_RETURN(child.runtime, SpawnChild(argv, with_stdin && !console));
  if (console) {
    // The runtime's exec stays in the foreground: the terminal comes while it runs,
    // or never if it fails first.
    auto terminal = shim::AwaitConsole(*console, child.runtime.pidfd.get(), std::chrono::seconds(30));
    if (!terminal.ok()) {
      ::kill(child.runtime.pid, SIGKILL);
      char message[4096];
      ssize_t n = ::read(child.runtime.stderr.get(), message, sizeof message);
      WaitChild(child.runtime.pid);
      if (n > 0) {
        return runtime::ClassifyRuntimeError(name_, "exec", 1, std::string(message, static_cast<size_t>(n)));
      }
      return terminal.status();
    }
    child.terminal = *std::move(terminal);
  }
  std::move(remove_dir).Cancel();
  return child;
}

Status OciRuntime::Update(const std::string& id, const cgroups::Resources& resources,
                          const std::string& scratch_dir) {
  RETURN_IF_ERROR(MakeDirs(scratch_dir, 0700));
  std::string file = scratch_dir + "/resources.json";
  RETURN_IF_ERROR(WriteFileAtomically(file, runtime::ResourcesJson(resources), 0600, Durability::kCrash));
  Status status = Run({"update", "--resources", file, id}, "update");
  ::unlink(file.c_str());
  return status;
}

}  // namespace berth::pods
