// berthctl's commands: each takes its own arguments and the connection settings.
#pragma once

#include <boost/program_options.hpp>
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

// Parses a command's flags (args[0] is the command's name). Returns -1 to go on,
// 0 when --help was asked for (the caller prints its help), 2 on a usage error
// (already reported).
int ParseCommandFlags(const char* name, const std::vector<std::string>& args,
                      const boost::program_options::options_description& options,
                      const boost::program_options::positional_options_description& positional,
                      boost::program_options::variables_map* flags);

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
int RunPlay(const GlobalOptions& global, const std::vector<std::string>& args);

}  // namespace berth::ctl
