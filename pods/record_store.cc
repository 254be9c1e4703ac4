#include "pods/record_store.h"

#include <stdexcept>

#include "pods/lifecycle_metrics.h"

#include "base/clock.h"

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

// Pods and containers are kept alike: a table of (id, state, record JSON, ...) in
// the database and a map by id in memory. table is one of berth's own table names.
template <typename Record>
Status LoadTable(SqliteDatabase& sql, const char* table, const char* kind, std::map<std::string, Record>& into) {
  ASSIGN_OR_RETURN(auto rows, sql.Prepare(absl::StrCat("SELECT record FROM ", table)));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) return absl::OkStatus();
    auto doc = nlohmann::json::parse(rows.ColumnText(0), nullptr, false);
    Record record;
    try {
      if (doc.is_discarded()) throw std::invalid_argument("not JSON");
      record = doc.template get<Record>();
    } catch (const std::exception& e) {
      // A record berthd cannot read (a field of another type, from a build that wrote
      // it otherwise) fails the start-up saying which, rather than ending berthd.
      return absl::DataLossError(absl::StrCat("unreadable ", kind, " record in the state database: ", e.what()));
    }
    into[record.id] = std::move(record);
  }
}

// A record removed meanwhile stays removed: an update must not bring it back.
template <typename Record>
Status UpdateRecord(StateDb* db, const char* table, const char* kind, const Record& record,
                    std::map<std::string, Record>& records) {
  if (!records.count(record.id)) return absl::NotFoundError(absl::StrCat(kind, " ", record.id, " is gone"));
  RETURN_IF_ERROR(db->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare(absl::StrCat("UPDATE ", table, " SET state = ?, record = ? WHERE id = ?")));
    q.Bind(1, static_cast<int64_t>(record.state)).BindBlob(2, nlohmann::json(record).dump()).Bind(3, record.id);
    return q.Run();
  }));
  records[record.id] = record;
  return absl::OkStatus();
}

template <typename Record>
Status RemoveRecord(StateDb* db, const char* table, const std::string& id, std::map<std::string, Record>& records) {
  RETURN_IF_ERROR(db->Transaction([&](SqliteDatabase& sql) -> Status {
    ASSIGN_OR_RETURN(auto q, sql.Prepare(absl::StrCat("DELETE FROM ", table, " WHERE id = ?")));
    q.Bind(1, id);
    return q.Run();
  }));
  records.erase(id);
  return absl::OkStatus();
}

template <typename Record>
std::optional<Record> Find(const std::map<std::string, Record>& records, const std::string& id) {
  auto it = records.find(id);
  if (it == records.end()) return std::nullopt;
  return it->second;
}

template <typename Record>
std::vector<Record> All(const std::map<std::string, Record>& records) {
  std::vector<Record> out;
  for (const auto& [id, record] : records) out.push_back(record);
  return out;
}

}  // namespace

std::string ContainerReservationKey(const PodSpec& pod, const ContainerSpec& container) {
  return absl::StrCat(container.name, "_", pod.name, "_", pod.namespace_name, "_", pod.uid, "_", container.attempt);
}

void RecordStore::Publish(EventType type, const std::optional<SandboxRecord>& pod, const ContainerRecord* container) {
  if (events_ == nullptr) return;
  Event event;
  event.type = type;
  event.sandbox = container == nullptr;
  event.timestamp = NowNanos();
  if (pod) event.pod = std::make_shared<const SandboxRecord>(*pod);
  if (container != nullptr) {
    event.container = std::make_shared<const ContainerRecord>(*container);
    event.id = container->id;
    event.pod_id = container->pod_id;
  } else if (pod) {
    event.id = event.pod_id = pod->id;
  }
  if (events_->has_subscribers()) {
    auto containers = std::make_shared<std::vector<ContainerRecord>>();
    for (const auto& [id, other] : containers_) {
      if (other.pod_id == event.pod_id) containers->push_back(other);
    }
    event.pod_containers = std::move(containers);
  }
  events_->Publish(event);
}

Status RecordStore::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  return db_->Read([&](SqliteDatabase& sql) -> Status {
    RETURN_IF_ERROR(LoadTable(sql, "pods", "pod", sandboxes_));
    return LoadTable(sql, "containers", "container", containers_);
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
  // A pod's record is added as the last step of making it: it is created and
  // started at once.
  Publish(EventType::kCreated, record, nullptr);
  Publish(EventType::kStarted, record, nullptr);
  return absl::OkStatus();
}

Status RecordStore::UpdateSandbox(const SandboxRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  auto before = Find(sandboxes_, record.id);
  RETURN_IF_ERROR(UpdateRecord(db_, "pods", "pod sandbox", record, sandboxes_));
  if (before && before->state != record.state && record.state == SandboxState::kNotReady) {
    Publish(EventType::kStopped, record, nullptr);
  }
  return absl::OkStatus();
}

Status RecordStore::RemoveSandbox(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto before = Find(sandboxes_, id);
  RETURN_IF_ERROR(RemoveRecord(db_, "pods", id, sandboxes_));
  if (before) {
    // A pod removed while ready stopped on the way out: subscribers see that too.
    if (before->state == SandboxState::kReady) Publish(EventType::kStopped, before, nullptr);
    Publish(EventType::kDeleted, before, nullptr);
  }
  return absl::OkStatus();
}

std::optional<SandboxRecord> RecordStore::GetSandbox(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Find(sandboxes_, id);
}

std::vector<SandboxRecord> RecordStore::Sandboxes() {
  std::lock_guard<std::mutex> lock(mu_);
  return All(sandboxes_);
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
  Publish(EventType::kCreated, Find(sandboxes_, record.pod_id), &record);
  return absl::OkStatus();
}

Status RecordStore::UpdateContainer(const ContainerRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  auto before = Find(containers_, record.id);
  RETURN_IF_ERROR(UpdateRecord(db_, "containers", "container", record, containers_));
  if (before && before->state != record.state) {
    if (record.state == ContainerState::kRunning) {
      Publish(EventType::kStarted, Find(sandboxes_, record.pod_id), &record);
    }
    // It stopped: it exited, or its shim and process vanished (UNKNOWN). Settling
    // UNKNOWN as EXITED later is no second stop.
    const bool was_live = before->state == ContainerState::kRunning || before->state == ContainerState::kCreated;
    const bool is_done = record.state == ContainerState::kExited || record.state == ContainerState::kUnknown;
    if (was_live && is_done) {
      CountContainerExit(record);
      Publish(EventType::kStopped, Find(sandboxes_, record.pod_id), &record);
    }
  }
  return absl::OkStatus();
}

Status RecordStore::RemoveContainer(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto before = Find(containers_, id);
  RETURN_IF_ERROR(RemoveRecord(db_, "containers", id, containers_));
  if (before) {
    auto pod = Find(sandboxes_, before->pod_id);
    // Likewise a container removed while it ran (its end is recorded as the removal).
    if (before->state == ContainerState::kRunning) Publish(EventType::kStopped, pod, &*before);
    Publish(EventType::kDeleted, pod, &*before);
  }
  return absl::OkStatus();
}

std::optional<ContainerRecord> RecordStore::GetContainer(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Find(containers_, id);
}

std::vector<ContainerRecord> RecordStore::Containers() {
  std::lock_guard<std::mutex> lock(mu_);
  return All(containers_);
}

StatusOr<std::string> RecordStore::ResolveSandboxId(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  return ResolveId(sandboxes_, prefix, "pod sandbox");
}

StatusOr<std::string> RecordStore::ResolveContainerId(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  return ResolveId(containers_, prefix, "container");
}

StatusOr<std::optional<std::string>> ExistingId(StatusOr<std::string> resolved) {
  if (!resolved.ok() && resolved.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
  RETURN_IF_ERROR(resolved.status());
  return std::optional<std::string>(*std::move(resolved));
}

}  // namespace berth::pods
