#include "pods/config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "base/file_util.h"

namespace berth::pods {
namespace {

Status BadValue(absl::string_view key, const YAML::Node& node, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("config key \"", key, "\" (line ", node.Mark().line + 1, "): ", why));
}

Status CheckAbsolutePath(absl::string_view key, const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("config key \"", key, "\": \"", path, "\" is not an absolute path"));
  }
  return absl::OkStatus();
}

StatusOr<std::string> ScalarString(absl::string_view key, const YAML::Node& node) {
  if (!node.IsScalar()) return BadValue(key, node, "want a string");
  return node.Scalar();
}

StatusOr<std::vector<std::string>> StringList(absl::string_view key, const YAML::Node& node) {
  if (!node.IsSequence()) return BadValue(key, node, "want a list of strings");
  std::vector<std::string> out;
  for (const auto& item : node) {
    if (!item.IsScalar()) return BadValue(key, item, "want a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

// A section is a table of key handlers; keys not in it are errors.
using KeyHandler = std::function<Status(absl::string_view key, const YAML::Node&)>;

Status ParseSection(absl::string_view prefix, const YAML::Node& node,
                    const std::map<std::string, KeyHandler, std::less<>>& handlers) {
  if (!node.IsMap()) {
    return BadValue(prefix.empty() ? "(top level)" : prefix, node, "want a mapping of keys");
  }
  for (const auto& entry : node) {
    std::string name = entry.first.Scalar();
    std::string key = prefix.empty() ? name : absl::StrCat(prefix, ".", name);
    auto it = handlers.find(name);
    if (it == handlers.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown config key \"", key, "\" (line ", entry.first.Mark().line + 1, ")"));
    }
    RETURN_IF_ERROR(it->second(key, entry.second));
  }
  return absl::OkStatus();
}

KeyHandler SetStringList(std::vector<std::string>* field) {
  return [field](absl::string_view key, const YAML::Node& node) -> Status {
    ASSIGN_OR_RETURN(*field, StringList(key, node));
    return absl::OkStatus();
  };
}

KeyHandler SetBool(bool* field) {
  return [field](absl::string_view key, const YAML::Node& node) -> Status {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return BadValue(key, node, "want true or false");
    }
    *field = value;
    return absl::OkStatus();
  };
}

KeyHandler SetInt(int* field) {
  return [field](absl::string_view key, const YAML::Node& node) -> Status {
    int value = 0;
    if (!node.IsScalar() || !YAML::convert<int>::decode(node, value)) {
      return BadValue(key, node, "want a whole number");
    }
    *field = value;
    return absl::OkStatus();
  };
}

KeyHandler SetInt64(int64_t* field) {
  return [field](absl::string_view key, const YAML::Node& node) -> Status {
    int64_t value = 0;
    if (!node.IsScalar() || !YAML::convert<int64_t>::decode(node, value)) {
      return BadValue(key, node, "want a whole number");
    }
    *field = value;
    return absl::OkStatus();
  };
}

KeyHandler SetString(std::string* field) {
  return [field](absl::string_view key, const YAML::Node& node) -> Status {
    ASSIGN_OR_RETURN(*field, ScalarString(key, node));
    return absl::OkStatus();
  };
}

bool IsBuiltInHandler(const std::string& name) { return name == "berth" || name == "runc" || name == "crun"; }

// A RuntimeClass's handler is a DNS label (Kubernetes validates it so).
Status CheckHandlerName(const std::string& name) {
  bool valid = !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-';
  for (char c : name) valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("config key \"runtimes.handlers\": \"", name,
                   "\" is not a handler name (lowercase letters, digits, '-'; 63 at most)"));
}

}  // namespace

Status CniConfig::Validate() const {
  RETURN_IF_ERROR(CheckAbsolutePath("cni.conf_dir", conf_dir));
  if (bin_dirs.empty()) return absl::InvalidArgumentError("config key \"cni.bin_dirs\": empty list");
  for (const auto& dir : bin_dirs) RETURN_IF_ERROR(CheckAbsolutePath("cni.bin_dirs", dir));
  if (!conf_template.empty()) RETURN_IF_ERROR(CheckAbsolutePath("cni.conf_template", conf_template));
  if (plugin_timeout_seconds < 1 || plugin_timeout_seconds > 3600) {
    return absl::InvalidArgumentError(absl::StrCat("config key \"cni.plugin_timeout_seconds\": ",
                                                   plugin_timeout_seconds, " is not in 1..3600"));
  }
  return absl::OkStatus();
}

Status RuntimesConfig::Validate() const {
  RETURN_IF_ERROR(CheckAbsolutePath("runtimes.runc_path", runc_path));
  RETURN_IF_ERROR(CheckAbsolutePath("runtimes.crun_path", crun_path));
  for (const auto& [name, runtime] : handlers) {
    RETURN_IF_ERROR(CheckHandlerName(name));
    if (IsBuiltInHandler(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config key \"runtimes.handlers.", name, "\": ", name, " is a built-in handler already"));
    }
    if (!IsBuiltInHandler(runtime)) {
      return absl::InvalidArgumentError(absl::StrCat("config key \"runtimes.handlers.", name, ".runtime\": \"", runtime,
                                                     "\" is not berth, runc or crun"));
    }
  }
  return CheckAbsolutePath("runtimes.criu_path", criu_path);
}

Status MetricsConfig::Validate() const {
  if (address.empty()) return absl::OkStatus();
  // HOST:PORT, or [V6]:PORT; the host must be given (no wildcard by accident).
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key \"metrics.address\": \"", address, "\" is not HOST:PORT (say 127.0.0.1:9101)"));
  }
  return absl::OkStatus();
}

Status StreamingConfig::Validate() const {
  if (address.empty()) return absl::InvalidArgumentError("config key \"streaming.address\" is empty");
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("config key \"streaming.port\": ", port, " is not in 0..65535"));
  }
  if (idle_timeout_seconds < 1) {
    return absl::InvalidArgumentError("config key \"streaming.idle_timeout_seconds\" must be positive");
  }
  if (drain_timeout_seconds < 0) {
    return absl::InvalidArgumentError("config key \"streaming.drain_timeout_seconds\" must not be negative");
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "config keys \"streaming.tls_cert_file\" and \"streaming.tls_key_file\" go together: set both or neither");
  }
  if (!tls_client_ca_file.empty() && tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "config key \"streaming.tls_client_ca_file\" needs \"streaming.tls_cert_file\" and \"tls_key_file\"");
  }
  for (const auto& [key, path] : {std::pair{"streaming.tls_cert_file", &tls_cert_file},
                                  std::pair{"streaming.tls_key_file", &tls_key_file},
                                  std::pair{"streaming.tls_client_ca_file", &tls_client_ca_file}}) {
    if (!path->empty()) RETURN_IF_ERROR(CheckAbsolutePath(key, *path));
  }
  return absl::OkStatus();
}

Status ImagesConfig::Validate() const {
  if (max_concurrent_downloads < 1 || max_concurrent_downloads > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key \"images.max_concurrent_downloads\": ", max_concurrent_downloads, " is not in 1..64"));
  }
  if (pull_progress_timeout_seconds < 1 || pull_progress_timeout_seconds > 3600) {
    return absl::InvalidArgumentError(absl::StrCat("config key \"images.pull_progress_timeout_seconds\": ",
                                                   pull_progress_timeout_seconds, " is not in 1..3600"));
  }
  if (max_layer_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key \"images.max_layer_bytes\": ", max_layer_bytes, " is negative"));
  }
  return absl::OkStatus();
}

Status Config::Validate() const {
  RETURN_IF_ERROR(CheckAbsolutePath("socket", socket));
  RETURN_IF_ERROR(CheckAbsolutePath("root", root));
  RETURN_IF_ERROR(CheckAbsolutePath("state_dir", state_dir));
  if (root == state_dir) {
    return absl::InvalidArgumentError("config keys \"root\" and \"state_dir\" must differ");
  }
  if (!IsBuiltInHandler(default_runtime_handler) && !runtimes.handlers.contains(default_runtime_handler)) {
    return absl::InvalidArgumentError(absl::StrCat("config key \"default_runtime_handler\": \"",
                                                   default_runtime_handler,
                                                   "\" is not berth, runc, crun or a name in runtimes.handlers"));
  }
  if (cgroup_driver != "cgroupfs") {
    return absl::InvalidArgumentError(absl::StrCat(
        "config key \"cgroup_driver\": \"", cgroup_driver,
        "\" is not supported (berth manages cgroups itself: use \"cgroupfs\")"));
  }
  RETURN_IF_ERROR(runtimes.Validate());
  RETURN_IF_ERROR(cni.Validate());
  RETURN_IF_ERROR(registry.Validate());
  RETURN_IF_ERROR(streaming.Validate());
  RETURN_IF_ERROR(nri.Validate());
  RETURN_IF_ERROR(metrics.Validate());
  return images.Validate();
}

std::string Config::ToYaml() const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "socket" << YAML::Value << socket;
  out << YAML::Key << "root" << YAML::Value << root;
  out << YAML::Key << "state_dir" << YAML::Value << state_dir;
  out << YAML::Key << "log_level" << YAML::Value << std::string(LogLevelName(log_level));
  out << YAML::Key << "cgroup_driver" << YAML::Value << cgroup_driver;
  out << YAML::Key << "default_runtime_handler" << YAML::Value << default_runtime_handler;
  out << YAML::Key << "runtimes" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "runc_path" << YAML::Value << runtimes.runc_path;
  out << YAML::Key << "crun_path" << YAML::Value << runtimes.crun_path;
  out << YAML::Key << "criu_path" << YAML::Value << runtimes.criu_path;
  out << YAML::Key << "checkpoint_tcp_established" << YAML::Value << runtimes.checkpoint_tcp_established;
  out << YAML::Key << "handlers" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, runtime] : runtimes.handlers) {
    out << YAML::Key << name << YAML::Value << YAML::BeginMap << YAML::Key << "runtime" << YAML::Value << runtime
        << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "streaming" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << streaming.address;
  out << YAML::Key << "port" << YAML::Value << streaming.port;
  out << YAML::Key << "idle_timeout_seconds" << YAML::Value << streaming.idle_timeout_seconds;
  out << YAML::Key << "drain_timeout_seconds" << YAML::Value << streaming.drain_timeout_seconds;
  out << YAML::Key << "tls_cert_file" << YAML::Value << streaming.tls_cert_file;
  out << YAML::Key << "tls_key_file" << YAML::Value << streaming.tls_key_file;
  out << YAML::Key << "tls_client_ca_file" << YAML::Value << streaming.tls_client_ca_file;
  out << YAML::EndMap;
  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << metrics.address;
  out << YAML::EndMap;
  out << YAML::Key << "blockio_config_file" << YAML::Value << blockio_config_file;
  out << YAML::Key << "cdi" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "spec_dirs" << YAML::Value << YAML::Flow << cdi.spec_dirs;
  out << YAML::EndMap;
  out << YAML::Key << "nri" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enable" << YAML::Value << nri.enable;
  out << YAML::Key << "socket_path" << YAML::Value << nri.socket_path;
  out << YAML::Key << "plugin_path" << YAML::Value << nri.plugin_path;
  out << YAML::Key << "plugin_config_path" << YAML::Value << nri.plugin_config_path;
  out << YAML::Key << "disable_connections" << YAML::Value << nri.disable_connections;
  out << YAML::Key << "registration_timeout_ms" << YAML::Value << nri.registration_timeout_ms;
  out << YAML::Key << "request_timeout_ms" << YAML::Value << nri.request_timeout_ms;
  out << YAML::Key << "synchronize_timeout_ms" << YAML::Value << nri.synchronize_timeout_ms;
  out << YAML::EndMap;
  out << YAML::Key << "cni" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "conf_dir" << YAML::Value << cni.conf_dir;
  out << YAML::Key << "bin_dirs" << YAML::Value << YAML::Flow << cni.bin_dirs;
  out << YAML::Key << "conf_template" << YAML::Value << cni.conf_template;
  out << YAML::Key << "plugin_timeout_seconds" << YAML::Value << cni.plugin_timeout_seconds;
  out << YAML::EndMap;
  out << YAML::Key << "registry" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "hosts" << YAML::Value << YAML::BeginMap;
  for (const auto& [host, config] : registry.hosts) {
    out << YAML::Key << host << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "mirrors" << YAML::Value << YAML::Flow << config.mirrors;
    out << YAML::Key << "skip_upstream" << YAML::Value << config.skip_upstream;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "insecure" << YAML::Value << YAML::Flow << registry.insecure;
  out << YAML::EndMap;
  out << YAML::Key << "images" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "pinned" << YAML::Value << YAML::Flow << images.pinned;
  out << YAML::Key << "max_concurrent_downloads" << YAML::Value << images.max_concurrent_downloads;
  out << YAML::Key << "pull_progress_timeout_seconds" << YAML::Value << images.pull_progress_timeout_seconds;
  out << YAML::Key << "max_layer_bytes" << YAML::Value << images.max_layer_bytes;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

StatusOr<Config> ParseConfig(absl::string_view yaml, absl::string_view source) {
  Config config;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid YAML: ", e.what()));
  }
  // An empty file means all defaults.
  if (root.IsNull()) return config;

  const std::map<std::string, KeyHandler, std::less<>> cni_keys = {
      {"conf_dir", SetString(&config.cni.conf_dir)},
      {"conf_template", SetString(&config.cni.conf_template)},
      {"plugin_timeout_seconds", SetInt(&config.cni.plugin_timeout_seconds)},
      {"bin_dirs",
       [&](absl::string_view key, const YAML::Node& node) -> Status {
         ASSIGN_OR_RETURN(config.cni.bin_dirs, StringList(key, node));
         return absl::OkStatus();
       }},
  };
  // registry.hosts has one section per host, named by the operator.
  KeyHandler registry_hosts = [&](absl::string_view key, const YAML::Node& node) -> Status {
    if (!node.IsMap()) return BadValue(key, node, "want a mapping of registry hosts");
    for (const auto& entry : node) {
      std::string host = entry.first.Scalar();
      image::HostConfig& host_config = config.registry.hosts[host];
      const std::map<std::string, KeyHandler, std::less<>> host_keys = {
          {"mirrors", SetStringList(&host_config.mirrors)},
          {"skip_upstream", SetBool(&host_config.skip_upstream)},
      };
      RETURN_IF_ERROR(ParseSection(absl::StrCat(key, ".", host), entry.second, host_keys));
    }
    return absl::OkStatus();
  };
  const std::map<std::string, KeyHandler, std::less<>> registry_keys = {
      {"hosts", registry_hosts},
      {"insecure", SetStringList(&config.registry.insecure)},
  };
  // runtimes.handlers has one section per extra handler, named by the operator.
  KeyHandler runtime_handlers = [&](absl::string_view key, const YAML::Node& node) -> Status {
    if (!node.IsMap()) return BadValue(key, node, "want a mapping of handler names");
    for (const auto& entry : node) {
      std::string name = entry.first.Scalar();
      std::string& runtime = config.runtimes.handlers[name];
      const std::map<std::string, KeyHandler, std::less<>> handler_keys = {{"runtime", SetString(&runtime)}};
      RETURN_IF_ERROR(ParseSection(absl::StrCat(key, ".", name), entry.second, handler_keys));
      if (runtime.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("config key \"", key, ".", name, "\": no runtime"));
      }
    }
    return absl::OkStatus();
  };
  const std::map<std::string, KeyHandler, std::less<>> runtimes_keys = {
      {"runc_path", SetString(&config.runtimes.runc_path)},
      {"crun_path", SetString(&config.runtimes.crun_path)},
      {"criu_path", SetString(&config.runtimes.criu_path)},
      {"checkpoint_tcp_established", SetBool(&config.runtimes.checkpoint_tcp_established)},
      {"handlers", runtime_handlers},
  };
  const std::map<std::string, KeyHandler, std::less<>> images_keys = {
      {"pinned", SetStringList(&config.images.pinned)},
      {"max_concurrent_downloads", SetInt(&config.images.max_concurrent_downloads)},
      {"pull_progress_timeout_seconds", SetInt(&config.images.pull_progress_timeout_seconds)},
      {"max_layer_bytes", SetInt64(&config.images.max_layer_bytes)},
  };
  const std::map<std::string, KeyHandler, std::less<>> streaming_keys = {
      {"address", SetString(&config.streaming.address)},
      {"port", SetInt(&config.streaming.port)},
      {"idle_timeout_seconds", SetInt(&config.streaming.idle_timeout_seconds)},
      {"drain_timeout_seconds", SetInt(&config.streaming.drain_timeout_seconds)},
      {"tls_cert_file", SetString(&config.streaming.tls_cert_file)},
      {"tls_key_file", SetString(&config.streaming.tls_key_file)},
      {"tls_client_ca_file", SetString(&config.streaming.tls_client_ca_file)},
  };
  const std::map<std::string, KeyHandler, std::less<>> metrics_keys = {
      {"address", SetString(&config.metrics.address)},
  };
  const std::map<std::string, KeyHandler, std::less<>> nri_keys = {
      {"enable", SetBool(&config.nri.enable)},
      {"socket_path", SetString(&config.nri.socket_path)},
      {"plugin_path", SetString(&config.nri.plugin_path)},
      {"plugin_config_path", SetString(&config.nri.plugin_config_path)},
      {"disable_connections", SetBool(&config.nri.disable_connections)},
      {"registration_timeout_ms", SetInt(&config.nri.registration_timeout_ms)},
      {"request_timeout_ms", SetInt(&config.nri.request_timeout_ms)},
      {"synchronize_timeout_ms", SetInt(&config.nri.synchronize_timeout_ms)},
  };
  const std::map<std::string, KeyHandler, std::less<>> cdi_keys = {
      {"spec_dirs", SetStringList(&config.cdi.spec_dirs)},
  };
  const std::map<std::string, KeyHandler, std::less<>> top_keys = {
      {"socket", SetString(&config.socket)},
      {"root", SetString(&config.root)},
      {"state_dir", SetString(&config.state_dir)},
      {"cgroup_driver", SetString(&config.cgroup_driver)},
      {"default_runtime_handler", SetString(&config.default_runtime_handler)},
      {"blockio_config_file", SetString(&config.blockio_config_file)},
      {"log_level",
       [&](absl::string_view key, const YAML::Node& node) -> Status {
         ASSIGN_OR_RETURN(std::string name, ScalarString(key, node));
         auto level = ParseLogLevel(name);
         if (!level.ok()) return BadValue(key, node, level.status().message());
         config.log_level = *level;
         return absl::OkStatus();
       }},
      {"cni",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, cni_keys);
       }},
      {"registry",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, registry_keys);
       }},
      {"images",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, images_keys);
       }},
      {"runtimes",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, runtimes_keys);
       }},
      {"streaming",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, streaming_keys);
       }},
      {"metrics",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, metrics_keys);
       }},
      {"nri",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, nri_keys);
       }},
      {"cdi",
       [&](absl::string_view key, const YAML::Node& node) {
         return ParseSection(key, node, cdi_keys);
       }},
  };
  Status parsed;
  try {
    parsed = ParseSection("", root, top_keys);
  } catch (const YAML::Exception& e) {
    parsed = absl::InvalidArgumentError(absl::StrCat("invalid YAML: ", e.what()));
  }
  if (!parsed.ok()) return Annotate(parsed, source);
  Status valid = config.Validate();
  if (!valid.ok()) return Annotate(valid, source);
  return config;
}

StatusOr<Config> LoadConfigFile(const std::string& path) {
  auto data = ReadFile(path);
  if (!data.ok()) return Annotate(data.status(), "read config file");
  return ParseConfig(*data, path);
}

}  // namespace berth::pods
