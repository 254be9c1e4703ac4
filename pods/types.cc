#include "pods/types.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::pods {
namespace {

void PutOptional(nlohmann::json& j, const char* key, const std::optional<int64_t>& v) {
  if (v) j[key] = *v;
}
void GetOptional(const nlohmann::json& j, const char* key, std::optional<int64_t>& v) {
  auto it = j.find(key);
  if (it != j.end() && it->is_number_integer()) v = it->get<int64_t>();
}
template <typename T>
void Get(const nlohmann::json& j, const char* key, T& v) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) v = it->get<T>();
}

}  // namespace

std::string PodSpec::ReservationKey() const {
  return absl::StrCat(name, "_", namespace_name, "_", uid, "_", attempt);
}

void to_json(nlohmann::json& j, const PodSpec& s) {
  j = {{"name", s.name}, {"uid", s.uid}, {"namespace", s.namespace_name}, {"attempt", s.attempt},
       {"hostname", s.hostname}, {"log_directory", s.log_directory}, {"cgroup_parent", s.cgroup_parent},
       {"runtime_handler", s.runtime_handler}, {"labels", s.labels}, {"annotations", s.annotations},
       {"sysctls", s.sysctls}, {"ports", s.ports}, {"network", s.network}, {"pid", s.pid}, {"ipc", s.ipc},
       {"privileged", s.privileged}, {"supplemental_groups", s.supplemental_groups},
       {"strict_supplemental_groups", s.strict_supplemental_groups},
       {"readonly_rootfs", s.readonly_rootfs}};
  if (s.dns) j["dns"] = *s.dns;
  PutOptional(j, "run_as_user", s.run_as_user);
  PutOptional(j, "run_as_group", s.run_as_group);
}

void from_json(const nlohmann::json& j, PodSpec& s) {
  Get(j, "name", s.name);
  Get(j, "uid", s.uid);
  Get(j, "namespace", s.namespace_name);
  Get(j, "attempt", s.attempt);
  Get(j, "hostname", s.hostname);
  Get(j, "log_directory", s.log_directory);
  Get(j, "cgroup_parent", s.cgroup_parent);
  Get(j, "runtime_handler", s.runtime_handler);
  Get(j, "labels", s.labels);
  Get(j, "annotations", s.annotations);
  Get(j, "sysctls", s.sysctls);
  Get(j, "ports", s.ports);
  Get(j, "network", s.network);
  Get(j, "pid", s.pid);
  Get(j, "ipc", s.ipc);
  Get(j, "privileged", s.privileged);
  Get(j, "supplemental_groups", s.supplemental_groups);
  Get(j, "strict_supplemental_groups", s.strict_supplemental_groups);
  Get(j, "readonly_rootfs", s.readonly_rootfs);
  if (j.contains("dns")) s.dns = j.at("dns").get<DnsSpec>();
  GetOptional(j, "run_as_user", s.run_as_user);
  GetOptional(j, "run_as_group", s.run_as_group);
}

void to_json(nlohmann::json& j, const SecuritySpec& s) {
  j = {{"privileged", s.privileged}, {"add_capabilities", s.add_capabilities},
       {"drop_capabilities", s.drop_capabilities}, {"run_as_username", s.run_as_username},
       {"supplemental_groups", s.supplemental_groups},
       {"strict_supplemental_groups", s.strict_supplemental_groups}, {"readonly_rootfs", s.readonly_rootfs},
       {"no_new_privs", s.no_new_privs}, {"masked_paths", s.masked_paths}, {"readonly_paths", s.readonly_paths},
       {"seccomp", s.seccomp}, {"apparmor", s.apparmor}, {"pid", s.pid}, {"target_container_id", s.target_container_id}};
  PutOptional(j, "run_as_user", s.run_as_user);
  PutOptional(j, "run_as_group", s.run_as_group);
}

void from_json(const nlohmann::json& j, SecuritySpec& s) {
  Get(j, "privileged", s.privileged);
  Get(j, "add_capabilities", s.add_capabilities);
  Get(j, "drop_capabilities", s.drop_capabilities);
  Get(j, "run_as_username", s.run_as_username);
  Get(j, "supplemental_groups", s.supplemental_groups);
  Get(j, "strict_supplemental_groups", s.strict_supplemental_groups);
  Get(j, "readonly_rootfs", s.readonly_rootfs);
  Get(j, "no_new_privs", s.no_new_privs);
  Get(j, "masked_paths", s.masked_paths);
  Get(j, "readonly_paths", s.readonly_paths);
  Get(j, "seccomp", s.seccomp);
  Get(j, "apparmor", s.apparmor);
  Get(j, "pid", s.pid);
  Get(j, "target_container_id", s.target_container_id);
  GetOptional(j, "run_as_user", s.run_as_user);
  GetOptional(j, "run_as_group", s.run_as_group);
}

void to_json(nlohmann::json& j, const ContainerSpec& s) {
  j = {{"name", s.name}, {"attempt", s.attempt}, {"image", s.image}, {"command", s.command}, {"args", s.args},
       {"working_dir", s.working_dir}, {"env", s.env}, {"mounts", s.mounts}, {"devices", s.devices},
       {"labels", s.labels}, {"annotations", s.annotations}, {"log_path", s.log_path}, {"stdin", s.stdin},
       {"stdin_once", s.stdin_once}, {"tty", s.tty}, {"resources", s.resources}, {"security", s.security},
       {"stop_signal", s.stop_signal}};
}

void from_json(const nlohmann::json& j, ContainerSpec& s) {
  Get(j, "name", s.name);
  Get(j, "attempt", s.attempt);
  Get(j, "image", s.image);
  Get(j, "command", s.command);
  Get(j, "args", s.args);
  Get(j, "working_dir", s.working_dir);
  Get(j, "env", s.env);
  Get(j, "mounts", s.mounts);
  Get(j, "devices", s.devices);
  Get(j, "labels", s.labels);
  Get(j, "annotations", s.annotations);
  Get(j, "log_path", s.log_path);
  Get(j, "stdin", s.stdin);
  Get(j, "stdin_once", s.stdin_once);
  Get(j, "tty", s.tty);
  Get(j, "resources", s.resources);
  Get(j, "security", s.security);
  Get(j, "stop_signal", s.stop_signal);
}

StatusOr<uint64_t> ParseQuantity(const std::string& text) {
  auto bad = [&] { return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a resource quantity")); };
  size_t end = 0;
  while (end < text.size() && (absl::ascii_isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  if (end == 0) return bad();
  double number = 0;
  if (!absl::SimpleAtod(text.substr(0, end), &number)) return bad();
  std::string suffix = text.substr(end);
  static const std::pair<const char*, double> kSuffixes[] = {
      {"", 1},      {"m", 1e-3},  {"k", 1e3},   {"M", 1e6},          {"G", 1e9},          {"T", 1e12},
      {"P", 1e15},  {"E", 1e18},  {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  double multiplier = 0;
  for (const auto& [name, value] : kSuffixes) {
    if (suffix == name) multiplier = value;
  }
  if (multiplier == 0 && suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int exponent = 0;
    if (!absl::SimpleAtoi(suffix.substr(1), &exponent) || exponent < 0 || exponent > 18) return bad();
    multiplier = std::pow(10.0, exponent);
  }
  if (multiplier == 0) return bad();
  double value = std::ceil(number * multiplier);
  if (!(value >= 0) || value > 1.8e19) return bad();
  return static_cast<uint64_t>(value);
}

}  // namespace berth::pods
