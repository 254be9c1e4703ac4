// Block I/O classes: names an NRI plugin gives a container (LinuxResources'
// blockio_class), each standing for block I/O limits the node's operator set in
// blockio_config_file, in the format containerd and CRI-O read (goresctrl's):
//
//   Classes:
//     slowreader:
//       - Devices: [/dev/vd*, /dev/sda]     # globs; no Devices: Weight is the default
//         ThrottleReadBps: 10M              # quantities, as Kubernetes writes them
//         ThrottleWriteBps: 5M
//         ThrottleReadIOPS: 1000
//         ThrottleWriteIOPS: 500
//         Weight: 80                        # 10 to 1000
//
// The file is read when a class is asked for (an edit counts at once); devices are
// matched then too, and a pattern that matches nothing is skipped (a node may lack
// a disk the file names).
#pragma once

#include <string>

#include "base/status.h"
#include "cgroups/resources.h"

namespace berth::pods {

class BlockIoClasses {
 public:
  // config_file empty: no classes are configured.
  explicit BlockIoClasses(std::string config_file) : config_file_(std::move(config_file)) {}

  // Adds the class's limits to resources (replacing those of the same device).
  // FAILED_PRECONDITION when no file is configured or it has no such class;
  // INVALID_ARGUMENT when the file is malformed, naming what.
  Status Apply(const std::string& class_name, cgroups::Resources* resources) const;

  // The same, from the file's text (for tests).
  static Status ApplyFrom(absl::string_view yaml, absl::string_view source, const std::string& class_name,
                          cgroups::Resources* resources);

 private:
  std::string config_file_;
};

}  // namespace berth::pods
