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
  // Each runtime's binary, if this node has it.
  std::map<std::string, std::string> binaries;
  for (const auto& [runtime, path] : std::map<std::string, std::string>{{"berth", berth_binary_dir + "/berth-runtime"},
                                                                        {"runc", config.runtimes.runc_path},
                                                                        {"crun", config.runtimes.crun_path}}) {
    if (::access(path.c_str(), X_OK) != 0) continue;
    std::string binary = path;
    if (runtime == "berth") {
      // berth-runtime must run from a sealed copy (see EnsureSealedBinary); making it
      // once here spares every create and exec a copy and a second exec. The shim
      // reaches it through berthd's fd table, while berthd waits for it.
      UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      auto sealed = file ? SealedCopy(file.get(), "berth-runtime") : ErrnoError("open " + path);
      if (sealed.ok()) {
        binary = absl::StrCat("/proc/", ::getpid(), "/fd/", sealed->get());
        sealed_runtime_ = *std::move(sealed);
      } else {
        BERTH_LOG(Warn) << "no sealed copy of berth-runtime; each call makes its own" << sealed.status();
      }
    }
    binaries[runtime] = binary;
  }
  // The built-in handlers are named after their runtimes; the operator's own names
  // (runtimes.handlers) run one of them, each with its own state.
  std::map<std::string, std::string> runtime_of = config.runtimes.handlers;
  for (const auto& [runtime, binary] : binaries) runtime_of[runtime] = runtime;
  for (const auto& [name, runtime] : runtime_of) {
    auto binary = binaries.find(runtime);
    if (binary == binaries.end()) {
      BERTH_LOG(Warn) << "runtime handler " << name << " not offered: this node has no " << runtime;
      continue;
    }
    handlers_[name] =
        std::make_unique<OciRuntime>(name, runtime, binary->second, layout.RuntimeStateDir(name), shim_binary);
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
