// berth-runtime: berth's OCI runtime, command-line compatible with the runc verbs
// berth's shim uses, so a bundle runs the same on runc, crun or berth-runtime.
//
//   berth-runtime [--root DIR] create --bundle B [--pid-file F] [--preserve-fds N] ID
//   berth-runtime [--root DIR] start ID
//   berth-runtime [--root DIR] state ID
//   berth-runtime [--root DIR] kill [--all] ID [SIGNAL]
//   berth-runtime [--root DIR] delete [--force] ID
//   berth-runtime [--root DIR] exec (--process P | [--env K=V] [--cwd D] [--user U[:G]])
//                                   [--pid-file F] [--detach] [--preserve-fds N] ID [CMD...]
//   berth-runtime [--root DIR] update --resources R ID
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "runtime/container.h"
#include "runtime/errors.h"
#include "runtime/mounts.h"
#include "runtime/signals.h"
#include "runtime/spec.h"

namespace {

using berth::Status;
using berth::StatusOr;
using berth::runtime::Runtime;

constexpr char kDefaultRoot[] = "/run/berth-runtime";

// A verb's flags and positional arguments: "--name value", "--name=value", "-n value".
struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> repeated;

  bool Has(const std::string& name) const { return switches.count(name) || values.count(name); }
  std::string Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? "" : it->second;
  }
};

struct FlagSpec {
  std::map<std::string, std::string> aliases;  // "-b" -> "bundle"
  std::set<std::string> with_value;
  std::set<std::string> without_value;
};

StatusOr<Args> ParseArgs(const std::vector<std::string>& in, const FlagSpec& spec) {
  Args args;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string arg = in[i];
    if (!args.positional.empty() || arg.size() < 2 || arg[0] != '-') {
      // Flags end at the first positional argument (the id), like runc's exec.
      args.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      args.positional.insert(args.positional.end(), in.begin() + i + 1, in.end());
      break;
    }
    std::string name, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    } else {
      name = arg;
    }
    if (auto a = spec.aliases.find(name); a != spec.aliases.end()) {
      name = a->second;
    } else {
      name = name.substr(name.find_first_not_of('-'));
    }
    if (spec.without_value.count(name)) {
      args.switches.insert(name);
    } else if (spec.with_value.count(name)) {
      if (!has_value) {
        if (i + 1 >= in.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
        value = in[++i];
      }
      args.values[name] = value;
      args.repeated.emplace(name, value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    }
  }
  return args;
}

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
  return berth::ReadFile(path);
}

StatusOr<int> Create(Runtime& rt, const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argv, {{{"-b", "bundle"}},
                                                {"bundle", "pid-file", "preserve-fds", "console-socket"},
                                                {"no-pivot", "no-new-keyring"}}));
  berth::runtime::CreateOptions options;
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
    ASSIGN_OR_RETURN(signal, berth::runtime::ParseSignal(args.positional[1]));
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
  if (args.Has("console-socket") || args.Has("tty") || args.Has("t")) {
    return absl::InvalidArgumentError("terminals are not supported");
  }
  berth::runtime::ExecOptions options;
  if (args.positional.empty()) return absl::InvalidArgumentError("missing container id");
  options.id = args.positional[0];
  if (args.Has("process")) {
    if (args.positional.size() > 1) return absl::InvalidArgumentError("--process and a command exclude each other");
    ASSIGN_OR_RETURN(std::string json, ReadArgFile(args.Get("process")));
    ASSIGN_OR_RETURN(options.process, berth::runtime::ParseProcess(json));
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
  ASSIGN_OR_RETURN(berth::cgroups::Resources resources, berth::runtime::ParseResources(json));
  RETURN_IF_ERROR(rt.Update(id, resources));
  return 0;
}

// What this runtime supports, as the OCI runtime-spec's features document states
// it (runc and crun print the same): berthd reads it for every handler alike.
StatusOr<int> Features(Runtime&, const std::vector<std::string>& argv) {
  if (!argv.empty()) return absl::InvalidArgumentError("features takes no arguments");
  nlohmann::json features = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.0.2"},
      {"hooks", nlohmann::json::array()},
      {"mountOptions", berth::runtime::SupportedMountOptions()},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "uts"}},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp", {{"enabled", true}}},
        {"apparmor", {{"enabled", true}}},
        {"selinux", {{"enabled", false}}},
        {"mountExtensions", {{"idmap", {{"enabled", false}}}}}}},
  };
  std::cout << features.dump(2) << "\n";
  return 0;
}

using Verb = std::function<StatusOr<int>(Runtime&, const std::vector<std::string>&)>;

const std::map<std::string, Verb>& Verbs() {
  static const auto* verbs = new std::map<std::string, Verb>{
      {"create", Create}, {"start", Start},   {"state", State},   {"kill", Kill},
      {"delete", Delete}, {"exec", Exec},     {"update", Update}, {"features", Features},
  };
  return *verbs;
}

void Usage() {
  std::cerr << "usage: berth-runtime [--root DIR] "
               "create|start|state|kill|delete|exec|update [flags] ID [...] | features\n";
}

}  // namespace

// Where errors go besides stderr: the --log file, in runc's formats, so a caller that
// keeps only the log (a shim whose stderr is the container's) still learns why.
struct ErrorLog {
  std::string path;
  std::string format = "text";

  // stderr carries the code as a tag (see runtime/errors.h); the log's msg is
  // the plain message, as runc writes it.
  void Write(const Status& status) const {
    std::cerr << "berth-runtime: " << berth::runtime::TagRuntimeError(status) << "\n";
    const std::string message(status.message());
    if (path.empty()) return;
    char stamp[40];
    timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm utc;
    ::gmtime_r(&now.tv_sec, &utc);
    ::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::string line;
    if (format == "json") {
      line = nlohmann::json{{"level", "error"}, {"msg", message}, {"time", stamp}}.dump() + "\n";
    } else {
      line = std::string("time=\"") + stamp + "\" level=error msg=" + nlohmann::json(message).dump() + "\n";
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
  }
};

int main(int argc, char** argv) {
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
  if (verb == "create" || verb == "exec") {
    // These run code in the container's namespaces: never from the file on disk.
    Status sealed = berth::runtime::EnsureSealedBinary(argv);
    if (!sealed.ok()) {
      errors.Write(sealed);
      return 1;
    }
  }
  Runtime runtime(root);
  StatusOr<int> result = it->second(runtime, std::vector<std::string>(args.begin() + i + 1, args.end()));
  if (!result.ok()) {
    // Tagged with its code, so berthd can tell "no such container" from a failure.
    errors.Write(berth::Annotate(result.status(), verb));
    return 1;
  }
  return *result;
}
