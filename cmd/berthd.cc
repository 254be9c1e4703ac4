// berthd: the berth CRI runtime daemon.
#include <signal.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/log.h"
#include "cri/server.h"
#include "cri/version.h"
#include "pods/config.h"
#include "pods/node.h"

namespace po = boost::program_options;
using namespace berth;

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

// Builds the effective config: embedded defaults, then the file, then flags.
StatusOr<pods::Config> BuildConfig(const po::variables_map& flags) {
  pods::Config config;
  if (flags.count("config")) {
    ASSIGN_OR_RETURN(config, pods::LoadConfigFile(flags["config"].as<std::string>()));
  }
  if (flags.count("socket")) config.socket = flags["socket"].as<std::string>();
  if (flags.count("root")) config.root = flags["root"].as<std::string>();
  if (flags.count("state-dir")) config.state_dir = flags["state-dir"].as<std::string>();
  if (flags.count("cni-conf-dir")) config.cni.conf_dir = flags["cni-conf-dir"].as<std::string>();
  if (flags.count("cni-bin-dir")) {
    config.cni.bin_dirs = flags["cni-bin-dir"].as<std::vector<std::string>>();
  }
  if (flags.count("log-level")) {
    auto level = ParseLogLevel(flags["log-level"].as<std::string>());
    if (!level.ok()) return Annotate(level.status(), "flag --log-level");
    config.log_level = *level;
  }
  Status valid = config.Validate();
  if (!valid.ok()) return Annotate(valid, "flags");
  return config;
}

// Tells whoever started berthd (a test, a supervisor) that the socket is serving.
void SignalReady(int fd) {
  if (fd < 0) return;
  [[maybe_unused]] ssize_t n = ::write(fd, "READY\n", 6);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("berthd: a Kubernetes CRI runtime\n\nUsage: berthd [flags]\n\nFlags");
  options.add_options()
      ("help,h", "show this help")
      ("version", "print the version and exit")
      ("config", po::value<std::string>(), "YAML config file (see the README for every key)")
      ("socket", po::value<std::string>(), "CRI socket path (config: socket)")
      ("root", po::value<std::string>(), "persistent state root (config: root)")
      ("state-dir", po::value<std::string>(), "transient state directory (config: state_dir)")
      ("log-level", po::value<std::string>(), "debug, info, warn or error (config: log_level)")
      ("cni-conf-dir", po::value<std::string>(), "CNI network config directory (config: cni.conf_dir)")
      ("cni-bin-dir", po::value<std::vector<std::string>>()->composing(),
       "CNI plugin directory; repeat for several (config: cni.bin_dirs)")
      ("print-config", "print the effective config as YAML and exit")
      ("ready-fd", po::value<int>()->default_value(-1),
       "write READY to this fd once the socket serves, then close it");
  po::variables_map flags;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), flags);
    po::notify(flags);
  } catch (const po::error& e) {
    std::cerr << "berthd: " << e.what() << "\n(see berthd --help)\n";
    return kExitUsage;
  }
  if (flags.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  if (flags.count("version")) {
    std::cout << cri::kRuntimeName << " " << cri::kBerthVersion << " (CRI v1)\n";
    return 0;
  }
  auto config = BuildConfig(flags);
  if (!config.ok()) {
    std::cerr << "berthd: invalid configuration: " << config.status().message() << "\n";
    return kExitUsage;
  }
  if (flags.count("print-config")) {
    std::cout << config->ToYaml();
    return 0;
  }
  SetLogLevel(config->log_level);

  // Termination signals are taken synchronously by sigwait below; block them before
  // any thread starts so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto node = pods::Node::Open(*config);
  if (!node.ok()) {
    BERTH_LOG(Error) << "cannot start" << node.status();
    return kExitRuntimeError;
  }
  auto server = cri::CriServer::Start(**node, config->socket);
  if (!server.ok()) {
    BERTH_LOG(Error) << "cannot start" << server.status();
    return kExitRuntimeError;
  }
  BERTH_LOG(Info) << "berthd serving" << Kv("socket", config->socket) << Kv("root", config->root)
                  << Kv("version", cri::kBerthVersion)
                  << Kv("cgroups", cgroups::ModeName((*node)->cgroup_layout().mode));
  SignalReady(flags["ready-fd"].as<int>());

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  BERTH_LOG(Info) << "shutting down" << Kv("signal", strsignal(signal_number));
  (*server)->Shutdown(std::chrono::seconds(5));
  server->reset();
  BERTH_LOG(Info) << "berthd stopped";
  return 0;
}
