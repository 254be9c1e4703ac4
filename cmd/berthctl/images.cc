// berthctl images, inspecti, rmi.
#include <boost/program_options.hpp>
#include <iostream>

#include "absl/strings/str_format.h"
#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cri/client.h"

namespace po = boost::program_options;

namespace berth::ctl {
namespace {

// "docker.io/library/busybox:1.36" -> {"docker.io/library/busybox", "1.36"}.
std::pair<std::string, std::string> SplitTag(const std::string& repo_tag) {
  size_t colon = repo_tag.rfind(':');
  if (colon == std::string::npos || repo_tag.find('/', colon) != std::string::npos) return {repo_tag, ""};
  return {repo_tag.substr(0, colon), repo_tag.substr(colon + 1)};
}

}  // namespace

int RunImages(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description options("Flags");
  options.add_options()("quiet,q", "print image IDs only");
  AddOutputFlag(options, /*table=*/true);
  CommandLine line;
  if (int rc = ParseCommand({"images", "images [IMAGE] [-q] [-o json|yaml|table]",
                             "Lists the images on the node, or the one IMAGE names", 0, 1},
                            args, options, &line);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag("images", line, /*table=*/true, &format)) return 2;
  cri::CriClient client(global.endpoint);
  ::runtime::v1::ListImagesRequest request;
  if (!line.positional.empty()) request.mutable_filter()->mutable_image()->set_image(line.positional[0]);
  ::runtime::v1::ListImagesResponse response;
  auto status = client.image().ListImages(cri::CriClient::Context(global.timeout).get(), request, &response);
  if (!status.ok()) return ReportRpcError("ListImages", status);
  if (line.flags.count("quiet")) {
    for (const auto& image : response.images()) std::cout << image.id() << "\n";
    return 0;
  }
  if (PrintStructured(response, format)) return 0;
  std::vector<std::vector<std::string>> rows = {{"IMAGE", "TAG", "IMAGE ID", "SIZE"}};
  for (const auto& image : response.images()) {
    std::string id = image.id().substr(image.id().find(':') + 1, 13);
    if (image.repo_tags().empty()) {
      std::string repo = image.repo_digests().empty() ? "<none>" : image.repo_digests(0).substr(0, image.repo_digests(0).find('@'));
      rows.push_back({repo, "<none>", id, HumanBytes(image.size())});
    }
    for (const auto& tag : image.repo_tags()) {
      auto [repo, version] = SplitTag(tag);
      rows.push_back({repo, version, id, HumanBytes(image.size())});
    }
  }
  PrintTable(rows);
  return 0;
}

int RunInspectImage(const GlobalOptions& global, const std::vector<std::string>& args) {
  po::options_description options("Flags");
  AddOutputFlag(options, /*table=*/false);
  CommandLine line;
  if (int rc = ParseCommand({"inspecti", "inspecti IMAGE... [-o json|yaml]", "Shows an image's status with its config", 1},
                            args, options, &line);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag("inspecti", line, /*table=*/false, &format)) return 2;
  cri::CriClient client(global.endpoint);
  int rc = 0;
  for (const auto& name : line.positional) {
    ::runtime::v1::ImageStatusRequest request;
    request.mutable_image()->set_image(name);
    request.set_verbose(true);
    ::runtime::v1::ImageStatusResponse response;
    auto status = client.image().ImageStatus(cri::CriClient::Context(global.timeout).get(), request, &response);
    if (!status.ok()) {
      rc = ReportRpcError("ImageStatus", status);
      continue;
    }
    if (!response.has_image()) {
      std::cerr << "berthctl inspecti: image \"" << name << "\" not found\n";
      rc = 1;
      continue;
    }
    PrintWithInfo(response.image(), response.info(), format);
  }
  return rc;
}

int RunRemoveImage(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"rmi", "rmi IMAGE...", "Removes images (by ID, tag or digest) with all their names", 1},
                            args, po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  cri::CriClient client(global.endpoint);
  int rc = 0;
  for (const auto& name : line.positional) {
    // Say what the name meant before it is gone.
    ::runtime::v1::ImageStatusRequest lookup;
    lookup.mutable_image()->set_image(name);
    ::runtime::v1::ImageStatusResponse found;
    auto status = client.image().ImageStatus(cri::CriClient::Context(global.timeout).get(), lookup, &found);
    if (status.ok() && !found.has_image()) {
      std::cerr << "berthctl rmi: image \"" << name << "\" not found\n";
      rc = 1;
      continue;
    }
    ::runtime::v1::RemoveImageRequest request;
    request.mutable_image()->set_image(name);
    ::runtime::v1::RemoveImageResponse response;
    status = client.image().RemoveImage(cri::CriClient::Context(global.timeout).get(), request, &response);
    if (!status.ok()) {
      rc = ReportRpcError("RemoveImage", status);
      continue;
    }
    std::cout << "Deleted: " << (found.has_image() ? found.image().id() : name) << "\n";
  }
  return rc;
}

}  // namespace berth::ctl
