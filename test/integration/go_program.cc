#include "test/integration/go_program.h"

#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/process.h"

namespace berth::testing {

std::string BuildGoProgram(const std::string& source_dir, const std::string& name, const std::string& purpose,
                           std::string* why_not, bool* no_go) {
  struct Built {
    std::string binary, why;
    bool no_go = false;
  };
  static std::mutex mu;
  static std::map<std::string, Built> built_by_name;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, fresh] = built_by_name.try_emplace(name);
  Built& built = it->second;
  if (fresh) {
    std::string go;
    for (const char* candidate : {"/usr/local/go/bin/go", "/usr/lib/go/bin/go", "/usr/bin/go"}) {
      if (::access(candidate, X_OK) == 0) {
        go = candidate;
        break;
      }
    }
    if (go.empty()) {
      built.no_go = true;
      built.why = "no Go toolchain (looked in /usr/local/go/bin, /usr/lib/go/bin, /usr/bin) to build " + purpose;
    } else {
      const std::string out = std::string(BERTH_BINARY_DIR) + "/" + name;
      RunOptions options;
      options.timeout = std::chrono::minutes(10);
      options.extra_env = {"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "CGO_ENABLED=0"};
      auto result = RunProcess({"/bin/sh", "-c",
                                absl::StrCat("cd '", BERTH_SOURCE_DIR, "/", source_dir, "' && '", go, "' build -o '",
                                             out, "' .")},
                               options);
      if (!result.ok() || result->exit_code != 0) {
        built.why = absl::StrCat("building ", source_dir, " failed: ",
                                 result.ok() ? result->err : result.status().ToString());
      } else {
        built.binary = out;
      }
    }
  }
  *why_not = built.why;
  if (no_go) *no_go = built.no_go;
  return built.binary;
}

}  // namespace berth::testing
