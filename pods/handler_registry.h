// The runtime handlers berth offers, by the names RuntimeClasses use: "berth" (its
// own berth-runtime, installed beside berthd), "runc" and "crun" where their
// binaries are (paths from the config's runtimes section), and the operator's own
// names for these (runtimes.handlers).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "pods/config.h"
#include "pods/runtime_handler.h"
#include "pods/state_layout.h"

namespace berth::pods {

class HandlerRegistry {
 public:
  // berth_binary_dir holds berth-runtime and berth-shim.
  HandlerRegistry(const Config& config, const StateLayout& layout, const std::string& berth_binary_dir);
  // Exactly these handlers (tests).
  HandlerRegistry(std::vector<std::unique_ptr<RuntimeHandler>> handlers, std::string default_handler);

  // The handler of that name, or the default one for "". INVALID_ARGUMENT, listing
  // what the node has, for a name it does not offer.
  StatusOr<RuntimeHandler*> Get(const std::string& name);
  std::vector<std::string> Names() const;
  std::vector<RuntimeHandler*> All();
  // What a handler ("" for the default) supports; all false for an unknown name.
  RuntimeHandler::Features Features(const std::string& name);

 private:
  std::map<std::string, std::unique_ptr<RuntimeHandler>> handlers_;
  UniqueFd sealed_runtime_;  // the sealed copy of berth-runtime the "berth" handler runs
  std::string default_handler_;
};

}  // namespace berth::pods
