#include "test/integration/control_plane.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "test/integration/berthd_fixture.h"
#include "test/integration/test_registry.h"

namespace berth::testing {

std::string K8sCache() {
  const char* env = ::getenv("BERTH_K8S_CACHE");
  return env != nullptr && *env != '\0' ? env : BERTH_K8S_CACHE_DEFAULT;
}

bool ControlPlane::Available(std::string* missing) {
  for (const char* name : {"etcd", "kube-apiserver", "kubectl"}) {
    std::string path = K8sCache() + "/bin/" + name;
    if (::access(path.c_str(), X_OK) != 0) {
      *missing = absl::StrCat("no ", name, " at ", path, ": `./dev.sh test-k8s` (or test/k8s/build.sh ", name,
                              ") builds it");
      return false;
    }
  }
  return true;
}

void ControlPlane::Start(const std::string& dir) {
  dir_ = dir;
  ASSERT_TRUE(MakeDirs(dir_ + "/etcd", 0700).ok());
  auto client = PickFreePort(), peer = PickFreePort(), api = PickFreePort();
  ASSERT_TRUE(client.ok() && peer.ok() && api.ok());
  std::string etcd_url = absl::StrCat("http://127.0.0.1:", *client);
  std::string peer_url = absl::StrCat("http://127.0.0.1:", *peer);
  etcd_pid_ = SpawnLogged(K8sCache() + "/bin/etcd",
                          {"--data-dir", dir_ + "/etcd", "--name", "berth-test", "--listen-client-urls", etcd_url,
                           "--advertise-client-urls", etcd_url, "--listen-peer-urls", peer_url,
                           "--initial-advertise-peer-urls", peer_url, "--initial-cluster",
                           "berth-test=" + peer_url, "--listen-metrics-urls", ""},
                          dir_ + "/etcd.log");
  ASSERT_GT(etcd_pid_, 0);
  auto key = RunProcess({"/usr/bin/openssl", "genrsa", "-out", dir_ + "/sa.key", "2048"}, {});
  ASSERT_TRUE(key.ok() && key->exit_code == 0) << (key.ok() ? key->err : key.status().ToString());
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/tokens.csv", "berth-test-token,admin,admin,system:masters\n").ok());
  api_port_ = *api;
  apiserver_pid_ = SpawnLogged(
      K8sCache() + "/bin/kube-apiserver",
      {"--etcd-servers", etcd_url, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
       "--secure-port", absl::StrCat(api_port_), "--cert-dir", dir_ + "/pki", "--token-auth-file",
       dir_ + "/tokens.csv", "--authorization-mode", "AlwaysAllow", "--service-account-key-file", dir_ + "/sa.key",
       "--service-account-signing-key-file", dir_ + "/sa.key", "--service-account-issuer",
       "https://kubernetes.default.svc", "--service-cluster-ip-range", "10.96.0.0/24",
       "--disable-admission-plugins", "ServiceAccount", "--endpoint-reconciler-type", "none"},
      dir_ + "/apiserver.log");
  ASSERT_GT(apiserver_pid_, 0);
  kubeconfig_ = dir_ + "/kubeconfig";
  ASSERT_TRUE(WriteFileAtomically(kubeconfig_, absl::StrCat(
      "apiVersion: v1\nkind: Config\n"
      "clusters: [{name: berth, cluster: {server: 'https://127.0.0.1:", api_port_,
      "', insecure-skip-tls-verify: true}}]\n"
      "users: [{name: admin, user: {token: berth-test-token}}]\n"
      "contexts: [{name: berth, context: {cluster: berth, user: admin}}]\n"
      "current-context: berth\n")).ok());
  // Ready once /readyz says so: etcd reached, the built-in objects made.
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
       std::chrono::steady_clock::now() < deadline;) {
    if (Kubectl({"get", "--raw", "/readyz"}).exit_code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ADD_FAILURE() << "kube-apiserver not ready within 2 minutes:\n" << ReadFile(dir_ + "/apiserver.log").value_or("");
}

RunResult ControlPlane::Kubectl(std::vector<std::string> args) {
  args.insert(args.begin(), {K8sCache() + "/bin/kubectl", "--kubeconfig", kubeconfig_});
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  return RunProcess(args, options).value_or(RunResult{});
}

void ControlPlane::Stop() {
  for (pid_t* pid : {&apiserver_pid_, &etcd_pid_}) {
    if (*pid <= 0) continue;
    ::kill(*pid, SIGTERM);
    WaitForChildExit(*pid, std::chrono::seconds(30));
    *pid = -1;
  }
}

}  // namespace berth::testing
