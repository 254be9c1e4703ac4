#include "cri/handlers.h"

namespace berth::cri {
namespace {

void AddCondition(const char* type, const pods::Condition& condition,
                  ::runtime::v1::RuntimeStatus* status) {
  auto* out = status->add_conditions();
  out->set_type(type);
  out->set_status(condition.ready);
  out->set_reason(condition.reason);
  out->set_message(condition.message);
}

}  // namespace

Status HandleStatus(pods::Node& node, const ::runtime::v1::StatusRequest& request,
                    ::runtime::v1::StatusResponse* response) {
  auto* status = response->mutable_status();
  AddCondition("RuntimeReady", node.RuntimeCondition(), status);
  AddCondition("NetworkReady", node.NetworkCondition(), status);
  // Not one kubelet waits for: it says whether checkpoint and restore can work here.
  AddCondition("ContainerCheckpointReady", node.CheckpointCondition(), status);
  // The default handler (empty name), then every installed one by name.
  std::vector<std::string> handlers = {""};
  for (const auto& name : node.lifecycle().HandlerNames()) handlers.push_back(name);
  for (const auto& name : handlers) {
    auto* handler = response->add_runtime_handlers();
    handler->set_name(name);
    handler->mutable_features()->set_recursive_read_only_mounts(
        node.lifecycle().HandlerFeatures(name).recursive_read_only);
    handler->mutable_features()->set_user_namespaces(node.lifecycle().HandlerFeatures(name).user_namespaces);
  }
  // SupplementalGroupsPolicy is honoured, and ContainerStatus says who a process runs as.
  response->mutable_features()->set_supplemental_groups_policy(true);
  if (request.verbose()) {
    for (auto& [key, value] : node.StatusInfo()) (*response->mutable_info())[key] = value;
  }
  return absl::OkStatus();
}

}  // namespace berth::cri
