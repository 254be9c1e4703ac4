#include "runtime/cli.h"

#include <signal.h>

#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "runtime/cli_args.h"
#include "runtime/container.h"
#include "runtime/error_log.h"
#include "runtime/features.h"
#include "runtime/signals.h"
#include "runtime/spec.h"

namespace berth::runtime {
namespace {

constexpr char kDefaultRoot[] = "/run/berth-runtime";

StatusOr<std::string> OneId(const Args& args, size_t max_positional = 1) {
  if (args.positional.empty()) return absl::InvalidArgumentError("missing container id");
  if (args.positional.size() > max_positional) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument ", args.positional[max_positional]));
  }
  return args.positional[0];
}

StatusOr<int> PreserveFds(const Args& args) {
  if (!args.Has("preserve-fds")) return 0;
  int n;
  if (!absl::SimpleAtoi(args.Get("preserve-fds"), &n) || n < 0) {
    return absl::InvalidArgumentError("--preserve-fds needs a non-negative number");
  }
  return n;
}

StatusOr<std::string> ReadArgFile(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return data;
  }
  return ReadFile(path);
}

StatusOr<int> Create(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-b", "bundle"}},
                                                {"bundle", "pid-file", "preserve-fds", "console-socket"},
                                                {"no-pivot", "no-new-keyring"}}));
  CreateOptions options;
  options.console_socket = args.Get("console-socket");
  ASSIGN_OR_RETURN(options.id, OneId(args));
  options.bundle = args.Has("bundle") ? args.Get("bundle") : ".";
  options.pid_file = args.Get("pid-file");
  ASSIGN_OR_RETURN(options.preserve_fds, PreserveFds(args));
  RETURN_IF_ERROR(rt.Create(options));
  return 0;
}

StatusOr<int> Start(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {}));
  ASSIGN_OR_RETURN(std::string id, OneId(args));
  RETURN_IF_ERROR(rt.Start(id));
  return 0;
}

StatusOr<int> State(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {}));
  ASSIGN_OR_RETURN(std::string id, OneId(args));
  ASSIGN_OR_RETURN(std::string json, rt.State(id));
  std::cout << json << std::endl;
  return 0;
}

StatusOr<int> Kill(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-a", "all"}}, {}, {"all"}}));
  ASSIGN_OR_RETURN(std::string id, OneId(args, 2));
  int signal = SIGTERM;
  if (args.positional.size() == 2) {
    ASSIGN_OR_RETURN(signal, ParseSignal(args.positional[1]));
  }
  RETURN_IF_ERROR(rt.Kill(id, signal, args.Has("all")));
  return 0;
}

StatusOr<int> Delete(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-f", "force"}}, {}, {"force"}}));
  ASSIGN_OR_RETURN(std::string id, OneId(args));
  RETURN_IF_ERROR(rt.Delete(id, args.Has("force")));
  return 0;
}

StatusOr<int> Exec(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-p", "process"}, {"-d", "detach"}, {"-e", "env"},
                                                 {"-u", "user"}}, {"process", "pid-file", "preserve-fds",
                                                 "console-socket", "env", "cwd", "user"},
                                                {"detach", "tty", "t"}}));
  ExecOptions options;
  options.console_socket = args.Get("console-socket");
  if (args.positional.empty()) return absl::InvalidArgumentError("missing container id");
  options.id = args.positional[0];
  if (args.Has("process")) {
    if (args.positional.size() > 1) return absl::InvalidArgumentError("--process and a command exclude each other");
    ASSIGN_OR_RETURN(std::string json, ReadArgFile(args.Get("process")));
    ASSIGN_OR_RETURN(options.process, ParseProcess(json));
  } else {
    if (args.positional.size() < 2) return absl::InvalidArgumentError("exec needs --process or a command");
    ASSIGN_OR_RETURN(options.process, rt.ContainerProcess(options.id));
    options.process.args.assign(args.positional.begin() + 1, args.positional.end());
    for (auto [it, end] = args.repeated.equal_range("env"); it != end; ++it) {
      options.process.env.push_back(it->second);
    }
    if (args.Has("cwd")) options.process.cwd = args.Get("cwd");
    if (args.Has("user")) {
      std::vector<std::string> parts = absl::StrSplit(args.Get("user"), ':');
      if (!absl::SimpleAtoi(parts[0], &options.process.user.uid) ||
          (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &options.process.user.gid))) {
        return absl::InvalidArgumentError("--user takes UID[:GID]");
      }
      if (parts.size() == 1) options.process.user.gid = 0;
    }
  }
  if (args.Has("tty") || args.Has("t")) options.process.terminal = true;
  options.pid_file = args.Get("pid-file");
  options.detach = args.Has("detach");
  ASSIGN_OR_RETURN(options.preserve_fds, PreserveFds(args));
  return rt.Exec(options);
}

StatusOr<int> Update(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-r", "resources"}}, {"resources"}, {}}));
  ASSIGN_OR_RETURN(std::string id, OneId(args));
  if (!args.Has("resources")) return absl::InvalidArgumentError("update needs --resources FILE");
  ASSIGN_OR_RETURN(std::string json, ReadArgFile(args.Get("resources")));
  ASSIGN_OR_RETURN(cgroups::Resources resources, ParseResources(json));
  RETURN_IF_ERROR(rt.Update(id, resources));
  return 0;
}

StatusOr<int> Pause(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {}));
  ASSIGN_OR_RETURN(std::string id, OneId(args));
  RETURN_IF_ERROR(rt.Pause(id));
  return 0;
}

StatusOr<int> Resume(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {}));
  ASSIGN_OR_RETURN(std::string id, OneId(args));
  RETURN_IF_ERROR(rt.Resume(id));
  return 0;
}

// The CRIU binary, from the global --criu flag.
std::string& CriuBinary() {
  static auto* criu = new std::string("criu");
  return *criu;
}

StatusOr<int> Checkpoint(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{}, {"image-path", "work-path", "manage-cgroups-mode"},
                                                {"leave-running", "tcp-established", "file-locks", "ext-unix-sk"}}));
  CheckpointOptions options;
  ASSIGN_OR_RETURN(options.id, OneId(args));
  options.criu = CriuBinary();
  options.image_path = args.Get("image-path");
  if (options.image_path.empty()) return absl::InvalidArgumentError("checkpoint needs --image-path");
  options.work_path = args.Has("work-path") ? args.Get("work-path") : options.image_path;
  options.leave_running = args.Has("leave-running");
  options.tcp_established = args.Has("tcp-established");
  RETURN_IF_ERROR(rt.Checkpoint(options));
  // As runc does: without --leave-running a checkpoint ends the container.
  if (!options.leave_running) RETURN_IF_ERROR(rt.Delete(options.id, /*force=*/true));
  return 0;
}

StatusOr<int> Restore(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-b", "bundle"}, {"-d", "detach"}},
                                                {"bundle", "image-path", "work-path", "pid-file",
                                                 "manage-cgroups-mode"},
                                                {"detach", "tcp-established", "file-locks", "ext-unix-sk"}}));
  RestoreOptions options;
  ASSIGN_OR_RETURN(options.id, OneId(args));
  if (!args.Has("detach")) return absl::InvalidArgumentError("berth-runtime restores only with --detach");
  options.criu = CriuBinary();
  options.bundle = args.Has("bundle") ? args.Get("bundle") : ".";
  options.image_path = args.Get("image-path");
  if (options.image_path.empty()) return absl::InvalidArgumentError("restore needs --image-path");
  options.work_path = args.Has("work-path") ? args.Get("work-path") : options.image_path;
  options.pid_file = args.Get("pid-file");
  options.tcp_established = args.Has("tcp-established");
  RETURN_IF_ERROR(rt.Restore(options));
  return 0;
}

StatusOr<int> Features(Runtime&, const std::vector<std::string>& argv) {
  if (!argv.empty()) return absl::InvalidArgumentError("features takes no arguments");
  std::cout << FeaturesJson() << "\n";
  return 0;
}

using Verb = std::function<StatusOr<int>(Runtime&, const std::vector<std::string>&)>;

const std::map<std::string, Verb>& Verbs() {
  static const auto* verbs = new std::map<std::string, Verb>{
      {"create", Create},   {"start", Start},     {"state", State},           {"kill", Kill},
      {"delete", Delete},   {"exec", Exec},       {"update", Update},         {"features", Features},
      {"pause", Pause},     {"resume", Resume},   {"checkpoint", Checkpoint}, {"restore", Restore},
  };
  return *verbs;
}

void Usage() {
  std::cerr << "usage: berth-runtime [--root DIR] "
               "create|start|state|kill|delete|exec|update|pause|resume|checkpoint|restore [flags] ID [...] | "
               "features\n";
}

}  // namespace

int RunCommandLine(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string root = kDefaultRoot;
  ErrorLog errors;
  size_t i = 0;
  // Global flags as runc takes them. Errors go to stderr and to --log.
  for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
    std::string flag = args[i];
    std::string value;
    bool inline_value = false;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      inline_value = true;
    }
    if (flag == "--version" || flag == "-v") {
      std::cout << "berth-runtime version 0.1.0\nspec: 1.0.2\n";
      return 0;
    }
    if (flag == "--help" || flag == "-h") {
      Usage();
      return 0;
    }
    if (flag == "--debug" || flag == "--systemd-cgroup" || flag == "--rootless") {
      if (flag == "--systemd-cgroup") {
        std::cerr << "berth-runtime: --systemd-cgroup is not supported\n";
        return 1;
      }
      continue;
    }
    if (flag == "--root" || flag == "--log" || flag == "--log-format" || flag == "--criu") {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          std::cerr << "berth-runtime: " << flag << " needs a value\n";
          return 1;
        }
        value = args[++i];
      }
      if (flag == "--root") root = value;
      if (flag == "--log") errors.path = value;
      if (flag == "--log-format") errors.format = value;
      if (flag == "--criu") CriuBinary() = value;
      continue;
    }
    std::cerr << "berth-runtime: unknown global flag " << flag << "\n";
    return 1;
  }
  if (i >= args.size()) {
    Usage();
    return 1;
  }
  std::string verb = args[i];
  auto it = Verbs().find(verb);
  if (it == Verbs().end()) {
    std::cerr << "berth-runtime: unknown command " << verb << "\n";
    Usage();
    return 1;
  }
  if (verb == "create" || verb == "exec" || verb == "restore") {
    // These run code in the container's namespaces: never from the file on disk.
    Status sealed = EnsureSealedBinary(argv);
    if (!sealed.ok()) {
      errors.Write(sealed);
      return 1;
    }
  }
  Runtime runtime(root, [&errors](const Status& status) { errors.Warn(status); });
  StatusOr<int> result = it->second(runtime, std::vector<std::string>(args.begin() + i + 1, args.end()));
  if (!result.ok()) {
    // Tagged with its code, so berthd can tell "no such container" from a failure.
    errors.Write(Annotate(result.status(), verb));
    return 1;
  }
  return *result;
}

}  // namespace berth::runtime
