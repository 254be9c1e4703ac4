#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/berthctl/command.h"

namespace berth::ctl {

int ParseCommandFlags(const char* name, const std::vector<std::string>& args,
                      const boost::program_options::options_description& options,
                      const boost::program_options::positional_options_description& positional,
                      boost::program_options::variables_map* flags) {
  namespace po = boost::program_options;
  try {
    po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                  .options(options)
                  .positional(positional)
                  .run(),
              *flags);
    po::notify(*flags);
  } catch (const po::error& e) {
    std::cerr << "berthctl " << name << ": " << e.what() << " (see berthctl " << name << " --help)\n";
    return 2;
  }
  return flags->count("help") ? 0 : -1;
}

}  // namespace berth::ctl
