// berthctl's commands: each takes its own arguments and the connection settings.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace berth::ctl {

struct GlobalOptions {
  std::string endpoint = "unix:///run/berth/berth.sock";
  std::chrono::milliseconds timeout{10000};
};

// A command: argv[0] is the command's name. Returns the process exit code.
using CommandFn = int (*)(const GlobalOptions& global, const std::vector<std::string>& args);

struct Command {
  const char* name;
  const char* summary;
  CommandFn run;
};

int RunVersion(const GlobalOptions& global, const std::vector<std::string>& args);
int RunInfo(const GlobalOptions& global, const std::vector<std::string>& args);

}  // namespace berth::ctl
