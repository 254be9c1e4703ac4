#include "test/integration/nri_test_plugin.h"

#include "base/unix_socket.h"

namespace berth::testing {
namespace {

using std::chrono::milliseconds;
namespace api = nri::api;

// The name an event is recorded under: its pod's, or its container's.
template <typename Request>
std::string SubjectOf(const Request& request) {
  if constexpr (requires { request.container(); }) {
    if (request.has_container()) return request.container().name();
  }
  return request.pod().name();
}

}  // namespace

StatusOr<std::unique_ptr<NriTestPlugin>> NriTestPlugin::Connect(const std::string& socket_path,
                                                                const std::string& name, const std::string& index,
                                                                uint32_t events, std::set<std::string> held) {
  ASSIGN_OR_RETURN(UniqueFd socket, ConnectUnix(socket_path));
  std::unique_ptr<NriTestPlugin> plugin(new NriTestPlugin());
  plugin->events_ = events;
  plugin->held_ = std::move(held);
  NriTestPlugin* self = plugin.get();
  plugin->connection_ = std::make_unique<nri::TtrpcConnection>(
      std::move(socket), nri::MuxConnection::kRuntimeService, nri::MuxConnection::kPluginService,
      [self](const nri::TtrpcCall& call) { return self->Serve(call); });
  plugin->connection_->set_on_closed([self](const std::string&) {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->disconnected_ = true;
    self->changed_.notify_all();
  });
  api::RegisterPluginRequest request;
  request.set_plugin_name(name);
  request.set_plugin_idx(index);
  request.set_nri_version(nri::kNriVersion);
  RETURN_IF_ERROR(plugin->connection_->Call(nri::kRuntimeService, "RegisterPlugin", request.SerializeAsString(),
                                            milliseconds(10000))
                      .status());
  return plugin;
}

NriTestPlugin::~NriTestPlugin() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_.clear();
  }
  changed_.notify_all();
  connection_->Close();
}

void NriTestPlugin::Record(const std::string& event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_seen_.push_back(event);
  changed_.notify_all();
}

StatusOr<std::string> NriTestPlugin::Serve(const nri::TtrpcCall& call) {
  const std::string& method = call.method;
  {
    // Held: until released, or until berthd gives up on the call.
    std::unique_lock<std::mutex> lock(mu_);
    auto deadline = call.deadline.value_or(std::chrono::steady_clock::now() + std::chrono::minutes(5));
    if (held_.count(method)) {
      events_seen_.push_back("held " + method);
      changed_.notify_all();
    }
    if (!changed_.wait_until(lock, deadline, [&] { return !held_.count(method); })) {
      return absl::DeadlineExceededError("context deadline exceeded");
    }
    if (lacking_.count(method)) return absl::UnimplementedError(method + " is not served");
    auto refusal = refusals_.find(method);
    if (refusal != refusals_.end() && method != "Configure" && method != "Synchronize") {
      events_seen_.push_back("refused " + method);
      changed_.notify_all();
      return absl::UnknownError(refusal->second);
    }
  }
  if (method == "Configure") {
    api::ConfigureResponse response;
    response.set_events(static_cast<int32_t>(events_));
    return response.SerializeAsString();
  }
  if (method == "Synchronize") {
    api::SynchronizeRequest request;
    if (!request.ParseFromString(call.payload)) return absl::InvalidArgumentError("bad SynchronizeRequest");
    std::lock_guard<std::mutex> lock(mu_);
    ++sync_parts_;
    for (const auto& pod : request.pods()) sync_pods_.insert(pod.name());
    for (const auto& container : request.containers()) sync_containers_.insert(container.name());
    api::SynchronizeResponse response;
    if (request.more()) {
      response.set_more(true);
    } else {
      for (const auto& update : sync_updates_) *response.add_update() = update;
      synchronized_ = true;
      changed_.notify_all();
    }
    return response.SerializeAsString();
  }
  if (method == "Shutdown") return api::Empty().SerializeAsString();
  if (method == "StateChange") {
    api::StateChangeEvent change;
    if (!change.ParseFromString(call.payload)) return absl::InvalidArgumentError("bad StateChangeEvent");
    const std::string subject = change.has_container() ? change.container().name() : change.pod().name();
    Record("StateChange " + api::Event_Name(change.event()) + " " + subject);
    return api::Empty().SerializeAsString();
  }
  auto record = [&]<typename Request>(Request request, const google::protobuf::Message& reply) -> StatusOr<std::string> {
    if (!request.ParseFromString(call.payload)) return absl::InvalidArgumentError("bad " + method + " request");
    Record(method + " " + SubjectOf(request));
    return reply.SerializeAsString();
  };
  if (method == "RunPodSandbox") return record(api::RunPodSandboxRequest(), api::RunPodSandboxResponse());
  if (method == "StopPodSandbox") return record(api::StopPodSandboxRequest(), api::StopPodSandboxResponse());
  if (method == "RemovePodSandbox") return record(api::RemovePodSandboxRequest(), api::RemovePodSandboxResponse());
  if (method == "UpdatePodSandbox") return record(api::UpdatePodSandboxRequest(), api::UpdatePodSandboxResponse());
  if (method == "PostUpdatePodSandbox") {
    return record(api::PostUpdatePodSandboxRequest(), api::PostUpdatePodSandboxResponse());
  }
  if (method == "CreateContainer") {
    api::CreateContainerResponse response;
    {
      std::lock_guard<std::mutex> lock(mu_);
      *response.mutable_adjust() = adjustment_;
    }
    return record(api::CreateContainerRequest(), response);
  }
  if (method == "PostCreateContainer") {
    return record(api::PostCreateContainerRequest(), api::PostCreateContainerResponse());
  }
  if (method == "StartContainer") return record(api::StartContainerRequest(), api::StartContainerResponse());
  if (method == "PostStartContainer") return record(api::PostStartContainerRequest(), api::PostStartContainerResponse());
  if (method == "UpdateContainer") return record(api::UpdateContainerRequest(), api::UpdateContainerResponse());
  if (method == "PostUpdateContainer") {
    return record(api::PostUpdateContainerRequest(), api::PostUpdateContainerResponse());
  }
  if (method == "StopContainer") return record(api::StopContainerRequest(), api::StopContainerResponse());
  if (method == "RemoveContainer") return record(api::RemoveContainerRequest(), api::RemoveContainerResponse());
  return absl::UnimplementedError(method + " is not served");
}

void NriTestPlugin::UpdateOnSynchronize(std::vector<nri::api::ContainerUpdate> updates) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_updates_ = std::move(updates);
}

void NriTestPlugin::Lack(std::set<std::string> methods) {
  std::lock_guard<std::mutex> lock(mu_);
  lacking_ = std::move(methods);
}

std::vector<std::string> NriTestPlugin::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_seen_;
}

bool NriTestPlugin::AwaitEvent(const std::string& want, std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] {
    return std::find(events_seen_.begin(), events_seen_.end(), want) != events_seen_.end();
  });
}

StatusOr<nri::api::UpdateContainersResponse> NriTestPlugin::UpdateContainers(
    const nri::api::UpdateContainersRequest& request) {
  ASSIGN_OR_RETURN(std::string reply, connection_->Call(nri::kRuntimeService, "UpdateContainers",
                                                        request.SerializeAsString(), milliseconds(30000)));
  nri::api::UpdateContainersResponse response;
  if (!response.ParseFromString(reply)) return absl::InvalidArgumentError("bad UpdateContainersResponse");
  return response;
}

bool NriTestPlugin::AwaitDisconnected(std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return disconnected_; });
}

bool NriTestPlugin::AwaitSynchronized(std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return synchronized_; });
}

std::set<std::string> NriTestPlugin::SynchronizedPods() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_pods_;
}

int NriTestPlugin::SynchronizeParts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_parts_;
}

std::set<std::string> NriTestPlugin::SynchronizedContainers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_containers_;
}

void NriTestPlugin::Refuse(const std::string& method, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  refusals_[method] = message;
}

void NriTestPlugin::StopRefusing(const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  refusals_.erase(method);
}

void NriTestPlugin::Hold(const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  held_.insert(method);
}

void NriTestPlugin::Release(const std::string& method) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(method);
  }
  changed_.notify_all();
}

void NriTestPlugin::AdjustCreatedContainers(const nri::api::ContainerAdjustment& adjust) {
  std::lock_guard<std::mutex> lock(mu_);
  adjustment_ = adjust;
}

}  // namespace berth::testing
