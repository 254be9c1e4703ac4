// Finding and validating the node's CNI network configuration (CNI spec 1.x).
//
// The network is the lexicographically first file in the conf dir ending in
// .conflist, .conf or .json that parses and whose plugins are all installed. A .conf
// holds one plugin and is read as a list of one. The config is read afresh on each
// call, so a file dropped in later is picked up without a restart.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace berth::network {

struct CniPlugin {
  std::string type;         // the plugin binary's name
  std::string binary_path;  // where it was found in the bin dirs
  std::string raw_json;     // the plugin's own config object, as written
};

struct CniNetworkConfig {
  std::string file;         // the file it came from
  std::string name;
  std::string cni_version;
  bool disable_check = false;
  std::vector<CniPlugin> plugins;
  std::string raw_json;     // the whole list, normalized to .conflist form
};

// Parses one config file's bytes (.conflist, or a single-plugin .conf when
// single_plugin is true). Bin dirs are searched for each plugin type.
StatusOr<CniNetworkConfig> ParseNetworkConfig(const std::string& file, const std::string& data,
                                              bool single_plugin,
                                              const std::vector<std::string>& bin_dirs);

// The network berth uses: the first usable config in conf_dir. FAILED_PRECONDITION,
// saying why, when there is none (no files, none parses, a plugin is missing).
StatusOr<CniNetworkConfig> FindNetworkConfig(const std::string& conf_dir,
                                             const std::vector<std::string>& bin_dirs);

}  // namespace berth::network
