#include "cdi/registry.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cdi/edits.h"
#include "cdi/spec.h"

namespace berth::cdi {
namespace {

constexpr char kAnnotationPrefix[] = "cdi.k8s.io/";

// Spec files are bounded like any file berthd reads that others write.
constexpr size_t kMaxSpecBytes = 4 << 20;

struct LoadedSpec {
  std::string path;
  size_t dir_index = 0;
  Spec spec;
};

// A device as the winning spec describes it, or the files that both claim it.
struct Resolved {
  const LoadedSpec* from = nullptr;
  const Device* device = nullptr;
  std::vector<std::string> conflicting;  // paths, when two files of one directory name it
};

std::vector<std::string> SpecFiles(const std::string& dir) {
  std::vector<std::string> files;
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return files;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (absl::EndsWith(name, ".json") || absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml")) {
      files.push_back(absl::StrCat(dir, "/", name));
    }
  }
  ::closedir(listing);
  std::sort(files.begin(), files.end());
  return files;
}

// Opened once, without blocking (a FIFO named *.json must not hang a create), and
// read only while it is a regular file within the bound.
StatusOr<Spec> ReadSpecFile(const std::string& path) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!file) return ErrnoError(path);
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return ErrnoError(path);
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  std::string text;
  char chunk[16384];
  for (;;) {
    ssize_t n = ::read(file.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(path);
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
    if (text.size() > kMaxSpecBytes) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": larger than ", kMaxSpecBytes, " bytes"));
    }
  }
  return ParseSpec(text, path);
}

}  // namespace

std::vector<std::string> DevicesInAnnotations(const std::map<std::string, std::string>& annotations) {
  std::vector<std::string> devices;
  for (auto it = annotations.lower_bound(kAnnotationPrefix);
       it != annotations.end() && absl::StartsWith(it->first, kAnnotationPrefix); ++it) {
    for (absl::string_view device : absl::StrSplit(it->second, ',', absl::SkipWhitespace())) {
      devices.emplace_back(absl::StripAsciiWhitespace(device));
    }
  }
  return devices;
}

Status Registry::InjectDevices(const std::vector<std::string>& devices, runtime::Spec* spec) const {
  if (devices.empty()) return absl::OkStatus();
  std::vector<QualifiedName> wanted;
  std::set<std::string> seen;
  for (const std::string& device : devices) {
    ASSIGN_OR_RETURN(QualifiedName name, ParseQualifiedName(device));
    if (seen.insert(device).second) wanted.push_back(std::move(name));
  }

  std::vector<LoadedSpec> specs;
  std::vector<std::string> unreadable;
  for (size_t i = 0; i < spec_dirs_.size(); ++i) {
    for (const std::string& path : SpecFiles(spec_dirs_[i])) {
      StatusOr<Spec> parsed = ReadSpecFile(path);
      if (!parsed.ok()) {
        unreadable.push_back(std::string(parsed.status().message()));
        continue;
      }
      specs.push_back({path, i, std::move(*parsed)});
    }
  }
  std::map<std::string, Resolved> by_name;  // "kind=name"
  for (const LoadedSpec& loaded : specs) {
    for (const Device& device : loaded.spec.devices) {
      Resolved& resolved = by_name[absl::StrCat(loaded.spec.kind, "=", device.name)];
      if (resolved.from != nullptr && resolved.from->dir_index == loaded.dir_index) {
        if (resolved.conflicting.empty()) resolved.conflicting.push_back(resolved.from->path);
        resolved.conflicting.push_back(loaded.path);
        continue;
      }
      // A later directory overrides an earlier one.
      resolved = {&loaded, &device, {}};
    }
  }

  std::vector<const LoadedSpec*> sources;
  for (const QualifiedName& name : wanted) {
    const std::string qualified = absl::StrCat(name.kind, "=", name.name);
    auto it = by_name.find(qualified);
    if (it == by_name.end()) {
      std::string message = absl::StrCat("CDI device ", qualified, " is described by no spec in ",
                                         absl::StrJoin(spec_dirs_, ", "));
      if (!unreadable.empty()) absl::StrAppend(&message, " (unreadable: ", absl::StrJoin(unreadable, "; "), ")");
      return absl::NotFoundError(message);
    }
    if (!it->second.conflicting.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("CDI device ", qualified,
                                                        " is described by more than one spec: ",
                                                        absl::StrJoin(it->second.conflicting, ", ")));
    }
    RETURN_IF_ERROR(Annotate(ApplyEdits(it->second.device->edits, spec), absl::StrCat("CDI device ", qualified)));
    if (std::find(sources.begin(), sources.end(), it->second.from) == sources.end()) {
      sources.push_back(it->second.from);
    }
  }
  for (const LoadedSpec* source : sources) {
    RETURN_IF_ERROR(Annotate(ApplyEdits(source->spec.edits, spec), absl::StrCat("CDI spec ", source->path)));
  }
  return absl::OkStatus();
}

}  // namespace berth::cdi
