// The pod and container records: in memory for reads, written through to the state
// database, which is what recovery reads after a restart. Every change of a record's
// lifecycle goes through here, and is published on the event bus as it is recorded:
//
//   pod:        Add -> CREATED;  READY -> NOTREADY: STOPPED;  Remove -> DELETED
//   container:  Add -> CREATED;  -> RUNNING: STARTED;  -> EXITED: STOPPED;  Remove -> DELETED
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/state_db.h"
#include "base/status.h"
#include "pods/events.h"
#include "pods/records.h"

namespace berth::pods {

class RecordStore {
 public:
  // events may be null (no one listens).
  explicit RecordStore(StateDb* db, EventBus* events = nullptr) : db_(db), events_(events) {}
  // Loads every record from the database.
  Status Load();

  // Inserts a new pod; ALREADY_EXISTS, naming the holder, when its name is taken.
  Status AddSandbox(const SandboxRecord& record);
  // NOT_FOUND, changing nothing, when the record is gone.
  Status UpdateSandbox(const SandboxRecord& record);
  Status RemoveSandbox(const std::string& id);
  std::optional<SandboxRecord> GetSandbox(const std::string& id);
  std::vector<SandboxRecord> Sandboxes();

  Status AddContainer(const ContainerRecord& record, const std::string& reservation_key);
  Status UpdateContainer(const ContainerRecord& record);
  Status RemoveContainer(const std::string& id);
  std::optional<ContainerRecord> GetContainer(const std::string& id);
  std::vector<ContainerRecord> Containers();

  // The full id a (possibly abbreviated) id names, as crictl users type them.
  // NOT_FOUND when none matches, INVALID_ARGUMENT when several do.
  StatusOr<std::string> ResolveSandboxId(const std::string& prefix);
  StatusOr<std::string> ResolveContainerId(const std::string& prefix);

 private:
  // pod and container are the records after the change (before it, for a
  // deletion); a pod's own events have no container. The caller holds mu_.
  void Publish(EventType type, const std::optional<SandboxRecord>& pod, const ContainerRecord* container);

  StateDb* db_;
  EventBus* events_;
  std::mutex mu_;
  std::map<std::string, SandboxRecord> sandboxes_;
  std::map<std::string, ContainerRecord> containers_;
};

// The full id a prefix names, or none when nothing does: kubelet retries stops and
// removals, so acting on what is already gone is not an error.
StatusOr<std::optional<std::string>> ExistingId(StatusOr<std::string> resolved);

// The key a container's name is reserved under: unique per pod and attempt.
std::string ContainerReservationKey(const PodSpec& pod, const ContainerSpec& container);

}  // namespace berth::pods
