// An NRI plugin for the tests, in C++ over the real socket (berth's own ttrpc as
// the plugin's side): it registers, answers Configure and Synchronize, records each
// event it gets in order, and does what a test tells it (refuse an event, hold one
// until released or until berthd's deadline, adjust created containers, hold its
// Synchronize, go away).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "nri/api.h"
#include "nri/ttrpc_connection.h"

namespace berth::testing {

class NriTestPlugin {
 public:
  // Connects to socket_path and registers as index-name; answers Configure with
  // events (0: all). The methods in held are held from the start (see Hold).
  static StatusOr<std::unique_ptr<NriTestPlugin>> Connect(const std::string& socket_path, const std::string& name,
                                                          const std::string& index, uint32_t events = 0,
                                                          std::set<std::string> held = {});
  ~NriTestPlugin();

  // Each event as "Method name" (the pod's or container's CRI name), in order; one
  // that came as StateChange (see Lack) as "StateChange EVENT name". A held call is
  // recorded as "held Method" when it comes, a refused one as "refused Method".
  std::vector<std::string> Events() const;
  // Waits until an event equal to want has come.
  bool AwaitEvent(const std::string& want, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Waits until Synchronize has come and been answered: the plugin gets events.
  bool AwaitSynchronized(std::chrono::seconds timeout = std::chrono::seconds(60));
  // Names in the Synchronize: pods' and containers' CRI names.
  std::set<std::string> SynchronizedPods() const;
  std::set<std::string> SynchronizedContainers() const;
  // How many Synchronize requests came (more than one: it came in parts).
  int SynchronizeParts() const;

  // The next events of method answer an error.
  void Refuse(const std::string& method, const std::string& message);
  void StopRefusing(const std::string& method);
  // Events of method (Synchronize too) wait until Release, or until berthd's
  // deadline passes.
  void Hold(const std::string& method);
  void Release(const std::string& method);
  // CreateContainer answers this adjustment.
  void AdjustCreatedContainers(const nri::api::ContainerAdjustment& adjust);
  // Synchronize answers these updates of containers it was told of.
  void UpdateOnSynchronize(std::vector<nri::api::ContainerUpdate> updates);
  // These methods answer UNIMPLEMENTED, as from a plugin built against an NRI older
  // than they are; their events then come as StateChange.
  void Lack(std::set<std::string> methods);
  // Asks berthd, unsolicited, to update or evict containers (the Runtime service's
  // UpdateContainers): the updates that failed.
  StatusOr<nri::api::UpdateContainersResponse> UpdateContainers(const nri::api::UpdateContainersRequest& request);
  // Waits until berthd has closed the plugin's connection.
  bool AwaitDisconnected(std::chrono::seconds timeout = std::chrono::seconds(60));
  void Disconnect() { connection_->Close(); }

 private:
  NriTestPlugin() = default;
  StatusOr<std::string> Serve(const nri::TtrpcCall& call);
  void Record(const std::string& event);

  std::unique_ptr<nri::TtrpcConnection> connection_;
  uint32_t events_ = 0;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> events_seen_;
  bool synchronized_ = false;
  bool disconnected_ = false;
  std::set<std::string> sync_pods_, sync_containers_;
  int sync_parts_ = 0;
  std::map<std::string, std::string> refusals_;
  std::set<std::string> held_;
  nri::api::ContainerAdjustment adjustment_;
  std::vector<nri::api::ContainerUpdate> sync_updates_;
  std::set<std::string> lacking_;
};

}  // namespace berth::testing
