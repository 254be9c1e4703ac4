// One NRI plugin as the host sees it: its connection, who it says it is, and what
// it subscribed to. Launched plugins also carry the process berthd started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "nri/api.h"
#include "nri/ttrpc_connection.h"

namespace berth::nri {

class Plugin {
 public:
  // A plugin that connected to the socket: it says its name and index when it
  // registers. A launched one is named by its file (NN-name) before that.
  struct Launched {
    std::string name;
    std::string index;
    std::string config;
    pid_t pid = 0;
  };
  Plugin(UniqueFd socket, std::optional<Launched> launched,
         std::function<StatusOr<std::string>(Plugin&, const TtrpcCall&)> serve);
  ~Plugin();

  // Waits for RegisterPlugin: the name and index it gave, checked.
  Status AwaitRegistration(std::chrono::milliseconds timeout);
  // Called by the host's handler of RegisterPlugin.
  Status Register(const api::RegisterPluginRequest& request);

  // A call on the plugin's service: the reply's bytes, or the plugin's status.
  StatusOr<std::string> Call(const std::string& method, const google::protobuf::Message& request,
                             std::chrono::milliseconds timeout);
  // Whether an error means the plugin is unusable (did not answer in time, the
  // connection ended, the protocol broke) rather than a refusal it meant.
  static bool IsFatal(const Status& status);

  // Ends the connection and, for a launched plugin, its process; waits for both.
  void Close();
  // Ends the connection at once; Close (or the destructor) waits for the rest.
  void Abort(const std::string& why);
  bool open() const { return connection_->open(); }

  // "NN-name", as logs and errors name it.
  std::string id() const;
  std::string index() const;
  const std::string& config() const { return config_; }

  uint32_t events = 0;  // set by Configure, read after

 private:
  std::unique_ptr<TtrpcConnection> connection_;
  pid_t launched_pid_ = 0;
  std::string config_;

  mutable std::mutex mu_;
  std::condition_variable registered_cv_;
  std::optional<Status> registration_;  // set once RegisterPlugin came
  std::string name_;
  std::string index_;
};

}  // namespace berth::nri
