#include "runtime/state.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth::runtime {

namespace {

struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};

StatusOr<ProcStat> ReadProcStat(pid_t pid) {
  ASSIGN_OR_RETURN(std::string stat, ReadFile(absl::StrCat("/proc/", pid, "/stat")));
  // "pid (comm) S ppid ..."; comm may hold spaces and parentheses, so split after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return absl::InternalError(absl::StrCat("bad /proc/", pid, "/stat"));
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  ProcStat result;
  if (fields.size() < 20 || fields[0].empty() || !absl::SimpleAtoi(fields[19], &result.start_time)) {
    return absl::InternalError(absl::StrCat("bad /proc/", pid, "/stat"));
  }
  result.state = fields[0][0];
  return result;
}

}  // namespace

absl::string_view ContainerStatusName(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "stopped";
}

Status ValidateId(absl::string_view id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 1024 ||
      id.find_first_of("/\n\0") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid container id \"", id, "\""));
  }
  return absl::OkStatus();
}

Status StateStore::Reserve(absl::string_view id) const {
  RETURN_IF_ERROR(ValidateId(id));
  RETURN_IF_ERROR(MakeDirs(root_, 0711));
  std::string dir = Dir(id);
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat("container with id exists: ", id));
    return ErrnoError(absl::StrCat("mkdir ", dir));
  }
  return absl::OkStatus();
}

Status StateStore::Save(const ContainerState& s) const {
  nlohmann::json j = {
      {"ociVersion", s.oci_version}, {"id", s.id},           {"pid", s.pid},
      {"startTime", s.start_time},   {"bundle", s.bundle},   {"rootfs", s.rootfs},
      {"created", s.created},        {"cgroupPath", s.cgroup_path},
      {"annotations", s.annotations}, {"poststartHooks", s.poststart_hooks},
      {"poststopHooks", s.poststop_hooks},
  };
  return WriteFileAtomically(Dir(s.id) + "/state.json", j.dump(), 0600, Durability::kCrash);
}

StatusOr<ContainerState> StateStore::Load(absl::string_view id) const {
  RETURN_IF_ERROR(ValidateId(id));
  auto text = ReadFile(Dir(id) + "/state.json");
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(absl::StrCat("container does not exist: ", id));
    }
    return text.status();
  }
  try {
    auto j = nlohmann::json::parse(*text);
    ContainerState s;
    s.oci_version = j.value("ociVersion", std::string());
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.start_time = j.at("startTime").get<uint64_t>();
    s.bundle = j.value("bundle", std::string());
    s.rootfs = j.value("rootfs", std::string());
    s.created = j.value("created", std::string());
    s.cgroup_path = j.value("cgroupPath", std::string());
    s.annotations = j.value("annotations", std::map<std::string, std::string>());
    s.poststart_hooks = j.value("poststartHooks", false);
    s.poststop_hooks = j.value("poststopHooks", false);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("state of container ", id, ": ", e.what()));
  }
}

Status StateStore::Remove(absl::string_view id) const {
  RETURN_IF_ERROR(ValidateId(id));
  return RemoveAll(Dir(id));
}

ContainerStatus StateStore::Probe(const ContainerState& state) const {
  if (!ProcessAlive(state.pid, state.start_time)) return ContainerStatus::kStopped;
  if (::access(ExecSocket(state.id).c_str(), F_OK) == 0) return ContainerStatus::kCreated;
  return ContainerStatus::kRunning;
}

StatusOr<uint64_t> ProcessStartTime(pid_t pid) {
  ASSIGN_OR_RETURN(ProcStat stat, ReadProcStat(pid));
  return stat.start_time;
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  auto stat = ReadProcStat(pid);
  return stat.ok() && stat->start_time == start_time && stat->state != 'Z' && stat->state != 'X';
}

std::string StateJson(const ContainerState& s, ContainerStatus status) {
  return HookStateJson(s, ContainerStatusName(status), status == ContainerStatus::kStopped ? 0 : s.pid);
}

std::string HookStateJson(const ContainerState& s, absl::string_view status, pid_t pid) {
  nlohmann::json j = {
      {"ociVersion", s.oci_version},
      {"id", s.id},
      {"pid", pid},
      {"status", std::string(status)},
      {"bundle", s.bundle},
      {"rootfs", s.rootfs},
      {"created", s.created},
      {"owner", ""},
  };
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j.dump(2);
}

}  // namespace berth::runtime
