// Single-layer OCI images built on this machine from files it has: the node image
// (links and /etc basics; the rest is mounted in) and the control plane's (one
// static binary each). The layer is a plain tar written to a file beside the work
// directory, its digest taken as it is written; mtimes are fixed, so one set of
// files makes the same digests every time and a registry that has them is not sent
// them again.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace berth::cluster {

struct LayerEntry {
  enum class Kind { kDir, kFile, kSymlink };
  Kind kind = Kind::kFile;
  std::string path = {};       // relative: "usr/local/bin/etcd"
  std::string content = {};    // kFile, unless host_file is set
  std::string host_file = {};  // kFile: copied from here
  std::string target = {};     // kSymlink
  mode_t mode = 0644;
};

LayerEntry DirEntry(std::string path, mode_t mode = 0755);
LayerEntry FileEntry(std::string path, std::string content, mode_t mode = 0644);
LayerEntry HostFileEntry(std::string path, std::string host_file, mode_t mode = 0755);
LayerEntry SymlinkEntry(std::string path, std::string target);

struct ImageContent {
  std::vector<LayerEntry> files;
  std::vector<std::string> entrypoint = {};
  std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
};

struct Blob {
  std::string media_type = {};
  std::string digest = {};
  int64_t size = 0;
  std::string data = {};  // the bytes, unless file is set
  std::string file = {};  // a layer: where its bytes are
};

struct BuiltImage {
  Blob layer;
  Blob config;
  Blob manifest;
};

// Writes the layer to work_dir/<n>.tar (the caller removes work_dir) and makes the
// config and manifest for this machine's platform.
StatusOr<BuiltImage> BuildImage(const ImageContent& content, const std::string& work_dir);

}  // namespace berth::cluster
