#include "pods/container_user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/unique_fd.h"

namespace berth::pods {
namespace {

int OpenInRoot(const std::string& root, const std::string& path) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return -1;
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, dir.get(), path.c_str(), &how, sizeof how));
}

// A colon-separated database (/etc/passwd, /etc/group) of the image, read within the
// rootfs so that a symlinked /etc cannot point berthd at host files.
std::vector<std::vector<std::string>> ReadDb(const std::string& rootfs, const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  UniqueFd fd(OpenInRoot(rootfs, path));
  if (!fd) return rows;
  std::string data;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && data.size() < (4 << 20)) data.append(buf, n);
  for (absl::string_view line : absl::StrSplit(data, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    rows.push_back(absl::StrSplit(line, ':'));
  }
  return rows;
}

}  // namespace

StatusOr<ContainerUser> ResolveContainerUser(const std::string& rootfs, const std::string& image_user_and_group,
                                             const SecuritySpec& sec, const PodSpec& pod) {
  auto passwd = ReadDb(rootfs, "/etc/passwd");
  ContainerUser user;
  bool have_gid = false;
  auto by_uid = [&](int64_t uid) {
    for (const auto& row : passwd) {
      int64_t id;
      if (row.size() >= 4 && absl::SimpleAtoi(row[2], &id) && id == uid) return &row;
    }
    return static_cast<const std::vector<std::string>*>(nullptr);
  };
  auto by_name = [&](const std::string& name) {
    for (const auto& row : passwd) {
      if (row.size() >= 4 && row[0] == name) return &row;
    }
    return static_cast<const std::vector<std::string>*>(nullptr);
  };
  std::string image_user = image_user_and_group;
  std::string image_group;
  if (size_t colon = image_user.find(':'); colon != std::string::npos) {
    image_group = image_user.substr(colon + 1);
    image_user = image_user.substr(0, colon);
  }
  if (sec.run_as_user) {
    user.uid = *sec.run_as_user;
  } else {
    std::string name = !sec.run_as_username.empty() ? sec.run_as_username : image_user;
    int64_t numeric;
    if (name.empty()) {
      user.uid = 0;
    } else if (absl::SimpleAtoi(name, &numeric)) {
      user.uid = numeric;
    } else {
      const auto* row = by_name(name);
      if (row == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("user \"", name, "\" is not in the image's /etc/passwd"));
      }
      (void)absl::SimpleAtoi((*row)[2], &user.uid);
      (void)absl::SimpleAtoi((*row)[3], &user.gid);
      have_gid = true;
    }
  }
  if (const auto* row = by_uid(user.uid)) {
    user.name = (*row)[0];
    if (!have_gid) have_gid = absl::SimpleAtoi((*row)[3], &user.gid);
  }
  if (sec.run_as_group) {
    user.gid = *sec.run_as_group;
  } else if (!image_group.empty() && !sec.run_as_user && sec.run_as_username.empty()) {
    int64_t numeric;
    if (absl::SimpleAtoi(image_group, &numeric)) {
      user.gid = numeric;
    } else {
      for (const auto& row : ReadDb(rootfs, "/etc/group")) {
        if (row.size() >= 3 && row[0] == image_group) (void)absl::SimpleAtoi(row[2], &user.gid);
      }
    }
  }
  // The primary group first (as containerd lists it), then the groups the image's
  // /etc/group puts the user in (unless the pod or container is Strict about it),
  // then the pod's and container's.
  user.additional_gids.push_back(user.gid);
  const bool strict = sec.strict_supplemental_groups || pod.strict_supplemental_groups;
  if (!user.name.empty() && !strict) {
    for (const auto& row : ReadDb(rootfs, "/etc/group")) {
      if (row.size() < 4) continue;
      for (absl::string_view member : absl::StrSplit(row[3], ',', absl::SkipEmpty())) {
        int64_t gid;
        if (member == user.name && absl::SimpleAtoi(row[2], &gid)) user.additional_gids.push_back(gid);
      }
    }
  }
  for (int64_t gid : pod.supplemental_groups) user.additional_gids.push_back(gid);
  for (int64_t gid : sec.supplemental_groups) user.additional_gids.push_back(gid);
  std::sort(user.additional_gids.begin(), user.additional_gids.end());
  user.additional_gids.erase(std::unique(user.additional_gids.begin(), user.additional_gids.end()),
                             user.additional_gids.end());
  return user;
}

}  // namespace berth::pods
