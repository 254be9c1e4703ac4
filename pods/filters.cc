#include "pods/filters.h"

#include "absl/strings/match.h"

namespace berth::pods {

bool LabelsMatch(const std::map<std::string, std::string>& have, const std::map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

bool Matches(const SandboxFilter& filter, const SandboxRecord& pod) {
  if (!filter.id_prefix.empty() && !absl::StartsWith(pod.id, filter.id_prefix)) return false;
  if (filter.state && pod.state != *filter.state) return false;
  return LabelsMatch(pod.spec.labels, filter.labels);
}

bool MatchesIgnoringState(const ContainerFilter& filter, const ContainerRecord& container) {
  if (!filter.id_prefix.empty() && !absl::StartsWith(container.id, filter.id_prefix)) return false;
  if (!filter.pod_id_prefix.empty() && !absl::StartsWith(container.pod_id, filter.pod_id_prefix)) return false;
  return LabelsMatch(container.spec.labels, filter.labels);
}

}  // namespace berth::pods
