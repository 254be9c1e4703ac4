#include "base/mount_points.h"

#include <sys/mount.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth {

std::string UnescapeMountPath(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const char* digits = field.c_str() + i + 1;
      bool octal = std::all_of(digits, digits + 3, [](char c) { return c >= '0' && c <= '7'; });
      if (octal) {
        out.push_back(static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

StatusOr<std::vector<std::string>> MountPointsUnder(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string mountinfo, ReadFile("/proc/self/mountinfo"));
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix += "/";
  std::vector<std::string> points;
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5) continue;
    std::string point = UnescapeMountPath(std::string(fields[4]));
    if (absl::StartsWith(point, prefix)) points.push_back(point);
  }
  std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

Status DetachMountsUnder(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> points, MountPointsUnder(dir));
  for (const std::string& point : points) {
    // One detach takes the mounts below along: EINVAL then means "already gone".
    if (::umount2(point.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      return ErrnoError(absl::StrCat("unmount ", point));
    }
  }
  return absl::OkStatus();
}

}  // namespace berth
