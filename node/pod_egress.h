// Pods' traffic that leaves the cluster: it goes out with the node's address, as
// kind's kindnet does it. Between pods (the pod subnet) addresses stay as they are,
// so that a pod sees its peers' own; everything else (the host, its resolvers, the
// world beyond) could not answer a pod address it has no route to.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace berth::node {

// The iptables rule, as arguments after `-t nat -A`.
std::vector<std::string> MasqueradeRule(const std::string& pod_subnet);

// Adds the rule to the node's nat table unless it is there. Runs iptables (the
// backend kube-proxy uses beside it): call it before berth-node starts reaping
// children, as it waits for its own.
Status MasqueradePodEgress(const std::string& pod_subnet);

}  // namespace berth::node
