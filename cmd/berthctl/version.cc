#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cri/client.h"

namespace po = boost::program_options;

namespace berth::ctl {

int RunVersion(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description options("Usage: berthctl version [-o json|yaml|table]\n\n"
                                  "Shows the runtime's name and version and its CRI version");
  options.add_options()("help,h", "show this help")(
      "output,o", po::value<std::string>()->default_value("table"), "json, yaml or table");
  po::variables_map flags;
  if (int rc = ParseCommandFlags("version", args, options, {}, &flags); rc >= 0) {
    if (rc == 0) std::cout << options << "\n";
    return rc;
  }
  OutputFormat format;
  if (!ParseOutputFormat(flags["output"].as<std::string>(), &format)) {
    std::cerr << "berthctl version: -o must be json, yaml or table\n";
    return 2;
  }
  cri::CriClient client(global.endpoint);
  ::runtime::v1::VersionRequest request;
  ::runtime::v1::VersionResponse response;
  auto status = client.runtime().Version(cri::CriClient::Context(global.timeout).get(), request, &response);
  if (!status.ok()) return ReportRpcError("Version", status);
  if (!PrintStructured(response, format)) {
    PrintTable({{"Version:", response.version()},
                {"RuntimeName:", response.runtime_name()},
                {"RuntimeVersion:", response.runtime_version()},
                {"RuntimeApiVersion:", response.runtime_api_version()}});
  }
  return 0;
}

}  // namespace berth::ctl
