// Every lifecycle change of a pod or container, published as the record store
// records it: the one source for CRI's GetContainerEvents, NRI and metrics.
//
// Each subscriber gets a queue of its own with a fixed capacity. Publishing never
// waits: a subscriber whose queue is full is dropped (its subscription ends, and
// the bus counts it), so a slow reader can never hold up a lifecycle call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pods/records.h"

namespace berth::pods {

enum class EventType { kCreated, kStarted, kStopped, kDeleted };

struct Event {
  EventType type = EventType::kCreated;
  bool sandbox = false;   // a pod's change; a container's otherwise
  std::string id;         // the pod's or the container's
  std::string pod_id;     // the pod it belongs to (its own id for a pod)
  int64_t timestamp = 0;  // unix nanoseconds
  // The records as the change left them (as they were, for a deletion); pod is
  // null only for a container whose pod is already gone.
  std::shared_ptr<const SandboxRecord> pod;
  std::shared_ptr<const ContainerRecord> container;
  // Every container of the pod as the change left them (a deleted one no longer
  // among them); filled only while someone subscribes.
  std::shared_ptr<const std::vector<ContainerRecord>> pod_containers;
};

class Subscription {
 public:
  explicit Subscription(size_t capacity) : capacity_(capacity) {}
  // The next event, waiting up to timeout; nothing once the subscription ended (it
  // fell behind, or was closed) and its queue is empty, or on timeout.
  std::optional<Event> Next(std::chrono::milliseconds timeout);
  // True once it was dropped for falling behind.
  bool dropped() const;
  // True once it ended, dropped or closed.
  bool ended() const;
  void Close();

 private:
  friend class EventBus;
  // False, and the subscription ends, when the queue is full.
  bool Offer(const Event& event);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Event> queue_;
  bool ended_ = false;
  bool dropped_ = false;
};

class EventBus {
 public:
  // After CloseAll, a new subscription is born closed.
  std::shared_ptr<Subscription> Subscribe(size_t capacity = 1024);
  void Publish(const Event& event);
  // Whether anyone listens: publishers skip the costly parts of an event otherwise.
  bool has_subscribers() const;
  // Ends every subscription (berthd is stopping): their readers see the end at once.
  void CloseAll();
  // Subscribers dropped for falling behind, since start.
  uint64_t dropped_subscribers() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<Subscription>> subscribers_;
  uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace berth::pods
