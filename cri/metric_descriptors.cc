#include "cri/handlers.h"
#include "pods/metrics.h"

namespace berth::cri {

Status HandleListMetricDescriptors(pods::Node& /*node*/, const ::runtime::v1::ListMetricDescriptorsRequest& /*request*/,
                                   ::runtime::v1::ListMetricDescriptorsResponse* response) {
  for (const auto& descriptor : pods::MetricDescriptors()) {
    auto* out = response->add_descriptors();
    out->set_name(descriptor.name);
    out->set_help(descriptor.help);
    out->mutable_label_keys()->Add(descriptor.label_keys.begin(), descriptor.label_keys.end());
  }
  return absl::OkStatus();
}

}  // namespace berth::cri
