// nri_roundtrip: what one NRI event costs on the wire alone. Two TtrpcConnections on
// a socket pair in one process, one answering every call at once as the no-op plugin
// does; N CreateContainer-sized calls, timed one by one. bench/nri.sh measures whole
// CRI calls with a plugin; this separates the protocol's share from the scheduling of
// the plugin's process on a busy node.
//   nri_roundtrip [CALLS]
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "nri/api.h"
#include "nri/ttrpc_connection.h"

namespace {

namespace api = berth::nri::api;
using berth::nri::MuxConnection;
using berth::nri::TtrpcConnection;

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 20000;
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return 1;
  TtrpcConnection runtime(berth::UniqueFd(pair[0]), MuxConnection::kPluginService, MuxConnection::kRuntimeService,
                          [](const berth::nri::TtrpcCall&) -> berth::StatusOr<std::string> { return std::string(); });
  TtrpcConnection plugin(berth::UniqueFd(pair[1]), MuxConnection::kRuntimeService, MuxConnection::kPluginService,
                         [](const berth::nri::TtrpcCall&) -> berth::StatusOr<std::string> {
                           return api::CreateContainerResponse().SerializeAsString();
                         });
  // A request the size of a real CreateContainer's: a pod and a container with
  // labels, annotations, mounts and environment.
  api::CreateContainerRequest request;
  request.mutable_pod()->set_id(std::string(64, 'p'));
  request.mutable_pod()->set_name("bench-pod");
  request.mutable_container()->set_id(std::string(64, 'c'));
  for (int i = 0; i < 20; ++i) {
    (*request.mutable_pod()->mutable_labels())["label-" + std::to_string(i)] = "value";
    request.mutable_container()->add_env("VARIABLE_" + std::to_string(i) + "=value");
    auto* mount = request.mutable_container()->add_mounts();
    mount->set_destination("/mnt/" + std::to_string(i));
    mount->set_source("/var/lib/kubelet/pods/x/volumes/" + std::to_string(i));
  }
  const std::string payload = request.SerializeAsString();
  std::vector<double> micros;
  micros.reserve(calls);
  for (int i = 0; i < calls; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto reply = runtime.Call(berth::nri::kPluginService, "CreateContainer", payload, std::chrono::seconds(5));
    auto took = std::chrono::steady_clock::now() - start;
    if (!reply.ok()) {
      std::fprintf(stderr, "call %d: %s\n", i, std::string(reply.status().message()).c_str());
      return 1;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(took).count());
  }
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<size_t>(q * (micros.size() - 1))]; };
  std::printf("%d calls of %zu bytes: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n", calls, payload.size(),
              at(0.5), at(0.9), at(0.99), micros.back());
  runtime.Close();
  plugin.Close();
  return 0;
}
