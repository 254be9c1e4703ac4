#include "network/cni.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/json_field.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/process.h"
#include "network/cni_config.h"

namespace berth::network {
namespace {

using nlohmann::json;


// "0.4.0" -> {0, 4, 0}; missing parts are 0.
std::vector<int> VersionParts(const std::string& version) {
  std::vector<int> parts;
  for (absl::string_view piece : absl::StrSplit(version, '.')) {
    int n = 0;
    (void)absl::SimpleAtoi(piece, &n);
    parts.push_back(n);
  }
  parts.resize(3, 0);
  return parts;
}

bool VersionAtLeast(const std::string& version, const std::string& minimum) {
  return VersionParts(version) >= VersionParts(minimum);
}

// What one ADD, CHECK or DEL needs besides the plugin's own config.
struct Invocation {
  std::string command;
  std::string pod_id;
  std::string netns;
  std::string ifname;
  std::string args;  // CNI_ARGS
};

// The stdin of one plugin in a chain: its own config plus the list's name and
// version, the runtimeConfig entries it declared capabilities for, and the
// previous result.
json PluginInput(const json& list, const CniPlugin& plugin, const json& runtime_config, const json& prev_result) {
  json conf = json::parse(plugin.raw_json);
  conf["name"] = JsonString(list, "name");
  conf["cniVersion"] = JsonString(list, "cniVersion");
  json selected = json::object();
  if (auto caps = conf.find("capabilities"); caps != conf.end() && caps->is_object()) {
    for (const auto& [capability, wanted] : caps->items()) {
      if (wanted.is_boolean() && wanted.get<bool>() && runtime_config.contains(capability)) {
        selected[capability] = runtime_config[capability];
      }
    }
  }
  if (!selected.empty()) conf["runtimeConfig"] = selected;
  if (!prev_result.is_null()) conf["prevResult"] = prev_result;
  return conf;
}

// Runs one plugin. ADD answers its result; CHECK and DEL answer null.
StatusOr<json> Invoke(const CniPlugin& plugin, const Invocation& call, const json& input,
                      const CniOptions& options) {
  RunOptions run;
  run.timeout = options.plugin_timeout;
  run.stdin_data = input.dump();
  run.extra_env = {"CNI_COMMAND=" + call.command,  "CNI_CONTAINERID=" + call.pod_id,
                   "CNI_NETNS=" + call.netns,      "CNI_IFNAME=" + call.ifname,
                   "CNI_ARGS=" + call.args,        "CNI_PATH=" + absl::StrJoin(options.bin_dirs, ":")};
  std::string what = absl::StrCat("CNI plugin ", plugin.type, " ", call.command);
  ASSIGN_OR_RETURN(RunResult result, RunProcess({plugin.binary_path}, run));
  if (result.timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, " did not finish within ", options.plugin_timeout.count(), " ms"));
  }
  if (result.exit_code != 0) {
    // A failing plugin writes {"code": N, "msg": "...", "details": "..."} to stdout.
    json error = json::parse(result.out, nullptr, false);
    std::string message;
    if (!error.is_discarded() && error.is_object()) {
      message = JsonString(error, "msg");
      std::string details = JsonString(error, "details");
      if (!details.empty()) absl::StrAppend(&message, ": ", details);
      if (error.contains("code")) absl::StrAppend(&message, " (code ", error["code"].dump(), ")");
    }
    if (message.empty()) message = !result.err.empty() ? result.err : result.out;
    return absl::UnknownError(absl::StrCat(what, " failed: ", absl::StripAsciiWhitespace(message)));
  }
  if (call.command != "ADD") return json();
  json parsed = json::parse(result.out, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::UnknownError(absl::StrCat(what, " wrote a result that is not a JSON object"));
  }
  return parsed;
}

std::string CniArgs(const PodNetworkRequest& request) {
  // IgnoreUnknown lets plugins that know no K8S_* arguments accept them.
  return absl::StrCat("IgnoreUnknown=1;K8S_POD_NAMESPACE=", request.pod_namespace,
                      ";K8S_POD_NAME=", request.pod_name, ";K8S_POD_INFRA_CONTAINER_ID=", request.pod_id,
                      ";K8S_POD_UID=", request.pod_uid);
}

json RuntimeConfig(const PodNetworkRequest& request) {
  json config = json::object();
  json ports = json::array();
  for (const auto& port : request.port_mappings) {
    if (port.host_port <= 0) continue;  // a container port alone maps nothing
    json entry = {{"hostPort", port.host_port}, {"containerPort", port.container_port},
                  {"protocol", port.protocol}};
    if (!port.host_ip.empty()) entry["hostIP"] = port.host_ip;
    ports.push_back(std::move(entry));
  }
  if (!ports.empty()) config["portMappings"] = std::move(ports);
  if (request.bandwidth) {
    const Bandwidth& b = *request.bandwidth;
    json bandwidth = json::object();
    if (b.ingress_rate > 0) {
      bandwidth["ingressRate"] = b.ingress_rate;
      bandwidth["ingressBurst"] = b.ingress_burst;
    }
    if (b.egress_rate > 0) {
      bandwidth["egressRate"] = b.egress_rate;
      bandwidth["egressBurst"] = b.egress_burst;
    }
    if (!bandwidth.empty()) config["bandwidth"] = std::move(bandwidth);
  }
  if (!request.ips.empty()) config["ips"] = request.ips;
  if (request.dns) {
    config["dns"] = {{"servers", request.dns->servers},
                     {"searches", request.dns->searches},
                     {"options", request.dns->options}};
  }
  if (!request.cgroup_path.empty()) config["cgroupPath"] = request.cgroup_path;
  return config;
}

// What the cache keeps of an attachment.
struct CacheEntry {
  json network;  // the conflist, normalized
  std::string ifname;
  std::string netns;
  std::string args;
  json runtime_config;
  json result;  // null until ADD finished
};

json ToJson(const CacheEntry& e) {
  return {{"network", e.network}, {"ifname", e.ifname}, {"netns", e.netns},
          {"args", e.args},       {"runtimeConfig", e.runtime_config}, {"result", e.result}};
}

StatusOr<CacheEntry> ParseCacheEntry(const std::string& path, const std::string& data) {
  json doc = json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("network") || !doc["network"].is_object()) {
    return absl::DataLossError(absl::StrCat("CNI cache entry ", path, " is unreadable"));
  }
  CacheEntry e;
  e.network = doc["network"];
  e.ifname = JsonString(doc, "ifname");
  e.netns = JsonString(doc, "netns");
  e.args = JsonString(doc, "args");
  const json* runtime_config = JsonMember(doc, "runtimeConfig");
  e.runtime_config = runtime_config && runtime_config->is_object() ? *runtime_config : json::object();
  const json* result = JsonMember(doc, "result");
  e.result = result ? *result : json();
  return e;
}

// DEL through the chain in reverse, every plugin even after one failed (each may
// hold something: an IP, a port rule); the first error is returned.
Status RunDel(const CniNetworkConfig& network, const json& list, const CacheEntry& entry,
              const std::string& pod_id, const CniOptions& options) {
  Invocation call{"DEL", pod_id, entry.netns, entry.ifname, entry.args};
  // A namespace that is gone (after a reboot, or its pin unmounted) is no
  // namespace: plugins then only release what lives outside it.
  if (!call.netns.empty() && !HoldsNamespace(call.netns)) call.netns.clear();
  json prev = VersionAtLeast(network.cni_version, "0.4.0") ? entry.result : json();
  Status first_error;
  for (auto it = network.plugins.rbegin(); it != network.plugins.rend(); ++it) {
    auto done = Invoke(*it, call, PluginInput(list, *it, entry.runtime_config, prev), options);
    if (!done.ok() && first_error.ok()) first_error = done.status();
  }
  return first_error;
}

}  // namespace

namespace {

// Runs one CNI operation over the whole plugin chain, timing it and counting its
// failures for Prometheus.
template <typename Operation>
auto Timed(const char* operation, Operation run) -> decltype(run()) {
  static auto& durations = prometheus::BuildHistogram()
                               .Name("berth_cni_operation_duration_seconds")
                               .Help("Time a CNI operation (ADD, CHECK, DEL) takes over the whole plugin chain.")
                               .Register(metrics::Registry());
  static auto& errors = prometheus::BuildCounter()
                            .Name("berth_cni_operation_errors_total")
                            .Help("CNI operations (ADD, CHECK, DEL) that failed.")
                            .Register(metrics::Registry());
  const auto start = std::chrono::steady_clock::now();
  auto result = run();
  durations.Add({{"operation", operation}}, metrics::LatencyBuckets()).Observe(metrics::SecondsSince(start));
  auto& failed = errors.Add({{"operation", operation}});
  if (!result.ok()) failed.Increment();
  return result;
}

}  // namespace

std::string CniNetwork::CachePath(const std::string& pod_id) const {
  return absl::StrCat(options_.cache_dir, "/", pod_id, ".json");
}

StatusOr<Attachment> CniNetwork::Attach(const PodNetworkRequest& request) {
  return Timed("ADD", [&]() -> StatusOr<Attachment> {
    ASSIGN_OR_RETURN(CniNetworkConfig network, FindNetworkConfig(options_.conf_dir, options_.bin_dirs));
    CacheEntry entry;
    entry.network = json::parse(network.raw_json);
    entry.ifname = options_.interface;
    entry.netns = request.netns_path;
    entry.args = CniArgs(request);
    entry.runtime_config = RuntimeConfig(request);
    // Cached before the first plugin runs: if berthd dies mid-chain, recovery still
    // knows what to DEL.
    RETURN_IF_ERROR(MakeDirs(options_.cache_dir, 0700));
    std::string cache_path = CachePath(request.pod_id);
    RETURN_IF_ERROR(WriteFileAtomically(cache_path, ToJson(entry).dump(), 0600));

    Invocation call{"ADD", request.pod_id, request.netns_path, options_.interface, entry.args};
    json prev;
    for (const auto& plugin : network.plugins) {
      auto result = Invoke(plugin, call, PluginInput(entry.network, plugin, entry.runtime_config, prev), options_);
      if (!result.ok()) {
        // Undo what the earlier plugins (and this one, partly) did.
        entry.result = prev;
        Status undone = RunDel(network, entry.network, entry, request.pod_id, options_);
        if (undone.ok()) {
          (void)RemoveAll(cache_path);
        } else {
          BERTH_LOG(Warn) << "undo a failed CNI ADD" << Kv("pod", request.pod_id) << undone;
        }
        return Annotate(result.status(), absl::StrCat("attach pod to network \"", network.name, "\""));
      }
      prev = *std::move(result);
    }
    entry.result = prev;
    RETURN_IF_ERROR(WriteFileAtomically(cache_path, ToJson(entry).dump(), 0600));

    Attachment attachment;
    attachment.network_name = network.name;
    attachment.interface = options_.interface;
    attachment.result_json = prev.dump();
    ASSIGN_OR_RETURN(attachment.ips, PodIpsFromResult(attachment.result_json, options_.interface));
    return attachment;
  });
}

Status CniNetwork::Check(const std::string& pod_id) {
  return Timed("CHECK", [&]() -> Status {
    std::string cache_path = CachePath(pod_id);
    ASSIGN_OR_RETURN(std::string data, ReadFile(cache_path));
    ASSIGN_OR_RETURN(CacheEntry entry, ParseCacheEntry(cache_path, data));
    ASSIGN_OR_RETURN(CniNetworkConfig network,
                     ParseNetworkConfig(cache_path, entry.network.dump(), false, options_.bin_dirs));
    if (network.disable_check || !VersionAtLeast(network.cni_version, "0.4.0")) return absl::OkStatus();
    Invocation call{"CHECK", pod_id, entry.netns, entry.ifname, entry.args};
    for (const auto& plugin : network.plugins) {
      auto done = Invoke(plugin, call, PluginInput(entry.network, plugin, entry.runtime_config, entry.result),
                         options_);
      if (!done.ok()) return Annotate(done.status(), absl::StrCat("check network \"", network.name, "\""));
    }
    return absl::OkStatus();
  });
}

AttachmentProbe CniNetwork::Probe(const std::string& pod_id) const {
  std::string cache_path = CachePath(pod_id);
  auto data = ReadFile(cache_path);
  if (!data.ok()) return {AttachmentState::kUnknown, std::string(data.status().message())};
  auto entry = ParseCacheEntry(cache_path, *data);
  if (!entry.ok()) return {AttachmentState::kUnknown, std::string(entry.status().message())};
  auto ips = PodIpsFromResult(entry->result.dump(), entry->ifname);
  if (!ips.ok()) return {AttachmentState::kUnknown, std::string(ips.status().message())};
  // The interface is looked for only where the result says the pod got it (a
  // loopback-only network gives none), or got addresses on it.
  bool has_interface = !ips->empty();
  if (entry->result.is_object() && entry->result.contains("interfaces") && entry->result["interfaces"].is_array()) {
    for (const auto& iface : entry->result["interfaces"]) {
      if (JsonString(iface, "name") == entry->ifname && !JsonString(iface, "sandbox").empty()) has_interface = true;
    }
  }
  return ProbePodInterface(entry->netns, has_interface ? entry->ifname : "", *ips);
}

Status CniNetwork::Detach(const std::string& pod_id) {
  return Timed("DEL", [&]() -> Status {
    std::string cache_path = CachePath(pod_id);
    auto data = ReadFile(cache_path);
    if (!data.ok() && data.status().code() != StatusCode::kNotFound) return data.status();
    CacheEntry entry;
    if (data.ok()) {
      ASSIGN_OR_RETURN(entry, ParseCacheEntry(cache_path, *data));
    } else {
      // Nothing cached: a DEL on the current network is harmless and frees whatever an
      // ADD that berth did not record may have left.
      auto current = FindNetworkConfig(options_.conf_dir, options_.bin_dirs);
      if (!current.ok()) return absl::OkStatus();
      entry.network = json::parse(current->raw_json);
      entry.ifname = options_.interface;
      entry.runtime_config = json::object();
    }
    ASSIGN_OR_RETURN(CniNetworkConfig network,
                     ParseNetworkConfig(cache_path, entry.network.dump(), false, options_.bin_dirs));
    Status deleted = RunDel(network, entry.network, entry, pod_id, options_);
    if (!deleted.ok()) return Annotate(deleted, absl::StrCat("detach pod from network \"", network.name, "\""));
    if (data.ok()) RETURN_IF_ERROR(RemoveAll(cache_path));
    return absl::OkStatus();
  });
}

std::vector<std::string> CniNetwork::CachedPods() const {
  std::vector<std::string> pods;
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(options_.cache_dir, ec)) {
    std::string name = file.path().filename().string();
    if (absl::EndsWith(name, ".json")) pods.push_back(name.substr(0, name.size() - 5));
  }
  std::sort(pods.begin(), pods.end());
  return pods;
}

StatusOr<std::vector<std::string>> PodIpsFromResult(const std::string& result_json, const std::string& ifname) {
  json result = json::parse(result_json, nullptr, false);
  if (result.is_discarded() || !result.is_object()) {
    return absl::InvalidArgumentError("CNI result is not a JSON object");
  }
  // Plugins are not trusted to write well-formed results: a field of another type
  // reads as a missing one.
  std::vector<std::string> candidates;
  if (const json* ips = JsonMember(result, "ips"); ips && ips->is_array()) {
    // 0.3.0 and later: each address may name its interface by index.
    const json* interfaces = JsonMember(result, "interfaces");
    for (const auto& ip : *ips) {
      std::string address = JsonString(ip, "address");
      if (address.empty()) continue;
      if (const json* index = JsonMember(ip, "interface"); index && index->is_number_integer()) {
        auto at = JsonInteger<size_t>(ip, "interface");
        if (!at || !interfaces || !interfaces->is_array() || *at >= interfaces->size()) continue;
        const json& iface = (*interfaces)[*at];
        if (JsonString(iface, "name") != ifname || JsonString(iface, "sandbox").empty()) continue;
      }
      candidates.push_back(std::move(address));
    }
  } else {
    // 0.1.0 and 0.2.0 name one address per family.
    for (const char* family : {"ip4", "ip6"}) {
      if (const json* entry = JsonMember(result, family)) candidates.push_back(JsonString(*entry, "ip"));
    }
  }
  std::vector<std::string> v4, v6;
  for (const auto& cidr : candidates) {
    std::string address = cidr.substr(0, cidr.find('/'));
    if (address.empty() || absl::StartsWith(address, "127.") || address == "::1") continue;
    (address.find(':') == std::string::npos ? v4 : v6).push_back(address);
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

Status RenderConfigTemplate(const std::string& template_path, const std::string& pod_cidr,
                            const std::string& out_path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(template_path));
  std::string first_cidr(pod_cidr.substr(0, pod_cidr.find(',')));
  std::string rendered = absl::StrReplaceAll(text, {{"{{.PodCIDR}}", first_cidr}});
  json check = json::parse(rendered, nullptr, false);
  if (check.is_discarded()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CNI config template ", template_path, " does not render to JSON"));
  }
  RETURN_IF_ERROR(MakeDirs(std::filesystem::path(out_path).parent_path().string(), 0755));
  return WriteFileAtomically(out_path, rendered, 0644);
}

}  // namespace berth::network
