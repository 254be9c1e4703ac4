// berthctl: a CRI client for people.
#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/berthctl/command.h"

namespace po = boost::program_options;
using namespace berth::ctl;

namespace {

constexpr Command kCommands[] = {
    {"version", "show the runtime's name and version", RunVersion},
    {"info", "show readiness, runtime handlers and configuration", RunInfo},
    {"pull", "pull an image, with progress", RunPull},
    {"images", "list images", RunImages},
    {"inspecti", "show an image's status and config", RunInspectImage},
    {"rmi", "remove images", RunRemoveImage},
    {"runp", "run a pod sandbox from a CRI config", RunRunPod},
    {"create", "create a container in a pod", RunCreate},
    {"start", "start containers", RunForEachId},
    {"stop", "stop containers", RunForEachId},
    {"rm", "remove containers", RunForEachId},
    {"stopp", "stop pods", RunForEachId},
    {"rmp", "remove pods", RunForEachId},
    {"ps", "list containers", RunPs},
    {"pods", "list pods", RunPods},
    {"logs", "print a container's log", RunLogs},
    {"exec", "run a command in a container (-i, -t: interactively)", RunExec},
    {"attach", "attach to a running container's output and stdin", RunAttach},
    {"port-forward", "forward local ports to a pod's", RunPortForward},
    {"inspect", "show a container's status", RunInspect},
    {"inspectp", "show a pod's status", RunInspect},
    {"play", "run a Kubernetes Pod manifest: pull, pod, containers", RunPlay},
    {"stats", "show pods' and containers' CPU, memory and network (live on a terminal)", RunStats},
    {"events", "follow pod and container lifecycle events", RunEvents},
    {"metrics", "print a pod's CRI metrics, as kubelet serves them", RunMetrics},
    {"cluster", "create, list, start and delete local Kubernetes clusters of berth nodes", RunCluster},
};

void PrintUsage(const po::options_description& options) {
  std::cout << "berthctl: talk CRI to berthd (or any CRI runtime)\n\n"
               "Usage: berthctl [global flags] COMMAND [flags]\n\nCommands:\n";
  for (const auto& command : kCommands) {
    std::cout << "  " << command.name << std::string(16 - std::string(command.name).size(), ' ')
              << command.summary << "\n";
  }
  std::cout << "\n" << options << "\nRun 'berthctl COMMAND --help' for a command's flags.\n";
}

}  // namespace

// Global flags come before the command; everything from the command on is the
// command's, "--help" included.
int FindCommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.empty() || arg[0] != '-') return i;
    // These take their value as the next argument unless written with "=".
    if (arg == "--endpoint" || arg == "-r" || arg == "--timeout" || arg == "-t") ++i;
  }
  return argc;
}

int main(int argc, char** argv) {
  po::options_description options("Global flags");
  options.add_options()
      ("help,h", "show this help")
      ("endpoint,r", po::value<std::string>()->default_value("unix:///run/berth/berth.sock"),
       "CRI endpoint (env BERTH_ENDPOINT)")
      ("timeout,t", po::value<int>()->default_value(10), "seconds to wait for an answer");
  int command_at = FindCommand(argc, argv);
  po::variables_map flags;
  try {
    po::store(po::parse_command_line(command_at, argv, options), flags);
  } catch (const po::error& e) {
    std::cerr << "berthctl: " << e.what() << "\n";
    return 2;
  }
  if (command_at >= argc) {
    PrintUsage(options);
    return flags.count("help") ? 0 : 2;
  }
  GlobalOptions global;
  global.endpoint = flags["endpoint"].as<std::string>();
  if (flags["endpoint"].defaulted()) {
    if (const char* env = std::getenv("BERTH_ENDPOINT"); env != nullptr && *env) global.endpoint = env;
  }
  global.timeout = std::chrono::seconds(flags["timeout"].as<int>());

  std::vector<std::string> args(argv + command_at, argv + argc);
  const std::string& name = args[0];
  for (const auto& command : kCommands) {
    if (name == command.name) return command.run(global, args);
  }
  std::cerr << "berthctl: unknown command \"" << name << "\" (see berthctl --help)\n";
  return 2;
}
