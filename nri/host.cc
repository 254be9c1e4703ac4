#include "nri/host.h"

#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/log.h"
#include "base/unix_socket.h"
#include "nri/plugin.h"

extern char** environ;

namespace berth::nri {
namespace {

using std::chrono::milliseconds;

// Events that had no method of their own before NRI 0.12 travel as StateChange to
// plugins that answer their method UNIMPLEMENTED (CRI-O's NRI, older stubs).
bool HasStateChangeForm(api::Event event) {
  switch (event) {
    case api::RUN_POD_SANDBOX:
    case api::STOP_POD_SANDBOX:
    case api::REMOVE_POD_SANDBOX:
    case api::POST_CREATE_CONTAINER:
    case api::START_CONTAINER:
    case api::POST_START_CONTAINER:
    case api::POST_UPDATE_CONTAINER:
    case api::REMOVE_CONTAINER:
    case api::POST_UPDATE_POD_SANDBOX:
      return true;
    default:
      return false;
  }
}

// A plugin's reply as the message it must be.
Status ParseReply(const Plugin& plugin, const std::string& method, const std::string& reply,
                  google::protobuf::Message* into) {
  if (into->ParseFromString(reply)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("NRI plugin ", plugin.id(), ": ", method, "'s reply does not parse"));
}

// An event's request: most carry the pod, the container events the container too.
template <typename Request>
Request EventAbout(const api::PodSandbox& pod, const api::Container* container = nullptr) {
  Request request;
  *request.mutable_pod() = pod;
  if constexpr (requires { request.mutable_container(); }) *request.mutable_container() = *container;
  return request;
}

// Room left in a ttrpc message for the Synchronize part of a snapshot, the
// envelope (service, method, timeout) aside.
constexpr size_t kMaxSyncPayload = (4 << 20) - 64 * 1024;

}  // namespace

Host::Host(NriOptions options, std::string runtime_name, std::string runtime_version)
    : options_(std::move(options)),
      runtime_name_(std::move(runtime_name)),
      runtime_version_(std::move(runtime_version)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Host::~Host() { Stop(); }

Status Host::Start(HostCallbacks callbacks) {
  callbacks_ = std::move(callbacks);
  if (!options_.disable_connections) {
    const std::string dir = std::filesystem::path(options_.socket_path).parent_path().string();
    RETURN_IF_ERROR(MakeDirs(dir, 0700));
    // A socket left by an earlier berthd (or another runtime) is replaced.
    if (::unlink(options_.socket_path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("remove stale NRI socket " + options_.socket_path);
    }
    ASSIGN_OR_RETURN(listener_, ListenUnix(options_.socket_path));
    if (::chmod(options_.socket_path.c_str(), 0700) != 0) return ErrnoError("chmod " + options_.socket_path);
    acceptor_ = std::thread([this] { AcceptLoop(); });
    BERTH_LOG(Info) << "NRI: plugins may connect" << Kv("socket", options_.socket_path);
  }
  Status launched = LaunchPlugins();
  if (!launched.ok()) BERTH_LOG(Error) << "NRI: launching plugins" << launched;
  return absl::OkStatus();
}

void Host::Stop() {
  std::vector<std::shared_ptr<Plugin>> plugins;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    plugins.swap(plugins_);
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
  if (acceptor_.joinable()) acceptor_.join();
  {
    // Plugins still registering or synchronizing are not waited for.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& plugin : admitting_) plugin->Abort("berthd is stopping");
  }
  // No worker starts once stopping_ is set, and no plugin joins (Admit checks it):
  // both lists are final.
  for (Worker& worker : workers_) worker.thread.join();
  workers_.clear();
  for (auto& plugin : plugins) {
    (void)plugin->Call("Shutdown", api::Empty(), milliseconds(options_.request_timeout_ms));
    plugin->Close();
  }
  if (listener_) {
    listener_.Reset();
    ::unlink(options_.socket_path.c_str());
  }
}

void Host::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      BERTH_LOG(Error) << "NRI: poll of the socket" << ErrnoError("poll");
      return;
    }
    if (fds[1].revents != 0) return;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        BERTH_LOG(Error) << "NRI: accept" << ErrnoError("accept");
      }
      continue;
    }
    StartAdmission(std::make_shared<Plugin>(UniqueFd(fd), std::nullopt, [this](Plugin& plugin, const TtrpcCall& call) {
      return ServeRuntime(plugin, call);
    }));
  }
}

StatusOr<std::string> Host::ServeRuntime(Plugin& plugin, const TtrpcCall& call) {
  if (call.service != kRuntimeService) {
    return absl::UnimplementedError(absl::StrCat("service ", call.service, " is not served"));
  }
  if (call.method == "RegisterPlugin") {
    api::RegisterPluginRequest request;
    if (!request.ParseFromString(call.payload)) return absl::InvalidArgumentError("bad RegisterPluginRequest");
    RETURN_IF_ERROR(plugin.Register(request));
    return api::Empty().SerializeAsString();
  }
  if (call.method == "UpdateContainers") {
    api::UpdateContainersRequest request;
    if (!request.ParseFromString(call.payload)) {
      return absl::InvalidArgumentError("bad UpdateContainersRequest");
    }
    api::UpdateContainersResponse response;
    std::vector<api::ContainerUpdate> updates(request.update().begin(), request.update().end());
    if (callbacks_.update_containers) {
      for (auto& failed : callbacks_.update_containers(updates)) *response.add_failed() = std::move(failed);
    } else {
      for (auto& update : updates) *response.add_failed() = std::move(update);
    }
    if (request.evict_size() > 0 && callbacks_.evict_containers) {
      callbacks_.evict_containers({request.evict().begin(), request.evict().end()});
    }
    return response.SerializeAsString();
  }
  return absl::UnimplementedError(absl::StrCat("method ", call.method, " is not served"));
}

void Host::StartAdmission(std::shared_ptr<Plugin> plugin) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;  // plugin goes, closed, with this last reference
  admitting_.push_back(plugin);
  SpawnLocked([this, plugin = std::move(plugin)] {
    Admit(plugin);
    std::lock_guard<std::mutex> lock(mu_);
    admitting_.erase(std::remove(admitting_.begin(), admitting_.end(), plugin), admitting_.end());
  });
}

void Host::SpawnLocked(std::function<void()> work) {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers_.push_back({std::thread([work = std::move(work), done] {
                        work();
                        done->store(true);
                      }),
                      done});
}

void Host::Admit(const std::shared_ptr<Plugin>& plugin) {
  Status admitted = [&]() -> Status {
    RETURN_IF_ERROR(plugin->AwaitRegistration(milliseconds(options_.registration_timeout_ms)));
    api::ConfigureRequest configure;
    configure.set_config(plugin->config());
    configure.set_runtime_name(runtime_name_);
    configure.set_runtime_version(runtime_version_);
    configure.set_registration_timeout(options_.registration_timeout_ms);
    configure.set_request_timeout(options_.request_timeout_ms);
    configure.set_nri_version(kNriVersion);
    const milliseconds timeout(options_.request_timeout_ms);
    ASSIGN_OR_RETURN(std::string reply, plugin->Call("Configure", configure, timeout));
    api::ConfigureResponse configured;
    RETURN_IF_ERROR(ParseReply(*plugin, "Configure", reply, &configured));
    uint32_t events = static_cast<uint32_t>(configured.events());
    if (events & ~kAllEvents) {
      return absl::InvalidArgumentError(absl::StrCat("plugin subscribed to unknown events (mask 0x",
                                                     absl::Hex(events & ~kAllEvents), ")"));
    }
    plugin->events = events == 0 ? kAllEvents : events;
    // The snapshot, the Synchronize and joining the plugins are one step for the
    // creations going on: each of theirs is in the snapshot or an event after it.
    gate_.Lock();
    Status synced = Synchronize(*plugin);
    if (synced.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        synced = absl::UnavailableError("berthd is stopping");
      } else {
        plugins_.push_back(plugin);
        // Index order; among equal indexes, the order they came in.
        std::stable_sort(plugins_.begin(), plugins_.end(),
                         [](const auto& a, const auto& b) { return a->index() < b->index(); });
      }
    }
    gate_.Unlock();
    return synced;
  }();
  if (!admitted.ok()) {
    BERTH_LOG(Error) << "NRI: plugin not admitted" << Kv("plugin", plugin->id()) << admitted;
    plugin->Close();
    return;
  }
  BERTH_LOG(Info) << "NRI: plugin admitted" << Kv("plugin", plugin->id())
                  << Kv("events", absl::StrCat("0x", absl::Hex(plugin->events)));
}

Status Host::Synchronize(Plugin& plugin) {
  Snapshot snapshot = callbacks_.snapshot ? callbacks_.snapshot() : Snapshot{};
  // Parts of at most kMaxSyncPayload; every part but the last says more follow,
  // and the plugin answers those with nothing but "more".
  std::vector<api::SynchronizeRequest> parts(1);
  auto room = [&](const google::protobuf::Message& object) {
    return parts.back().ByteSizeLong() + object.ByteSizeLong() + 16 <= kMaxSyncPayload;
  };
  for (auto& pod : snapshot.pods) {
    if (!room(pod) && (parts.back().pods_size() + parts.back().containers_size()) > 0) parts.emplace_back();
    *parts.back().add_pods() = std::move(pod);
  }
  for (auto& container : snapshot.containers) {
    if (!room(container) && (parts.back().pods_size() + parts.back().containers_size()) > 0) parts.emplace_back();
    *parts.back().add_containers() = std::move(container);
  }
  const milliseconds timeout(options_.synchronize_timeout_ms);
  for (size_t i = 0; i < parts.size(); ++i) {
    bool last = i + 1 == parts.size();
    parts[i].set_more(!last);
    ASSIGN_OR_RETURN(std::string reply, plugin.Call("Synchronize", parts[i], timeout));
    api::SynchronizeResponse response;
    RETURN_IF_ERROR(ParseReply(plugin, "Synchronize", reply, &response));
    if (!last) {
      if (response.update_size() > 0 || !response.more()) {
        return absl::InvalidArgumentError("plugin does not take a Synchronize in parts");
      }
      continue;
    }
    ApplyUpdates({response.update().begin(), response.update().end()}, {}, plugin.id());
  }
  return absl::OkStatus();
}

Status Host::LaunchPlugins() {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(options_.plugin_path, ec)) {
    if (entry.is_regular_file(ec) && ::access(entry.path().c_str(), X_OK) == 0) {
      names.push_back(entry.path().filename().string());
    }
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::FailedPreconditionError(absl::StrCat("read ", options_.plugin_path, ": ", ec.message()));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& file : names) {
    size_t dash = file.find('-');
    Plugin::Launched launched;
    launched.index = file.substr(0, dash == std::string::npos ? 0 : dash);
    launched.name = dash == std::string::npos ? "" : file.substr(dash + 1);
    if (launched.index.size() != 2 || !isdigit(launched.index[0]) || !isdigit(launched.index[1]) ||
        launched.name.empty()) {
      BERTH_LOG(Warn) << "NRI: not a plugin name (NN-name), skipped" << Kv("file", file);
      continue;
    }
    for (const std::string& conf : {file + ".conf", launched.name + ".conf"}) {
      auto text = ReadFile(options_.plugin_config_path + "/" + conf);
      if (text.ok()) {
        launched.config = *text;
        break;
      }
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return ErrnoError("socketpair");
    UniqueFd ours(pair[0]), theirs(pair[1]);
    // The plugin finds its end of the connection as fd 3 (NRI_PLUGIN_SOCKET).
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      std::string_view entry(*e);
      if (entry.rfind("NRI_PLUGIN_", 0) != 0) env_strings.emplace_back(entry);
    }
    env_strings.push_back("NRI_PLUGIN_SOCKET=3");
    env_strings.push_back("NRI_PLUGIN_NAME=" + launched.name);
    env_strings.push_back("NRI_PLUGIN_IDX=" + launched.index);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string path = options_.plugin_path + "/" + file;
    char* argv[] = {path.data(), nullptr};
    pid_t pid = 0;
    int spawned = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      BERTH_LOG(Error) << "NRI: start plugin" << Kv("plugin", path) << ErrnoError(spawned, "posix_spawn");
      continue;
    }
    launched.pid = pid;
    BERTH_LOG(Info) << "NRI: started plugin" << Kv("plugin", file) << Kv("pid", pid);
    StartAdmission(std::make_shared<Plugin>(std::move(ours), launched, [this](Plugin& plugin, const TtrpcCall& call) {
      return ServeRuntime(plugin, call);
    }));
  }
  return absl::OkStatus();
}

std::vector<std::shared_ptr<Plugin>> Host::Plugins() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plugins_;
}

std::vector<std::string> Host::PluginNames() const {
  std::vector<std::string> names;
  for (const auto& plugin : Plugins()) {
    if (plugin->open()) names.push_back(plugin->id());
  }
  return names;
}

void Host::Drop(const std::shared_ptr<Plugin>& plugin, const std::string& why) {
  BERTH_LOG(Error) << "NRI: plugin dropped" << Kv("plugin", plugin->id()) << Kv("why", why);
  plugin->Abort(why);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find(plugins_.begin(), plugins_.end(), plugin);
  if (it == plugins_.end()) return;  // dropped already, by another event
  plugins_.erase(it);
  // Closed (its threads joined, a launched one's process ended) on a thread of its own.
  if (!stopping_) SpawnLocked([plugin] { plugin->Close(); });
}

Status Host::Dispatch(api::Event event, const std::string& method, const google::protobuf::Message& request,
                      const api::PodSandbox* pod, const api::Container* container, OnError on_error,
                      const ReplyHandler& on_reply) {
  for (const std::shared_ptr<Plugin>& plugin : Plugins()) {
    if (!(plugin->events & EventBit(event))) continue;
    if (!plugin->open()) {
      Drop(plugin, "its connection ended");
      continue;
    }
    const milliseconds timeout(options_.request_timeout_ms);
    auto reply = plugin->Call(method, request, timeout);
    if (!reply.ok() && reply.status().code() == StatusCode::kUnimplemented && HasStateChangeForm(event)) {
      api::StateChangeEvent change;
      change.set_event(event);
      if (pod) *change.mutable_pod() = *pod;
      if (container) *change.mutable_container() = *container;
      reply = plugin->Call("StateChange", change, timeout);
    }
    if (!reply.ok()) {
      // A plugin that cannot answer is out; what it was asked goes on without it.
      if (Plugin::IsFatal(reply.status())) {
        Drop(plugin, absl::StrCat(method, ": ", reply.status().message()));
        continue;
      }
      Status refused = Annotate(reply.status(), absl::StrCat("NRI plugin ", plugin->id(), " ", method));
      if (on_error == OnError::kFail) return refused;
      BERTH_LOG(Warn) << "NRI: plugin failed an event" << refused;
      continue;
    }
    if (on_reply) {
      Status handled = on_reply(*plugin, *reply);
      if (!handled.ok()) {
        if (on_error == OnError::kFail) return handled;
        BERTH_LOG(Warn) << "NRI: plugin's answer" << handled;
      }
    }
  }
  return absl::OkStatus();
}

void Host::ApplyUpdates(const std::vector<api::ContainerUpdate>& updates,
                        const std::vector<api::ContainerEviction>& evict, const std::string& from) {
  if (!updates.empty() && callbacks_.update_containers) {
    for (const api::ContainerUpdate& failed : callbacks_.update_containers(updates)) {
      BERTH_LOG(Warn) << "NRI: a plugin's container update failed" << Kv("plugin", from)
                         << Kv("container", failed.container_id());
    }
  }
  if (!evict.empty() && callbacks_.evict_containers) callbacks_.evict_containers(evict);
}

Status Host::RunPodSandbox(const api::PodSandbox& pod) {
  auto request = EventAbout<api::RunPodSandboxRequest>(pod);
  return Dispatch(api::RUN_POD_SANDBOX, "RunPodSandbox", request, &pod, nullptr, OnError::kFail);
}

Status Host::UpdatePodSandbox(const api::PodSandbox& pod, const api::LinuxResources& overhead,
                              const api::LinuxResources& resources) {
  auto request = EventAbout<api::UpdatePodSandboxRequest>(pod);
  *request.mutable_overhead_linux_resources() = overhead;
  *request.mutable_linux_resources() = resources;
  return Dispatch(api::UPDATE_POD_SANDBOX, "UpdatePodSandbox", request, &pod, nullptr, OnError::kFail);
}

void Host::PostUpdatePodSandbox(const api::PodSandbox& pod) {
  auto request = EventAbout<api::PostUpdatePodSandboxRequest>(pod);
  (void)Dispatch(api::POST_UPDATE_POD_SANDBOX, "PostUpdatePodSandbox", request, &pod, nullptr, OnError::kLog);
}

void Host::StopPodSandbox(const api::PodSandbox& pod) {
  auto request = EventAbout<api::StopPodSandboxRequest>(pod);
  (void)Dispatch(api::STOP_POD_SANDBOX, "StopPodSandbox", request, &pod, nullptr, OnError::kLog);
}

void Host::RemovePodSandbox(const api::PodSandbox& pod) {
  auto request = EventAbout<api::RemovePodSandboxRequest>(pod);
  (void)Dispatch(api::REMOVE_POD_SANDBOX, "RemovePodSandbox", request, &pod, nullptr, OnError::kLog);
}

StatusOr<api::ContainerAdjustment> Host::CreateContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::CreateContainerRequest>(pod, &container);
  AdjustmentMerger merger(request.mutable_container());
  std::vector<api::ContainerUpdate> updates;
  std::vector<api::ContainerEviction> evictions;
  RETURN_IF_ERROR(Dispatch(api::CREATE_CONTAINER, "CreateContainer", request, &pod, &container, OnError::kFail,
                           [&](Plugin& plugin, const std::string& reply) -> Status {
                             api::CreateContainerResponse response;
                             RETURN_IF_ERROR(ParseReply(plugin, "CreateContainer", reply, &response));
                             RETURN_IF_ERROR(merger.Add(plugin.id(), response.adjust()));
                             updates.insert(updates.end(), response.update().begin(), response.update().end());
                             evictions.insert(evictions.end(), response.evict().begin(), response.evict().end());
                             return absl::OkStatus();
                           }));
  ApplyUpdates(updates, evictions, "CreateContainer");
  return merger.merged();
}

void Host::PostCreateContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::PostCreateContainerRequest>(pod, &container);
  (void)Dispatch(api::POST_CREATE_CONTAINER, "PostCreateContainer", request, &pod, &container, OnError::kLog);
}

Status Host::StartContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::StartContainerRequest>(pod, &container);
  return Dispatch(api::START_CONTAINER, "StartContainer", request, &pod, &container, OnError::kFail);
}

void Host::PostStartContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::PostStartContainerRequest>(pod, &container);
  (void)Dispatch(api::POST_START_CONTAINER, "PostStartContainer", request, &pod, &container, OnError::kLog);
}

StatusOr<api::LinuxResources> Host::UpdateContainer(const api::PodSandbox& pod, const api::Container& container,
                                                    const api::LinuxResources& resources) {
  auto request = EventAbout<api::UpdateContainerRequest>(pod, &container);
  *request.mutable_linux_resources() = resources;
  std::vector<api::ContainerUpdate> others;
  std::vector<api::ContainerEviction> evictions;
  RETURN_IF_ERROR(Dispatch(api::UPDATE_CONTAINER, "UpdateContainer", request, &pod, &container, OnError::kFail,
                           [&](Plugin& plugin, const std::string& reply) -> Status {
                             api::UpdateContainerResponse response;
                             RETURN_IF_ERROR(ParseReply(plugin, "UpdateContainer", reply, &response));
                             for (const api::ContainerUpdate& update : response.update()) {
                               // An update of this very container changes what is applied,
                               // and what the next plugin is asked about.
                               if (update.container_id() == container.id()) {
                                 request.mutable_linux_resources()->MergeFrom(update.linux().resources());
                               } else {
                                 others.push_back(update);
                               }
                             }
                             evictions.insert(evictions.end(), response.evict().begin(), response.evict().end());
                             return absl::OkStatus();
                           }));
  ApplyUpdates(others, evictions, "UpdateContainer");
  return request.linux_resources();
}

void Host::PostUpdateContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::PostUpdateContainerRequest>(pod, &container);
  (void)Dispatch(api::POST_UPDATE_CONTAINER, "PostUpdateContainer", request, &pod, &container, OnError::kLog);
}

void Host::StopContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::StopContainerRequest>(pod, &container);
  std::vector<api::ContainerUpdate> updates;
  (void)Dispatch(api::STOP_CONTAINER, "StopContainer", request, &pod, &container, OnError::kLog,
                 [&](Plugin&, const std::string& reply) -> Status {
                   api::StopContainerResponse response;
                   if (response.ParseFromString(reply)) {
                     updates.insert(updates.end(), response.update().begin(), response.update().end());
                   }
                   return absl::OkStatus();
                 });
  ApplyUpdates(updates, {}, "StopContainer");
}

void Host::RemoveContainer(const api::PodSandbox& pod, const api::Container& container) {
  auto request = EventAbout<api::RemoveContainerRequest>(pod, &container);
  (void)Dispatch(api::REMOVE_CONTAINER, "RemoveContainer", request, &pod, &container, OnError::kLog);
}

}  // namespace berth::nri
