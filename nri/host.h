// berthd's side of NRI: plugins connect (or are launched), register, are
// configured and synchronized, and are then sent the pod and container events they
// subscribed to, one after another in index order.
//
// What a plugin does wrong costs the plugin, never a CRI call: one that does not
// register, answer in time, or speak the protocol is closed and logged, and the
// event goes on as if it had said nothing. An error a plugin answers on purpose
// fails the blocking events (RunPodSandbox, CreateContainer, StartContainer,
// UpdateContainer, UpdatePodSandbox) and is only logged for the rest.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "nri/adjustment.h"
#include "nri/api.h"
#include "nri/options.h"
#include "nri/sync_gate.h"
#include "nri/ttrpc_connection.h"

namespace berth::nri {

class Plugin;

// What berth has on record, for a new plugin's Synchronize.
struct Snapshot {
  std::vector<api::PodSandbox> pods;
  std::vector<api::Container> containers;
};

// What the lifecycle gives the host: the snapshot of what is on record (taken under
// the sync gate, so it must not take the gate itself), and the way to apply updates
// plugins ask for to containers other than the one an event is about.
struct HostCallbacks {
  std::function<Snapshot()> snapshot;
  // Applies each update (resources of a container); answers those that failed.
  std::function<std::vector<api::ContainerUpdate>(const std::vector<api::ContainerUpdate>&)> update_containers;
  // Stops each container a plugin evicts.
  std::function<void(const std::vector<api::ContainerEviction>&)> evict_containers;
};

class Host {
 public:
  Host(NriOptions options, std::string runtime_name, std::string runtime_version);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Listens on the socket (unless connections are off) and launches the plugins in
  // plugin_path. Plugins are served from here on, in threads of the host's.
  Status Start(HostCallbacks callbacks);
  // Tells each plugin berthd is going (Shutdown), closes them all, and stops the
  // plugins it launched.
  void Stop();

  // A creation holds this from before its NRI event until its object is on record
  // (see sync_gate.h).
  SyncGateHold HoldForCreation() { return SyncGateHold(&gate_); }

  // The events, each sent to the plugins subscribed to it.
  Status RunPodSandbox(const api::PodSandbox& pod);
  Status UpdatePodSandbox(const api::PodSandbox& pod, const api::LinuxResources& overhead,
                          const api::LinuxResources& resources);
  void PostUpdatePodSandbox(const api::PodSandbox& pod);
  void StopPodSandbox(const api::PodSandbox& pod);
  void RemovePodSandbox(const api::PodSandbox& pod);
  // The plugins' adjustments merged (two plugins setting the same thing is
  // FAILED_PRECONDITION naming both), after updates to other containers are applied.
  StatusOr<api::ContainerAdjustment> CreateContainer(const api::PodSandbox& pod, const api::Container& container);
  void PostCreateContainer(const api::PodSandbox& pod, const api::Container& container);
  Status StartContainer(const api::PodSandbox& pod, const api::Container& container);
  void PostStartContainer(const api::PodSandbox& pod, const api::Container& container);
  // The resources to apply: those asked for, as plugins changed them.
  StatusOr<api::LinuxResources> UpdateContainer(const api::PodSandbox& pod, const api::Container& container,
                                                const api::LinuxResources& resources);
  void PostUpdateContainer(const api::PodSandbox& pod, const api::Container& container);
  void StopContainer(const api::PodSandbox& pod, const api::Container& container);
  void RemoveContainer(const api::PodSandbox& pod, const api::Container& container);

  // The plugins that get events now, as "idx-name", in order.
  std::vector<std::string> PluginNames() const;

 private:
  enum class OnError { kFail, kLog };
  using ReplyHandler = std::function<Status(Plugin& plugin, const std::string& reply)>;
  // Sends method to every plugin subscribed to event, in order; a plugin's own error
  // fails the dispatch (kFail) or is logged (kLog); on_reply sees each answer.
  Status Dispatch(api::Event event, const std::string& method, const google::protobuf::Message& request,
                  const api::PodSandbox* pod, const api::Container* container, OnError on_error,
                  const ReplyHandler& on_reply = nullptr);
  std::vector<std::shared_ptr<Plugin>> Plugins() const;
  void Drop(const std::shared_ptr<Plugin>& plugin, const std::string& why);
  void AcceptLoop();
  // The Runtime service a plugin calls: RegisterPlugin, UpdateContainers.
  StatusOr<std::string> ServeRuntime(Plugin& plugin, const TtrpcCall& call);
  // Registers, configures and synchronizes a connected plugin, then lets it have
  // events; closes it on any failure.
  void Admit(const std::shared_ptr<Plugin>& plugin);
  Status Synchronize(Plugin& plugin);
  Status LaunchPlugins();
  void ApplyUpdates(const std::vector<api::ContainerUpdate>& updates, const std::vector<api::ContainerEviction>& evict,
                    const std::string& from);
  void StartAdmission(std::shared_ptr<Plugin> plugin);
  // Runs work on a worker thread; the caller holds mu_.
  void SpawnLocked(std::function<void()> work);

  const NriOptions options_;
  const std::string runtime_name_;
  const std::string runtime_version_;
  HostCallbacks callbacks_;
  SyncGate gate_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Plugin>> plugins_;  // admitted, in index order
  std::vector<std::shared_ptr<Plugin>> admitting_;
  // Threads that admit plugins, and that close dropped ones (a dropping caller may
  // hold a lock the plugin's handler waits for, so it must not wait itself). Those
  // that finished are joined as new ones start, so a plugin that keeps reconnecting
  // leaves nothing behind.
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Worker> workers_;
  bool stopping_ = false;
  UniqueFd listener_;
  UniqueFd wake_;  // ends the accept loop
  std::thread acceptor_;
};

}  // namespace berth::nri
