#include "pods/idmapped_volumes.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "runtime/idmap.h"

namespace berth::pods {
namespace {

// An empty file or directory, as the source is, for the copy to be attached on.
Status MakeMountTarget(const std::string& source, const std::string& target) {
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return ErrnoError(absl::StrCat("stat volume ", source));
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(target.c_str(), 0700) != 0) return ErrnoError(absl::StrCat("mkdir ", target));
    return absl::OkStatus();
  }
  UniqueFd file(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!file) return ErrnoError(absl::StrCat("create ", target));
  return absl::OkStatus();
}

}  // namespace

StatusOr<std::vector<MountSpec>> AttachIdmappedVolumes(const std::vector<MountSpec>& mounts,
                                                       const std::string& staging_dir,
                                                       const std::string& userns_path) {
  std::vector<MountSpec> out = mounts;
  UniqueFd userns;
  for (size_t i = 0; i < out.size(); ++i) {
    MountSpec& m = out[i];
    if (m.uid_mappings.empty() && m.gid_mappings.empty()) continue;
    if (!userns) {
      RETURN_IF_ERROR(MakeDirs(staging_dir, 0700));
      userns.Reset(::open(userns_path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!userns) return ErrnoError(absl::StrCat("open the pod's user namespace ", userns_path));
    }
    std::string target = absl::StrCat(staging_dir, "/", i);
    RETURN_IF_ERROR(MakeMountTarget(m.host_path, target));
    Status attached = runtime::MountIdmapped(m.host_path, userns.get(), target, /*recursive=*/true);
    if (!attached.ok()) return Annotate(attached, absl::StrCat("volume ", m.container_path));
    m.host_path = target;
  }
  return out;
}

}  // namespace berth::pods
