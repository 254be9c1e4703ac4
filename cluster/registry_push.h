// Pushes built images to a registry on this machine's loopback (the OCI distribution
// API's monolithic upload): the registry every node's berthd mirrors to, reached
// from inside a node through berth-node's forward. Only 127.0.0.1 and localhost are
// accepted, over plain HTTP: images for a local cluster never leave the machine.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/image_builder.h"

namespace berth::cluster {

class RegistryPusher {
 public:
  // host_port: "127.0.0.1:5000" or "localhost:5000"; INVALID_ARGUMENT otherwise.
  static StatusOr<RegistryPusher> Create(const std::string& host_port);

  // UNAVAILABLE, saying how to start one, when nothing answers /v2/.
  Status Ping() const;
  // Blobs the registry lacks, then the manifest under tag; returns the manifest's
  // digest.
  StatusOr<std::string> Push(const std::string& repository, const std::string& tag, const BuiltImage& image) const;
  StatusOr<std::string> Push(const std::string& repository, const std::string& tag, const Blob& config,
                             const std::vector<Blob>& layers, const Blob& manifest) const;

  int port() const { return port_; }

 private:
  StatusOr<bool> HasBlob(const std::string& repository, const std::string& digest) const;
  Status PushBlob(const std::string& repository, const Blob& blob) const;

  std::string base_;  // http://127.0.0.1:PORT
  int port_ = 0;
};

}  // namespace berth::cluster
