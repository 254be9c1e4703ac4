#include "pods/blockio_classes.h"

#include <glob.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "pods/types.h"

namespace berth::pods {
namespace {

// A block device's numbers.
struct DeviceNumbers {
  int64_t major = 0;
  int64_t minor = 0;
};

// Every block device a pattern matches; a path that is something else is an error.
StatusOr<std::vector<DeviceNumbers>> MatchDevices(const std::string& pattern) {
  std::vector<DeviceNumbers> found;
  glob_t matches = {};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      struct stat st;
      if (::stat(matches.gl_pathv[i], &st) != 0) continue;
      if (!S_ISBLK(st.st_mode)) {
        std::string path = matches.gl_pathv[i];
        ::globfree(&matches);
        return absl::InvalidArgumentError(absl::StrCat("block I/O device ", path, " is not a block device"));
      }
      found.push_back({static_cast<int64_t>(major(st.st_rdev)), static_cast<int64_t>(minor(st.st_rdev))});
    }
  }
  ::globfree(&matches);
  return found;
}

StatusOr<uint64_t> Quantity(const YAML::Node& group, const char* key, const std::string& where) {
  const YAML::Node node = group[key];
  if (!node.IsScalar()) return absl::InvalidArgumentError(absl::StrCat(where, ".", key, " is not a quantity"));
  auto value = ParseQuantity(node.Scalar());
  if (!value.ok()) return Annotate(value.status(), absl::StrCat(where, ".", key));
  return value;
}

void SetThrottle(std::vector<cgroups::BlockIoThrottleDevice>& list, const DeviceNumbers& device, uint64_t rate) {
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const auto& d) { return d.major == device.major && d.minor == device.minor; }),
             list.end());
  list.push_back({device.major, device.minor, rate});
}

Status ApplyGroup(const YAML::Node& group, const std::string& where, cgroups::Resources* resources) {
  if (!group.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, " is not a mapping"));
  static const char* kKeys[] = {"Devices", "ThrottleReadBps", "ThrottleWriteBps", "ThrottleReadIOPS",
                                "ThrottleWriteIOPS", "Weight"};
  for (const auto& entry : group) {
    const std::string key = entry.first.Scalar();
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key ", key));
    }
  }
  std::optional<uint16_t> weight;
  if (group["Weight"]) {
    ASSIGN_OR_RETURN(uint64_t w, Quantity(group, "Weight", where));
    if (w < 10 || w > 1000) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".Weight ", w, " is outside 10 to 1000"));
    }
    weight = static_cast<uint16_t>(w);
  }
  const YAML::Node patterns = group["Devices"];
  if (!patterns) {
    if (weight) resources->blkio_weight = weight;
    for (const char* key : {"ThrottleReadBps", "ThrottleWriteBps", "ThrottleReadIOPS", "ThrottleWriteIOPS"}) {
      if (group[key]) return absl::InvalidArgumentError(absl::StrCat(where, ".", key, " needs Devices"));
    }
    return absl::OkStatus();
  }
  if (!patterns.IsSequence()) return absl::InvalidArgumentError(absl::StrCat(where, ".Devices is not a list"));
  std::vector<DeviceNumbers> devices;
  for (const auto& pattern : patterns) {
    if (!pattern.IsScalar()) return absl::InvalidArgumentError(absl::StrCat(where, ".Devices holds a non-path"));
    ASSIGN_OR_RETURN(std::vector<DeviceNumbers> matched, MatchDevices(pattern.Scalar()));
    devices.insert(devices.end(), matched.begin(), matched.end());
  }
  for (auto [key, list] : {std::pair{"ThrottleReadBps", &resources->throttle_read_bps},
                           std::pair{"ThrottleWriteBps", &resources->throttle_write_bps},
                           std::pair{"ThrottleReadIOPS", &resources->throttle_read_iops},
                           std::pair{"ThrottleWriteIOPS", &resources->throttle_write_iops}}) {
    if (!group[key]) continue;
    ASSIGN_OR_RETURN(uint64_t rate, Quantity(group, key, where));
    for (const DeviceNumbers& device : devices) SetThrottle(*list, device, rate);
  }
  if (weight) {
    for (const DeviceNumbers& device : devices) {
      auto& list = resources->blkio_weight_devices;
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const auto& d) { return d.major == device.major && d.minor == device.minor; }),
                 list.end());
      list.push_back({device.major, device.minor, weight});
    }
  }
  return absl::OkStatus();
}

}  // namespace

Status BlockIoClasses::ApplyFrom(absl::string_view yaml, absl::string_view source, const std::string& class_name,
                                 cgroups::Resources* resources) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    const YAML::Node classes = root.IsMap() ? root["Classes"] : YAML::Node();
    if (!classes || !classes.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": no Classes mapping"));
    }
    const YAML::Node groups = classes[class_name];
    if (!groups) {
      return absl::FailedPreconditionError(absl::StrCat("block I/O class \"", class_name, "\" is not in ", source));
    }
    if (!groups.IsSequence()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": class ", class_name, " is not a list"));
    }
    cgroups::Resources adjusted = *resources;
    for (size_t i = 0; i < groups.size(); ++i) {
      RETURN_IF_ERROR(ApplyGroup(groups[i], absl::StrCat(source, ": ", class_name, "[", i, "]"), &adjusted));
    }
    *resources = std::move(adjusted);
    return absl::OkStatus();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid YAML: ", e.what()));
  }
}

Status BlockIoClasses::Apply(const std::string& class_name, cgroups::Resources* resources) const {
  if (config_file_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("block I/O class \"", class_name, "\" asked for, but no blockio_config_file is configured"));
  }
  ASSIGN_OR_RETURN(std::string yaml, ReadFile(config_file_));
  return ApplyFrom(yaml, config_file_, class_name, resources);
}

}  // namespace berth::pods
