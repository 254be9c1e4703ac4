#include "pods/record_store.h"

namespace berth::pods {
namespace {

template <typename Map>
StatusOr<std::string> ResolveId(Map& map, const std::string& prefix, const char* kind) {
  if (prefix.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", kind, " id given"));
  if (map.count(prefix)) return prefix;
  std::string found;
  for (auto it = map.lower_bound(prefix); it != map.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (!found.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(kind, " id prefix \"", prefix, "\" is ambiguous"));
    }
    found = it->first;
  }
  if (found.empty()) return absl::NotFoundError(absl::StrCat(kind, " \"", prefix, "\" not found"));
  return found;
}

}  // namespace

std::string ContainerReservationKey(const PodSpec& pod, const ContainerSpec& container) {
  return absl::StrCat(container.name, "_", pod.name, "_", pod.namespace_name, "_", pod.uid, "_", container.attempt);
}

Status RecordStore::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Read([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto pods, sql.Prepare("SELECT record FROM pods"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, pods.Step());
      if (!row) break;
      auto doc = nlohmann::json::parse(pods.ColumnText(0), nullptr, false);
      if (doc.is_discarded()) return absl::DataLossError("unreadable pod record in the state database");
      SandboxRecord record = doc.get<SandboxRecord>();
      sandboxes_[record.id] = std::move(record);
    }
    ASSIGN_OR_RETURN(auto containers, sql.Prepare("SELECT record FROM containers"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, containers.Step());
      if (!row) break;
      auto doc = nlohmann::json::parse(containers.ColumnText(0), nullptr, false);
      if (doc.is_discarded()) return absl::DataLossError("unreadable container record in the state database");
      ContainerRecord record = doc.get<ContainerRecord>();
      containers_[record.id] = std::move(record);
    }
    return absl::OkStatus();
  });
}

Status RecordStore::AddSandbox(const SandboxRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = record.spec.ReservationKey();
  for (const auto& [id, other] : sandboxes_) {
    if (other.spec.ReservationKey() == key) {
      return absl::AlreadyExistsError(absl::StrCat("pod name \"", key, "\" is already reserved by pod ", id));
    }
  }
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("INSERT INTO pods(id, name, created_at, state, record) VALUES(?, ?, ?, ?, ?)"));
    q.Bind(1, record.id).Bind(2, key).Bind(3, record.created_at).Bind(4, static_cast<int64_t>(record.state))
        .BindBlob(5, nlohmann::json(record).dump());
    return q.Run();
  }));
  sandboxes_[record.id] = record;
  return absl::OkStatus();
}

Status RecordStore::UpdateSandbox(const SandboxRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  // A record removed meanwhile stays removed (an update must not bring it back).
  if (!sandboxes_.count(record.id)) return absl::NotFoundError(absl::StrCat("pod sandbox ", record.id, " is gone"));
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("UPDATE pods SET state = ?, record = ? WHERE id = ?"));
    q.Bind(1, static_cast<int64_t>(record.state)).BindBlob(2, nlohmann::json(record).dump()).Bind(3, record.id);
    return q.Run();
  }));
  sandboxes_[record.id] = record;
  return absl::OkStatus();
}

Status RecordStore::RemoveSandbox(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("DELETE FROM pods WHERE id = ?"));
    q.Bind(1, id);
    return q.Run();
  }));
  sandboxes_.erase(id);
  return absl::OkStatus();
}

std::optional<SandboxRecord> RecordStore::GetSandbox(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end()) return std::nullopt;
  return it->second;
}

std::vector<SandboxRecord> RecordStore::Sandboxes() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SandboxRecord> out;
  for (const auto& [id, record] : sandboxes_) out.push_back(record);
  return out;
}

Status RecordStore::AddContainer(const ContainerRecord& record, const std::string& reservation_key) {
  std::lock_guard<std::mutex> lock(mu_);
  Status added = db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto holder, sql.Prepare("SELECT id FROM containers WHERE name = ?"));
    holder.Bind(1, reservation_key);
    ASSIGN_OR_RETURN(bool taken, holder.Step());
    if (taken) {
      return absl::AlreadyExistsError(absl::StrCat("container name \"", reservation_key,
                                                   "\" is already reserved by container ", holder.ColumnText(0)));
    }
    ASSIGN_OR_RETURN(auto q, sql.Prepare(
        "INSERT INTO containers(id, pod_id, name, created_at, state, record) VALUES(?, ?, ?, ?, ?, ?)"));
    q.Bind(1, record.id).Bind(2, record.pod_id).Bind(3, reservation_key).Bind(4, record.created_at)
        .Bind(5, static_cast<int64_t>(record.state)).BindBlob(6, nlohmann::json(record).dump());
    return q.Run();
  });
  RETURN_IF_ERROR(added);
  containers_[record.id] = record;
  return absl::OkStatus();
}

Status RecordStore::UpdateContainer(const ContainerRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!containers_.count(record.id)) return absl::NotFoundError(absl::StrCat("container ", record.id, " is gone"));
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("UPDATE containers SET state = ?, record = ? WHERE id = ?"));
    q.Bind(1, static_cast<int64_t>(record.state)).BindBlob(2, nlohmann::json(record).dump()).Bind(3, record.id);
    return q.Run();
  }));
  containers_[record.id] = record;
  return absl::OkStatus();
}

Status RecordStore::RemoveContainer(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(db_->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare("DELETE FROM containers WHERE id = ?"));
    q.Bind(1, id);
    return q.Run();
  }));
  containers_.erase(id);
  return absl::OkStatus();
}

std::optional<ContainerRecord> RecordStore::GetContainer(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return std::nullopt;
  return it->second;
}

std::vector<ContainerRecord> RecordStore::Containers() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ContainerRecord> out;
  for (const auto& [id, record] : containers_) out.push_back(record);
  return out;
}

StatusOr<std::string> RecordStore::ResolveSandboxId(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  return ResolveId(sandboxes_, prefix, "pod sandbox");
}

StatusOr<std::string> RecordStore::ResolveContainerId(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  return ResolveId(containers_, prefix, "container");
}

}  // namespace berth::pods
