// A runtime handler: an OCI runtime binary with runc's command line (berth's own
// berth-runtime, runc or crun), and the shim that runs each of its containers.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/process.h"
#include "pods/records.h"

namespace berth::pods {

class OciRuntime {
 public:
  OciRuntime(std::string name, std::string binary, std::string state_root, std::string shim_binary)
      : name_(std::move(name)), binary_(std::move(binary)), root_(std::move(state_root)),
        shim_(std::move(shim_binary)) {}

  const std::string& name() const { return name_; }
  const std::string& binary() const { return binary_; }

  // What the runtime binary says it supports (`BINARY features`, the OCI features
  // document), asked once; a runtime too old to answer supports none of it.
  struct Features {
    bool recursive_read_only = false;  // the "rro" mount option
  };
  const Features& features();

  // Starts the container's shim, which creates the container (stopped before its
  // process runs). Fills in the record's pid and shim pid.
  Status Create(ContainerRecord& record, const std::string& oom_file);
  Status Start(const std::string& id);
  Status Kill(const std::string& id, int signal);
  // Forgets the container; with force, kills what still runs first.
  Status Delete(const std::string& id, bool force);
  StatusOr<RunResult> Exec(const std::string& id, const nlohmann::json& process, const std::string& scratch_dir,
                           std::chrono::milliseconds timeout);
  Status Update(const std::string& id, const nlohmann::json& resources, const std::string& scratch_dir);

 private:
  Status Run(std::vector<std::string> args, const char* what);

  const std::string name_;
  const std::string binary_;
  const std::string root_;
  const std::string shim_;
  std::once_flag features_once_;
  Features features_;
};

}  // namespace berth::pods
