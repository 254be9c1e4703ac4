#include "cmd/berthctl/command.h"

#include <iostream>

namespace berth::ctl {

namespace po = boost::program_options;

int ParseCommand(const Syntax& syntax, const std::vector<std::string>& args, po::options_description flags,
                 CommandLine* out) {
  flags.add_options()("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("args", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(flags).add(hidden);
  po::positional_options_description positional;
  positional.add("args", -1);
  const std::string usage = "Usage: berthctl " + syntax.usage;
  try {
    po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                  .options(all)
                  .positional(positional)
                  .run(),
              out->flags);
    po::notify(out->flags);
  } catch (const po::error& e) {
    std::cerr << "berthctl " << syntax.name << ": " << e.what() << " (see berthctl " << syntax.name << " --help)\n";
    return 2;
  }
  if (out->flags.count("help")) {
    std::cout << usage << "\n\n";
    if (!syntax.about.empty()) std::cout << syntax.about << "\n\n";
    std::cout << flags << "\n";
    return 0;
  }
  if (out->flags.count("args")) out->positional = out->flags["args"].as<std::vector<std::string>>();
  if (out->positional.size() < syntax.min_args || out->positional.size() > syntax.max_args) {
    std::cerr << "berthctl " << syntax.name << ": " << usage << "\n";
    return 2;
  }
  return -1;
}

void AddOutputFlag(po::options_description& flags, bool table) {
  flags.add_options()("output,o", po::value<std::string>()->default_value(table ? "table" : "json"),
                      table ? "json, yaml or table" : "json or yaml");
}

bool ReadOutputFlag(const std::string& name, const CommandLine& line, bool table, OutputFormat* format) {
  if (ParseOutputFormat(line.flags["output"].as<std::string>(), format) &&
      (table || *format != OutputFormat::kTable)) {
    return true;
  }
  std::cerr << "berthctl " << name << ": -o must be " << (table ? "json, yaml or table" : "json or yaml") << "\n";
  return false;
}

}  // namespace berth::ctl
