// etcd and kube-apiserver on loopback, for the tests that need the Kubernetes API
// (kubectl's resize subresource): a static admin token, AlwaysAllow, no admission
// plugin that needs a controller (the ServiceAccount one), the kubernetes service's
// endpoints left alone, all state under one directory. Pods name their node, so no
// scheduler is needed. The binaries come from the cache test/k8s/build.sh fills.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/process.h"

namespace berth::testing {

// Where test/k8s/build.sh puts Kubernetes binaries: $BERTH_K8S_CACHE, or the
// build's default.
std::string K8sCache();

class ControlPlane {
 public:
  // Whether etcd, kube-apiserver and kubectl are in the cache; missing says how to
  // build the first one that is not.
  static bool Available(std::string* missing);

  ControlPlane() = default;
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;
  ~ControlPlane() { Stop(); }

  // Starts both under dir and waits until the API server is ready (fails the test
  // otherwise).
  void Start(const std::string& dir);
  // kubectl with this control plane's kubeconfig.
  RunResult Kubectl(std::vector<std::string> args);
  // SIGTERM to each, and waits; stopping twice is fine.
  void Stop();

  const std::string& kubeconfig() const { return kubeconfig_; }

 private:
  std::string dir_;
  std::string kubeconfig_;
  int api_port_ = 0;
  pid_t etcd_pid_ = -1;
  pid_t apiserver_pid_ = -1;
};

}  // namespace berth::testing
