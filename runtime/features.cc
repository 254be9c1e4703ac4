#include "runtime/features.h"

#include <seccomp.h>
#include <sys/capability.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "runtime/hooks.h"
#include "runtime/mounts.h"
#include "runtime/namespaces.h"
#include "runtime/scheduling.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

namespace berth::runtime {
namespace {

std::vector<std::string> KnownCapabilities() {
  std::vector<std::string> caps;
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    char* name = ::cap_to_name(static_cast<cap_value_t>(cap));
    if (name == nullptr) continue;
    caps.push_back(absl::AsciiStrToUpper(name));
    ::cap_free(name);
  }
  return caps;
}

// The architectures this libseccomp can filter for, of those OCI names.
std::vector<std::string> SeccompArchitectures() {
  std::vector<std::string> archs;
  for (const char* name : {"x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32", "mipsel",
                           "mipsel64", "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390", "s390x", "riscv64"}) {
    if (::seccomp_arch_resolve_name(name) != 0) archs.push_back("SCMP_ARCH_" + absl::AsciiStrToUpper(name));
  }
  return archs;
}

}  // namespace

std::string FeaturesJson() {
  nlohmann::json features = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", kOciVersion},
      {"hooks", HookKinds()},
      {"mountOptions", SupportedMountOptions()},
      {"linux",
       {{"namespaces", SupportedNamespaceTypes()},
        {"capabilities", KnownCapabilities()},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions", SupportedSeccompActions()},
          {"operators", SupportedSeccompOperators()},
          {"archs", SeccompArchitectures()},
          {"knownFlags", SupportedSeccompFlags()},
          {"supportedFlags", SupportedSeccompFlags()}}},
        {"apparmor", {{"enabled", true}}},
        {"memoryPolicy", {{"modes", MemoryPolicyModes()}, {"flags", MemoryPolicyFlags()}}},
        {"netDevices", {{"enabled", true}}},
        {"selinux", {{"enabled", false}}},
        // Mounts with uidMappings are not made here: berthd attaches idmapped
        // copies itself, for runc too (idmapped_volumes.h in pods/).
        {"mountExtensions", {{"idmap", {{"enabled", false}}}}}}},
      // process.ioPriority and process.scheduler are runtime-spec 1.2 fields, honoured
      // here though the spec this runtime writes is older; the features document has
      // no field for them, so they are said as the spec allows for such things.
      {"annotations",
       {{"io.berth.runtime.process.ioPriority", "true"}, {"io.berth.runtime.process.scheduler", "true"}}},
  };
  return features.dump(2);
}

}  // namespace berth::runtime
