// What ListPodSandbox and ListContainers (and their stats) filter by.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "pods/records.h"

namespace berth::pods {

struct SandboxFilter {
  std::string id_prefix;
  std::optional<SandboxState> state;
  std::map<std::string, std::string> labels;
};

struct ContainerFilter {
  std::string id_prefix;
  std::string pod_id_prefix;
  std::optional<ContainerState> state;
  std::map<std::string, std::string> labels;
};

// True when have holds every key of want with the same value.
bool LabelsMatch(const std::map<std::string, std::string>& have, const std::map<std::string, std::string>& want);

bool Matches(const SandboxFilter& filter, const SandboxRecord& pod);
// Everything but the state, which a container's record may not know yet (an exit
// is read from its shim first).
bool MatchesIgnoringState(const ContainerFilter& filter, const ContainerRecord& container);

}  // namespace berth::pods
