#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cri/client.h"

namespace po = boost::program_options;

namespace berth::ctl {

int RunInfo(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description options("Flags");
  AddOutputFlag(options, /*table=*/true);
  CommandLine line;
  if (int rc = ParseCommand({"info", "info [-o json|yaml|table]", "Shows the runtime's readiness conditions, handlers and effective configuration", 0, 0}, args, options, &line); rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag("info", line, /*table=*/true, &format)) return 2;
  cri::CriClient client(global.endpoint);
  ::runtime::v1::StatusRequest request;
  request.set_verbose(true);
  ::runtime::v1::StatusResponse response;
  auto status = client.runtime().Status(cri::CriClient::Context(global.timeout).get(), request, &response);
  if (!status.ok()) return ReportRpcError("Status", status);
  if (PrintStructured(response, format)) return 0;

  std::vector<std::vector<std::string>> rows = {{"CONDITION", "STATUS", "REASON", "MESSAGE"}};
  for (const auto& condition : response.status().conditions()) {
    rows.push_back({condition.type(), condition.status() ? "true" : "false", condition.reason(),
                    condition.message()});
  }
  PrintTable(rows);
  std::cout << "\nRuntime handlers:";
  for (const auto& handler : response.runtime_handlers()) {
    std::cout << " " << (handler.name().empty() ? "(default)" : handler.name());
  }
  std::cout << "\n";
  if (auto it = response.info().find("node"); it != response.info().end()) {
    std::cout << "\nNode:\n" << JsonToYaml(it->second);
  }
  if (auto it = response.info().find("config"); it != response.info().end()) {
    std::cout << "\nConfig:\n" << it->second;
  }
  return 0;
}

}  // namespace berth::ctl
