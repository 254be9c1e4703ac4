// nri_noop_plugin: an NRI plugin that subscribes to every event and answers each at
// once with nothing, for bench/nri.sh to measure what hosting one costs per event.
// Launched by berthd from nri.plugin_path (its socket as fd NRI_PLUGIN_SOCKET), or
// given a socket path to connect to as its only argument.
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "base/unix_socket.h"
#include "nri/api.h"
#include "nri/ttrpc_connection.h"

namespace {

using berth::StatusOr;
namespace api = berth::nri::api;

StatusOr<std::string> Answer(const berth::nri::TtrpcCall& call) {
  if (call.method == "Configure") return api::ConfigureResponse().SerializeAsString();  // events 0: all
  if (call.method == "Synchronize") return api::SynchronizeResponse().SerializeAsString();
  if (call.method == "CreateContainer") return api::CreateContainerResponse().SerializeAsString();
  if (call.method == "UpdateContainer") return api::UpdateContainerResponse().SerializeAsString();
  if (call.method == "StopContainer") return api::StopContainerResponse().SerializeAsString();
  // Every other reply is an empty message, whose bytes are none.
  return std::string();
}

}  // namespace

int main(int argc, char** argv) {
  berth::UniqueFd socket;
  if (argc > 1) {
    auto connected = berth::ConnectUnix(argv[1]);
    if (!connected.ok()) {
      std::cerr << "nri_noop_plugin: " << connected.status() << "\n";
      return 1;
    }
    socket = std::move(*connected);
  } else if (const char* fd = std::getenv("NRI_PLUGIN_SOCKET")) {
    socket = berth::UniqueFd(std::atoi(fd));
  } else {
    std::cerr << "usage: nri_noop_plugin SOCKET (or launched by berthd with NRI_PLUGIN_SOCKET)\n";
    return 2;
  }
  std::mutex mu;
  std::condition_variable closed_cv;
  bool closed = false;
  berth::nri::TtrpcConnection connection(std::move(socket), berth::nri::MuxConnection::kRuntimeService,
                                         berth::nri::MuxConnection::kPluginService, Answer);
  connection.set_on_closed([&](const std::string&) {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    closed_cv.notify_all();
  });
  api::RegisterPluginRequest request;
  const char* name = std::getenv("NRI_PLUGIN_NAME");
  const char* index = std::getenv("NRI_PLUGIN_IDX");
  request.set_plugin_name(name ? name : "noop");
  request.set_plugin_idx(index ? index : "10");
  request.set_nri_version(berth::nri::kNriVersion);
  auto registered = connection.Call(berth::nri::kRuntimeService, "RegisterPlugin", request.SerializeAsString(),
                                    std::chrono::seconds(10));
  if (!registered.ok()) {
    std::cerr << "nri_noop_plugin: register: " << registered.status() << "\n";
    return 1;
  }
  std::unique_lock<std::mutex> lock(mu);
  closed_cv.wait(lock, [&] { return closed; });
  return 0;
}
