#include "network/cni_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "base/json_field.h"

namespace berth::network {
namespace {

using nlohmann::json;

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

StatusOr<std::string> FindPlugin(const std::string& type, const std::vector<std::string>& bin_dirs) {
  // A type is a bare file name: anything else could run a binary outside the bin dirs.
  if (type.empty() || type.find('/') != std::string::npos || type == "." || type == "..") {
    return absl::InvalidArgumentError(absl::StrCat("invalid plugin type \"", type, "\""));
  }
  for (const auto& dir : bin_dirs) {
    std::string path = dir + "/" + type;
    if (IsExecutableFile(path)) return path;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "plugin \"", type, "\" not found in ", absl::StrJoin(bin_dirs, ", ")));
}

StatusOr<std::string> RequiredString(const json& obj, const char* key) {
  std::string value = JsonString(obj, key);
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("missing or empty string field \"", key, "\""));
  return value;
}

}  // namespace

StatusOr<CniNetworkConfig> ParseNetworkConfig(const std::string& file, const std::string& data,
                                              bool single_plugin,
                                              const std::vector<std::string>& bin_dirs) {
  json doc = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": not a JSON object"));
  }
  json list;
  if (single_plugin) {
    // A .conf is one plugin carrying the network's name and version itself.
    list = json::object();
    list["cniVersion"] = JsonString(doc, "cniVersion");
    list["name"] = JsonString(doc, "name");
    list["plugins"] = json::array({doc});
  } else {
    list = doc;
  }
  CniNetworkConfig config;
  config.file = file;
  auto name = RequiredString(list, "name");
  if (!name.ok()) return Annotate(name.status(), file);
  config.name = *name;
  auto version = RequiredString(list, "cniVersion");
  if (!version.ok()) return Annotate(version.status(), file);
  config.cni_version = *version;
  if (auto it = list.find("disableCheck"); it != list.end() && it->is_boolean()) {
    config.disable_check = it->get<bool>();
  }
  auto plugins = list.find("plugins");
  if (plugins == list.end() || !plugins->is_array() || plugins->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": \"plugins\" must be a non-empty list"));
  }
  for (const auto& plugin : *plugins) {
    if (!plugin.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": a plugin entry is not an object"));
    }
    auto type = RequiredString(plugin, "type");
    if (!type.ok()) return Annotate(type.status(), absl::StrCat(file, ": plugin"));
    auto path = FindPlugin(*type, bin_dirs);
    if (!path.ok()) return Annotate(path.status(), file);
    config.plugins.push_back({*type, *path, plugin.dump()});
  }
  config.raw_json = list.dump();
  return config;
}

StatusOr<CniNetworkConfig> FindNetworkConfig(const std::string& conf_dir,
                                             const std::vector<std::string>& bin_dirs) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(conf_dir, ec)) {
    std::string path = entry.path().string();
    if (!entry.is_regular_file(ec)) continue;
    if (absl::EndsWith(path, ".conflist") || absl::EndsWith(path, ".conf") ||
        absl::EndsWith(path, ".json")) {
      files.push_back(path);
    }
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::FailedPreconditionError(absl::StrCat("read CNI conf dir ", conf_dir, ": ", ec.message()));
  }
  if (files.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("no network config found in ", conf_dir));
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> problems;
  for (const auto& file : files) {
    auto data = ReadFile(file);
    if (!data.ok()) {
      problems.emplace_back(data.status().message());
      continue;
    }
    auto config = ParseNetworkConfig(file, *data, !absl::EndsWith(file, ".conflist"), bin_dirs);
    if (config.ok()) return config;
    problems.emplace_back(config.status().message());
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no usable network config in ", conf_dir, ": ", absl::StrJoin(problems, "; ")));
}

}  // namespace berth::network
