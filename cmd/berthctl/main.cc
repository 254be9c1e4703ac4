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
};

void PrintUsage(const po::options_description& options) {
  std::cout << "berthctl: talk CRI to berthd (or any CRI runtime)\n\n"
               "Usage: berthctl [global flags] COMMAND [flags]\n\nCommands:\n";
  for (const auto& command : kCommands) {
    std::cout << "  " << command.name << std::string(12 - std::string(command.name).size(), ' ')
              << command.summary << "\n";
  }
  std::cout << "\n" << options << "\nRun 'berthctl COMMAND --help' for a command's flags.\n";
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("Global flags");
  options.add_options()
      ("help,h", "show this help")
      ("endpoint,r", po::value<std::string>()->default_value("unix:///run/berth/berth.sock"),
       "CRI endpoint (env BERTH_ENDPOINT)")
      ("timeout,t", po::value<int>()->default_value(10), "seconds to wait for an answer");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())(
      "args", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);

  po::variables_map flags;
  po::parsed_options parsed(&all);
  try {
    parsed = po::command_line_parser(argc, argv).options(all).positional(positional)
                 .allow_unregistered().run();
    po::store(parsed, flags);
  } catch (const po::error& e) {
    std::cerr << "berthctl: " << e.what() << "\n";
    return 2;
  }
  if (!flags.count("command")) {
    PrintUsage(options);
    return flags.count("help") ? 0 : 2;
  }
  GlobalOptions global;
  global.endpoint = flags["endpoint"].as<std::string>();
  if (flags["endpoint"].defaulted()) {
    if (const char* env = std::getenv("BERTH_ENDPOINT"); env != nullptr && *env) global.endpoint = env;
  }
  global.timeout = std::chrono::seconds(flags["timeout"].as<int>());

  // Everything from the command name on belongs to the command, --help included.
  std::vector<std::string> args = po::collect_unrecognized(parsed.options, po::include_positional);
  std::string name = flags["command"].as<std::string>();
  for (const auto& command : kCommands) {
    if (name == command.name) return command.run(global, args);
  }
  std::cerr << "berthctl: unknown command \"" << name << "\" (see berthctl --help)\n";
  return 2;
}
