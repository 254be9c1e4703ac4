#include <boost/program_options.hpp>
#include <iostream>

#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cri/client.h"

namespace po = boost::program_options;

namespace berth::ctl {

int RunVersion(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description options("Flags");
  AddOutputFlag(options, /*table=*/true);
  CommandLine line;
  if (int rc = ParseCommand({"version", "version [-o json|yaml|table]", "Shows the runtime's name and version and its CRI version", 0, 0}, args, options, &line); rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag("version", line, /*table=*/true, &format)) return 2;
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
