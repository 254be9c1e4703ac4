// The runtime handler of an OCI runtime binary with runc's command line (berth's
// own berth-runtime, runc or crun), each container under a berth-shim.
#pragma once

#include <mutex>
#include <string>

#include "pods/runtime_handler.h"
#include "pods/shim/protocol.h"

namespace berth::pods {

class OciRuntime : public RuntimeHandler {
 public:
  // name is the handler's name; runtime says which runtime the binary is ("berth",
  // "runc" or "crun"), as a handler named by the operator runs one of these.
  OciRuntime(std::string name, std::string runtime, std::string binary, std::string state_root,
             std::string shim_binary)
      : name_(std::move(name)), runtime_(std::move(runtime)), binary_(std::move(binary)),
        root_(std::move(state_root)), shim_(std::move(shim_binary)) {}

  const std::string& name() const override { return name_; }
  // What `BINARY features` says, asked once; a runtime too old to answer supports
  // none of it.
  const Features& features() override;
  Status Create(ContainerRecord& record, const runtime::Spec& spec, const std::string& oom_file) override;
  StatusOr<runtime::Spec> ReadSpec(const ContainerRecord& record) override;
  Status Start(const std::string& id) override;
  StatusOr<std::string> State(const std::string& id) override;
  Status Kill(const std::string& id, int signal) override;
  Status Delete(const std::string& id, bool force) override;
  StatusOr<RunResult> Exec(const std::string& id, const runtime::Process& process, const std::string& scratch_dir,
                           std::chrono::milliseconds timeout) override;
  Status Update(const std::string& id, const cgroups::Resources& resources, const std::string& scratch_dir) override;
  StatusOr<ExecChild> StartExec(const std::string& id, const runtime::Process& process,
                                const std::string& scratch_dir, bool with_stdin) override;
  Status Pause(const std::string& id) override { return Run({"pause", id}, "pause"); }
  Status Resume(const std::string& id) override { return Run({"resume", id}, "resume"); }
  Status Checkpoint(const std::string& id, const CriuRequest& request, std::chrono::seconds timeout) override;
  Status PrepareRestore(const ContainerRecord& record, const runtime::Spec& spec) override;
  Status Restore(ContainerRecord& record, const std::string& oom_file, const CriuRequest& request) override;

 private:
  // The options of the container's shim, for a create or a restore.
  shim::ShimOptions ShimFor(const ContainerRecord& record, const std::string& oom_file) const;
  // Starts the shim and fills in the record's pids from its answer.
  Status StartShim(ContainerRecord& record, const shim::ShimOptions& options, absl::string_view what);
  // A scratch directory of its own for one exec, with the process written in it.
  StatusOr<std::string> WriteExecProcess(const runtime::Process& process, const std::string& scratch_dir);
  Status Run(std::vector<std::string> args, const char* what);

  const std::string name_;
  const std::string runtime_;
  const std::string binary_;
  const std::string root_;
  const std::string shim_;
  std::once_flag features_once_;
  Features features_;
};

}  // namespace berth::pods
