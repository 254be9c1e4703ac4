// berthctl's commands: each takes its own arguments and the connection settings.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cmd/berthctl/output.h"

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

// What a command takes, for parsing and for its --help.
struct Syntax {
  std::string name;
  std::string usage;  // what follows "Usage: berthctl "
  std::string about;  // what the command does, for --help; may be empty
  size_t min_args = 0;
  size_t max_args = SIZE_MAX;
};

// A command's flags and its positional arguments.
struct CommandLine {
  boost::program_options::variables_map flags;
  std::vector<std::string> positional;
};

// Parses a command's flags (args[0] is the command's name; --help is added).
// Returns -1 to go on; 0 when --help was asked for and printed; 2 on a usage error,
// already reported.
int ParseCommand(const Syntax& syntax, const std::vector<std::string>& args,
                 boost::program_options::options_description flags, CommandLine* out);

// -o/--output: json and yaml, and table where the command prints one (the
// default then; json otherwise).
void AddOutputFlag(boost::program_options::options_description& flags, bool table);
// The -o given; reports a bad value and returns false.
bool ReadOutputFlag(const std::string& name, const CommandLine& line, bool table, OutputFormat* format);

int RunVersion(const GlobalOptions& global, const std::vector<std::string>& args);
int RunInfo(const GlobalOptions& global, const std::vector<std::string>& args);
int RunPull(const GlobalOptions& global, const std::vector<std::string>& args);
int RunImages(const GlobalOptions& global, const std::vector<std::string>& args);
int RunInspectImage(const GlobalOptions& global, const std::vector<std::string>& args);
int RunRemoveImage(const GlobalOptions& global, const std::vector<std::string>& args);
int RunRunPod(const GlobalOptions& global, const std::vector<std::string>& args);
int RunCreate(const GlobalOptions& global, const std::vector<std::string>& args);
int RunForEachId(const GlobalOptions& global, const std::vector<std::string>& args);
int RunPs(const GlobalOptions& global, const std::vector<std::string>& args);
int RunPods(const GlobalOptions& global, const std::vector<std::string>& args);
int RunInspect(const GlobalOptions& global, const std::vector<std::string>& args);
int RunLogs(const GlobalOptions& global, const std::vector<std::string>& args);
int RunExec(const GlobalOptions& global, const std::vector<std::string>& args);
int RunAttach(const GlobalOptions& global, const std::vector<std::string>& args);
int RunPortForward(const GlobalOptions& global, const std::vector<std::string>& args);
int RunPlay(const GlobalOptions& global, const std::vector<std::string>& args);
int RunStats(const GlobalOptions& global, const std::vector<std::string>& args);
int RunEvents(const GlobalOptions& global, const std::vector<std::string>& args);
int RunMetrics(const GlobalOptions& global, const std::vector<std::string>& args);
int RunCluster(const GlobalOptions& global, const std::vector<std::string>& args);

}  // namespace berth::ctl
