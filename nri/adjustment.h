// The adjustments plugins answer to CreateContainer, merged in plugin order. Each
// plugin sees the container as the plugins before it left it, and each thing a
// plugin sets (an annotation, a variable, a mount by destination, the memory
// limit, ...) is owned by it: a second plugin setting the same thing is refused,
// naming both, rather than one silently winning.
//
// A key, destination or path written "-name" removes name (and claims it).
#pragma once

#include <map>
#include <string>

#include "base/status.h"
#include "nri/api.h"

namespace berth::nri {

class AdjustmentMerger {
 public:
  // container: what the next plugin is sent; kept up to date as plugins adjust it.
  explicit AdjustmentMerger(api::Container* container) : container_(container) {}

  // FAILED_PRECONDITION when plugin sets what an earlier plugin set.
  Status Add(const std::string& plugin, const api::ContainerAdjustment& adjust);
  const api::ContainerAdjustment& merged() const { return merged_; }

 private:
  Status Claim(const std::string& what, const std::string& plugin);
  Status AddResources(const std::string& plugin, const api::LinuxResources& resources);

  api::Container* container_;
  api::ContainerAdjustment merged_;
  std::map<std::string, std::string> owners_;  // what -> the plugin that set it
};

// A key as adjustments write it: the name, and whether it is removed.
struct AdjustedKey {
  std::string name;
  bool removed = false;
};
AdjustedKey ParseAdjustedKey(const std::string& key);

}  // namespace berth::nri
