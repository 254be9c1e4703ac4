#include "pods/handler_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file_util.h"
#include "base/log.h"
#include "pods/oci_runtime.h"

namespace berth::pods {

HandlerRegistry::HandlerRegistry(const Config& config, const StateLayout& layout, const std::string& berth_binary_dir)
    : default_handler_(config.default_runtime_handler) {
  const std::string shim_binary = berth_binary_dir + "/berth-shim";
  struct Candidate {
    const char* name;
    std::string binary;
  };
  for (const Candidate& c : {Candidate{"berth", berth_binary_dir + "/berth-runtime"},
                             Candidate{"runc", config.runtimes.runc_path},
                             Candidate{"crun", config.runtimes.crun_path}}) {
    if (::access(c.binary.c_str(), X_OK) != 0) continue;
    std::string binary = c.binary;
    if (std::string(c.name) == "berth") {
      // berth-runtime must run from a sealed copy (see EnsureSealedBinary); making it
      // once here spares every create and exec a copy and a second exec. The shim
      // reaches it through berthd's fd table, while berthd waits for it.
      UniqueFd file(::open(c.binary.c_str(), O_RDONLY | O_CLOEXEC));
      auto sealed = file ? SealedCopy(file.get(), "berth-runtime") : ErrnoError("open " + c.binary);
      if (sealed.ok()) {
        binary = absl::StrCat("/proc/", ::getpid(), "/fd/", sealed->get());
        sealed_runtime_ = *std::move(sealed);
      } else {
        BERTH_LOG(Warn) << "no sealed copy of berth-runtime; each call makes its own" << sealed.status();
      }
    }
    handlers_[c.name] = std::make_unique<OciRuntime>(c.name, binary, layout.RuntimeStateDir(c.name), shim_binary);
  }
}

HandlerRegistry::HandlerRegistry(std::vector<std::unique_ptr<RuntimeHandler>> handlers, std::string default_handler)
    : default_handler_(std::move(default_handler)) {
  for (auto& handler : handlers) {
    std::string name = handler->name();
    handlers_[name] = std::move(handler);
  }
}

StatusOr<RuntimeHandler*> HandlerRegistry::Get(const std::string& name) {
  const std::string& wanted = name.empty() ? default_handler_ : name;
  auto it = handlers_.find(wanted);
  if (it == handlers_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown runtime handler \"", wanted, "\" (this node has: ",
                                                   absl::StrJoin(Names(), ", "), ")"));
  }
  return it->second.get();
}

std::vector<std::string> HandlerRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, handler] : handlers_) names.push_back(name);
  return names;
}

std::vector<RuntimeHandler*> HandlerRegistry::All() {
  std::vector<RuntimeHandler*> all;
  for (auto& [name, handler] : handlers_) all.push_back(handler.get());
  return all;
}

RuntimeHandler::Features HandlerRegistry::Features(const std::string& name) {
  auto handler = Get(name);
  return handler.ok() ? (*handler)->features() : RuntimeHandler::Features();
}

}  // namespace berth::pods
