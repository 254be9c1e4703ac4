// The runtime handlers berth offers, by the names RuntimeClasses use: "berth" (its
// own berth-runtime, installed beside berthd), "runc" and "crun" where their
// binaries are (paths from the config's runtimes section).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "pods/config.h"
#include "pods/oci_runtime.h"
#include "pods/state_layout.h"

namespace berth::pods {

class HandlerRegistry {
 public:
  // berth_binary_dir holds berth-runtime and berth-shim.
  HandlerRegistry(const Config& config, const StateLayout& layout, const std::string& berth_binary_dir);

  // The handler of that name, or the default one for "". INVALID_ARGUMENT, listing
  // what the node has, for a name it does not offer.
  StatusOr<OciRuntime*> Get(const std::string& name);
  std::vector<std::string> Names() const;
  std::vector<OciRuntime*> All();
  // What a handler ("" for the default) supports; all false for an unknown name.
  OciRuntime::Features Features(const std::string& name);
  const std::string& shim_binary() const { return shim_binary_; }

 private:
  std::map<std::string, std::unique_ptr<OciRuntime>> handlers_;
  UniqueFd sealed_runtime_;  // the sealed copy of berth-runtime the "berth" handler runs
  std::string default_handler_;
  std::string shim_binary_;
};

}  // namespace berth::pods
