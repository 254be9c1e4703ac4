// The CDI devices a node offers: the spec files in its spec directories, read when a
// container asks for devices (so a vendor's new or changed file counts at once),
// and the asked-for devices' edits made to the container's OCI spec.
//
// As CDI's own implementation orders them: a later directory (/var/run/cdi, where
// drivers write at run time) overrides an earlier one (/etc/cdi) for a device of the
// same name; two files of one directory naming one device conflict, and asking for
// that device is an error. A file that cannot be read is skipped, and named in the
// error when the device asked for is missing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::cdi {

// The devices asked for by annotations (kubelet's device plugins did so before
// CRI had a field): every "cdi.k8s.io/<any>" key's value, a comma-separated list of
// fully qualified names, in key order.
std::vector<std::string> DevicesInAnnotations(const std::map<std::string, std::string>& annotations);

class Registry {
 public:
  explicit Registry(std::vector<std::string> spec_dirs) : spec_dirs_(std::move(spec_dirs)) {}

  // Gives spec the devices (fully qualified names, duplicates counted once): each
  // device's edits, then once each the edits of the specs they come from.
  // INVALID_ARGUMENT for a malformed name, NOT_FOUND for a device no spec describes,
  // FAILED_PRECONDITION for a conflict or an edit berth cannot make.
  Status InjectDevices(const std::vector<std::string>& devices, runtime::Spec* spec) const;

  const std::vector<std::string>& spec_dirs() const { return spec_dirs_; }

 private:
  std::vector<std::string> spec_dirs_;
};

}  // namespace berth::cdi
