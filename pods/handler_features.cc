// RuntimeHandler::Features from an OCI features document.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/json_field.h"
#include "pods/runtime_handler.h"

namespace berth::pods {
namespace {

bool Lists(const nlohmann::json& object, const char* key, absl::string_view value) {
  std::vector<std::string> list = JsonStrings(object, key).value_or(std::vector<std::string>());
  return std::find(list.begin(), list.end(), value) != list.end();
}

// "1.2.0", "1.2.0-rc.1", "1.0.2-dev": at least 1.2?
bool AtLeastSpec12(absl::string_view version) {
  std::vector<absl::string_view> parts = absl::StrSplit(version.substr(0, version.find('-')), '.');
  int major = 0, minor = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &major) || !absl::SimpleAtoi(parts[1], &minor)) return false;
  return major > 1 || (major == 1 && minor >= 2);
}

}  // namespace

bool RuntimeHandler::Features::RunsHook(absl::string_view kind) const {
  return std::find(hooks.begin(), hooks.end(), kind) != hooks.end();
}

RuntimeHandler::Features RuntimeHandler::ParseFeatures(absl::string_view text) {
  Features features;
  auto document = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object()) return features;
  features.recursive_read_only = Lists(document, "mountOptions", "rro");
  features.hooks = JsonStrings(document, "hooks").value_or(std::vector<std::string>());
  bool spec12 = AtLeastSpec12(JsonString(document, "ociVersionMax"));
  const nlohmann::json* annotations = JsonMember(document, "annotations");
  auto says = [&](const char* key) { return annotations != nullptr && JsonString(*annotations, key) == "true"; };
  features.io_priority = spec12 || says("io.berth.runtime.process.ioPriority");
  features.scheduler = spec12 || says("io.berth.runtime.process.scheduler");
  const nlohmann::json* linux = JsonMember(document, "linux");
  if (linux == nullptr) return features;
  features.user_namespace = Lists(*linux, "namespaces", "user");
  const nlohmann::json* memory_policy = JsonMember(*linux, "memoryPolicy");
  features.memory_policy = memory_policy != nullptr && memory_policy->is_object();
  const nlohmann::json* seccomp = JsonMember(*linux, "seccomp");
  features.seccomp_notify = seccomp != nullptr && seccomp->is_object() && Lists(*seccomp, "actions", "SCMP_ACT_NOTIFY");
  const nlohmann::json* net_devices = JsonMember(*linux, "netDevices");
  const nlohmann::json* enabled = net_devices != nullptr ? JsonMember(*net_devices, "enabled") : nullptr;
  features.net_devices = enabled != nullptr && enabled->is_boolean() && enabled->get<bool>();
  return features;
}

}  // namespace berth::pods
