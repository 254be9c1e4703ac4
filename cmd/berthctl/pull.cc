// berthctl pull: PullImage, with a progress bar on a terminal.
//
// CRI's PullImage is one unary call with no progress of its own; berthd reports
// pulls under way in its verbose Status ("pulls"), which this polls while it waits.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "base/json_field.h"
#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cri/client.h"
#include "image/reference.h"

namespace po = boost::program_options;

namespace berth::ctl {
namespace {

struct Progress {
  int64_t total = 0;
  int64_t done = 0;
  int layers = 0;
  int layers_done = 0;
};

std::optional<Progress> QueryProgress(cri::CriClient& client, const std::string& reference) {
  ::runtime::v1::StatusRequest request;
  request.set_verbose(true);
  ::runtime::v1::StatusResponse response;
  if (!client.runtime().Status(cri::CriClient::Context(std::chrono::seconds(2)).get(), request, &response).ok()) {
    return std::nullopt;
  }
  auto it = response.info().find("pulls");
  if (it == response.info().end()) return std::nullopt;
  auto pulls = nlohmann::json::parse(it->second, nullptr, false);
  if (!pulls.is_array()) return std::nullopt;
  for (const auto& pull : pulls) {
    if (JsonString(pull, "image") != reference) continue;
    return Progress{JsonInteger<int64_t>(pull, "totalBytes").value_or(0),
                    JsonInteger<int64_t>(pull, "doneBytes").value_or(0), JsonInteger<int>(pull, "layers").value_or(0),
                    JsonInteger<int>(pull, "layersDone").value_or(0)};
  }
  return std::nullopt;
}

std::string Mb(int64_t bytes) { return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6); }

}  // namespace

int RunPull(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description options("Flags");
  options.add_options()("creds", po::value<std::string>(), "registry credentials, USER[:PASSWORD]")(
      "auth", po::value<std::string>(), "registry credentials as base64(USER:PASSWORD)")(
      "registry-token", po::value<std::string>(), "a bearer token for the registry");
  CommandLine line;
  if (int rc = ParseCommand({"pull", "pull IMAGE [--creds USER[:PASSWORD]] [--auth AUTH]",
                             "Pulls an image; shows bytes and rate on a terminal", 1, 1},
                            args, options, &line);
      rc >= 0) {
    return rc;
  }
  const po::variables_map& flags = line.flags;
  std::string name = line.positional[0];
  ::runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(name);
  if (flags.count("creds")) {
    std::string creds = flags["creds"].as<std::string>();
    size_t colon = creds.find(':');
    request.mutable_auth()->set_username(creds.substr(0, colon));
    if (colon != std::string::npos) request.mutable_auth()->set_password(creds.substr(colon + 1));
  }
  if (flags.count("auth")) request.mutable_auth()->set_auth(flags["auth"].as<std::string>());
  if (flags.count("registry-token")) request.mutable_auth()->set_registry_token(flags["registry-token"].as<std::string>());

  cri::CriClient client(global.endpoint);
  // Pulls take as long as they take; the global timeout is for quick calls.
  auto pull = std::async(std::launch::async, [&] {
    ::runtime::v1::PullImageResponse response;
    auto context = cri::CriClient::Context(std::chrono::hours(2));
    grpc::Status status = client.image().PullImage(context.get(), request, &response);
    return std::make_pair(status, response);
  });

  // berthd names pulls by the normalised reference.
  auto ref = image::ParseReference(name);
  std::string reference = ref.ok() ? ref->String() : name;
  bool tty = ::isatty(STDOUT_FILENO);
  auto start = std::chrono::steady_clock::now();
  auto last_line = start;
  bool drew = false;
  while (pull.wait_for(std::chrono::milliseconds(tty ? 200 : 1000)) != std::future_status::ready) {
    auto progress = QueryProgress(client, reference);
    if (!progress || progress->total == 0) continue;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = seconds > 0 ? static_cast<double>(progress->done) / seconds : 0;
    if (tty) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(kWidth * progress->done / std::max<int64_t>(progress->total, 1));
      std::string bar = std::string(filled, '=') + (filled < kWidth ? ">" : "") +
                        std::string(std::max(0, kWidth - filled - 1), ' ');
      std::cout << absl::StrFormat("\r%s [%s] %s / %s  %s/s  %d/%d layers\x1b[K", reference, bar,
                                   Mb(progress->done), Mb(progress->total), Mb(static_cast<int64_t>(rate)),
                                   progress->layers_done, progress->layers)
                << std::flush;
      drew = true;
    } else if (std::chrono::steady_clock::now() - last_line >= std::chrono::seconds(2)) {
      std::cout << absl::StrFormat("pulling %s: %s of %s, %s/s, %d of %d layers\n", reference,
                                   Mb(progress->done), Mb(progress->total), Mb(static_cast<int64_t>(rate)),
                                   progress->layers_done, progress->layers);
      last_line = std::chrono::steady_clock::now();
    }
  }
  if (drew) std::cout << "\r\x1b[K";
  auto [status, response] = pull.get();
  if (!status.ok()) return ReportRpcError("PullImage", status);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << absl::StrFormat("Image is up to date for %s (%s, %.1fs)\n", response.image_ref(), reference, seconds);
  return 0;
}

}  // namespace berth::ctl
