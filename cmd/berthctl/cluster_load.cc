// berthctl cluster load: images saved to archives (`podman save`, `docker save`,
// `skopeo copy ... oci-archive:`), pushed to the cluster's loopback registry, which
// every node mirrors every registry to: a pod naming the image by its saved name
// then runs it, as after `kind load image-archive`.
#include <stdlib.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "cluster/image_archive.h"
#include "cluster/record.h"
#include "cluster/registry_push.h"
#include "cmd/berthctl/cluster_commands.h"
#include "cmd/berthctl/command.h"

namespace po = boost::program_options;

namespace berth::ctl {

namespace {

Status Load(const ClusterOptions& options, const std::vector<std::string>& archives) {
  ASSIGN_OR_RETURN(cluster::ClusterRecord record, cluster::LoadRecord(options.state_dir, options.name));
  ASSIGN_OR_RETURN(cluster::RegistryPusher pusher, cluster::RegistryPusher::Create(record.registry));
  RETURN_IF_ERROR(pusher.Ping());
  for (const auto& archive : archives) {
    // The archive's files, beside the cluster's, for as long as this archive takes.
    std::string work = cluster::ClusterDir(options.state_dir, options.name) + "/load-XXXXXX";
    if (::mkdtemp(work.data()) == nullptr) return ErrnoError("mkdtemp " + work);
    absl::Cleanup remove_work = [&work] {
      std::error_code ec;
      std::filesystem::remove_all(work, ec);
    };
    ASSIGN_OR_RETURN(std::vector<cluster::ArchiveImage> images, cluster::ReadImageArchive(archive, work));
    for (const auto& image : images) {
      // Every registry name is mirrored to this one registry: the repository path is
      // what tells images apart there.
      const cluster::ImageBlobs& blobs = *image.blobs;
      ASSIGN_OR_RETURN(std::string digest,
                       pusher.Push(image.name.path, image.name.tag, blobs.config, blobs.layers, blobs.manifest));
      int64_t bytes = blobs.config.size;
      for (const auto& layer : blobs.layers) bytes += layer.size;
      std::cout << "Loaded " << image.name.TagRef() << " (" << blobs.layers.size() << " layers, "
                << (bytes + 512 * 1024) / (1024 * 1024) << " MiB, " << digest << ")\n";
    }
  }
  return absl::OkStatus();
}

}  // namespace

int RunClusterLoad(const ClusterOptions& options, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"cluster load", "cluster load [--name N] ARCHIVE...",
                             "Loads images saved to archives (OCI layout or Docker, as `podman save` or `docker "
                             "save` write them) into the cluster: pods name them as they were saved",
                             1, SIZE_MAX},
                            args, po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  Status loaded = Load(options, line.positional);
  if (!loaded.ok()) {
    std::cerr << "berthctl cluster load: " << loaded.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace berth::ctl
