// berth-node: the init of a berth node container. It checks what the outer runtime
// gave the container (privileges, cgroups, network, volumes), sets up the node's
// cgroup namespace and mount propagation, forwards the host's loopback registry into
// the node, routes the other nodes' pod CIDRs, and runs berthd and the node's
// services (kubelet, kube-proxy).
//
//   berth-node [--config /etc/berth-node/node.yaml] [--check]
#include <sys/mount.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <atomic>
#include <memory>
#include <thread>

#include "base/log.h"
#include "node/config.h"
#include "node/forwarder.h"
#include "node/node_setup.h"
#include "node/node_watch.h"
#include "node/pod_egress.h"
#include "node/preflight.h"
#include "node/supervisor.h"

namespace po = boost::program_options;
using namespace berth;

int main(int argc, char** argv) {
  po::options_description options(
      "berth-node: runs berthd and kubelet inside a node container\n\nUsage: berth-node [flags]\n\nFlags");
  options.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>()->default_value("/etc/berth-node/node.yaml"), "the node's config file")
      ("check", "only check the container, print what is wrong and exit (1 if anything is)");
  po::variables_map flags;
  try {
    po::store(po::parse_command_line(argc, argv, options), flags);
    po::notify(flags);
  } catch (const po::error& e) {
    std::cerr << "berth-node: " << e.what() << "\n";
    return 2;
  }
  if (flags.count("help")) {
    std::cout << options;
    return 0;
  }
  auto config = node::LoadNodeConfig(flags["config"].as<std::string>());
  if (!config.ok()) {
    std::cerr << "berth-node: " << config.status().message() << "\n";
    return 2;
  }
  bool fatal = false;
  const bool check_only = flags.count("check") != 0;
  for (const auto& finding : node::CheckNode(*config, /*repair=*/!check_only)) {
    std::cerr << "berth-node: " << (finding.fatal ? "error: " : "warning: ") << finding.message << "\n";
    fatal = fatal || finding.fatal;
  }
  if (fatal) {
    std::cerr << "berth-node: the node container is not fit to run berthd; see above\n";
    return 1;
  }
  if (check_only) {
    std::cout << "berth-node: the node container has what berthd and kubelet need\n";
    return 0;
  }
  node::Supervisor::BlockSignals();  // before the forwarders' threads start
  Status prepared = node::PrepareNode();
  if (!prepared.ok()) {
    std::cerr << "berth-node: " << prepared.message() << "\n";
    return 1;
  }
  if (!config->masquerade.empty()) {
    // Before anything of berth-node's reaps children: iptables is waited for here.
    Status masqueraded = node::MasqueradePodEgress(config->masquerade);
    if (!masqueraded.ok()) {
      std::cerr << "berth-node: " << masqueraded.message() << "\n";
      return 1;
    }
  }
  std::vector<std::unique_ptr<node::PortForwarder>> forwarders;
  for (const auto& forward : config->forward) {
    auto forwarder = node::PortForwarder::Start({.address = "127.0.0.1", .port = forward.port},
                                                {.address = "127.0.0.1", .port = forward.port, .other_namespace = true},
                                                forward.netns);
    if (!forwarder.ok()) {
      std::cerr << "berth-node: forward of port " << forward.port << ": " << forwarder.status().message() << "\n";
      return 1;
    }
    forwarders.push_back(std::move(*forwarder));
  }
  for (const auto& publish : config->publish) {
    auto forwarder = node::PortForwarder::Start(
        {.address = publish.address, .port = publish.port, .other_namespace = true},
        {.address = publish.target, .port = publish.target_port}, publish.netns);
    if (!forwarder.ok()) {
      std::cerr << "berth-node: publish of " << publish.address << ":" << publish.port << ": "
                << forwarder.status().message() << "\n";
      return 1;
    }
    forwarders.push_back(std::move(*forwarder));
  }
  // The forwarders hold the namespaces open; the files go, so that no workload of
  // the node (a hostPath volume) can reach the host's network namespace through them.
  for (const auto& forward : config->forward) (void)::umount2(forward.netns.c_str(), MNT_DETACH);
  for (const auto& publish : config->publish) (void)::umount2(publish.netns.c_str(), MNT_DETACH);
  if (config->routes) {
    auto credentials = node::ReadKubeconfig(config->routes->kubeconfig);
    if (!credentials.ok()) {
      std::cerr << "berth-node: routes: " << credentials.status().message() << "\n";
      return 1;
    }
    // Runs for the node's life; the process's exit ends it.
    node::RoutePolicy policy{.self = config->routes->node_name, .pod_subnet = config->routes->pod_subnet};
    std::thread([credentials = *credentials, policy] {
      node::RouteTable table;
      std::atomic<bool> stop{false};
      node::WatchNodes(credentials, policy, table, stop);
    }).detach();
  }
  int code = node::Supervisor(*config).Run();
  // _exit, not exit: the watch and forward threads still run, and static destructors
  // and OpenSSL's exit handlers must not run beneath them.
  std::fflush(nullptr);
  ::_exit(code);
}
