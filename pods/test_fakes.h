// Fakes of what Lifecycle reaches the host through (LifecycleParts), for unit tests
// that run without root. Each fake notes what it has made and not yet undone in a
// shared Ledger, and fails the step the test names.
#pragma once

#include <unistd.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "base/process.h"
#include "network/pod_network.h"
#include "pods/container_rootfs.h"
#include "pods/runtime_handler.h"
#include "pods/sandbox_host.h"

namespace berth::pods::fakes {

// The steps taken, in order, and what is held (made and not undone).
struct Ledger {
  std::vector<std::string> steps;
  std::multiset<std::string> held;
  std::string fail_at;  // a step name; that step fails

  Status Step(const std::string& name) {
    steps.push_back(name);
    if (name == fail_at) return absl::UnavailableError("step \"" + name + "\" fails, as the test asked");
    return absl::OkStatus();
  }
  void Hold(const std::string& what) { held.insert(what); }
  void Release(const std::string& what) {
    auto it = held.find(what);
    if (it != held.end()) held.erase(it);
  }
};

class FakePodNetwork : public network::PodNetwork {
 public:
  explicit FakePodNetwork(Ledger* ledger = nullptr) : ledger_(ledger) {}

  StatusOr<network::Attachment> Attach(const network::PodNetworkRequest& request) override {
    requests.push_back(request);
    if (ledger_) RETURN_IF_ERROR(ledger_->Step("network attach"));
    if (!attach_error.ok()) return attach_error;
    cached.insert(request.pod_id);
    if (ledger_) ledger_->Hold("network " + request.pod_id);
    network::Attachment attachment;
    attachment.ips = {"10.1.0.7"};
    return attachment;
  }
  Status Check(const std::string& pod_id) override {
    std::lock_guard<std::mutex> lock(mu);
    checked.insert(pod_id);
    auto it = check_errors.find(pod_id);
    return it == check_errors.end() ? absl::OkStatus() : it->second;
  }
  network::AttachmentProbe Probe(const std::string& pod_id) const override {
    auto it = probes.find(pod_id);
    return it == probes.end() ? network::AttachmentProbe{network::AttachmentState::kPresent, ""} : it->second;
  }
  Status Detach(const std::string& pod_id) override {
    detached.push_back(pod_id);
    if (!detach_error.ok()) return detach_error;
    if (ledger_ && cached.count(pod_id)) ledger_->Release("network " + pod_id);
    cached.erase(pod_id);
    return absl::OkStatus();
  }
  std::vector<std::string> CachedPods() const override { return {cached.begin(), cached.end()}; }

  Status attach_error;
  Status detach_error;
  std::vector<network::PodNetworkRequest> requests;
  std::vector<std::string> detached;
  std::set<std::string> cached;
  std::map<std::string, network::AttachmentProbe> probes;
  std::map<std::string, Status> check_errors;
  std::mutex mu;  // CHECKs run side by side
  std::set<std::string> checked;

 private:
  Ledger* ledger_;
};

// Namespaces are "pinned" as plain files, so that the pod directory is what the
// real host would leave.
class FakeSandboxHost : public SandboxHost {
 public:
  explicit FakeSandboxHost(Ledger* ledger) : ledger_(ledger) {}

  StatusOr<PinnedNamespaces> PinNamespaces(const std::string& dir, const NamespaceRequest& request) override {
    RETURN_IF_ERROR(MakeDirs(dir, 0711));
    RETURN_IF_ERROR(ledger_->Step("pin namespaces"));
    PinnedNamespaces pinned;
    bool user = request.userns.mode == NamespaceMode::kPod;
    for (auto [wanted, kind, path] : {std::tuple{user, "user", &pinned.user},
                                      std::tuple{request.net, "net", &pinned.net},
                                      std::tuple{request.ipc, "ipc", &pinned.ipc},
                                      std::tuple{request.uts, "uts", &pinned.uts}}) {
      if (!wanted) continue;
      *path = dir + "/" + kind;
      RETURN_IF_ERROR(WriteFileAtomically(*path, "", 0444, Durability::kCrash));
      ledger_->Hold("namespace " + *path);
    }
    return pinned;
  }
  Status UnpinNamespace(const std::string& path) override {
    if (path.empty()) return absl::OkStatus();
    ledger_->Release("namespace " + path);
    ::unlink(path.c_str());
    return absl::OkStatus();
  }
  Status MountShm(const std::string& path) override {
    RETURN_IF_ERROR(ledger_->Step("mount shm"));
    RETURN_IF_ERROR(MakeDirs(path, 01777));
    ledger_->Hold("shm " + path);
    return absl::OkStatus();
  }
  Status UnmountShm(const std::string& path) override {
    if (!path.empty()) ledger_->Release("shm " + path);
    return absl::OkStatus();
  }
  StatusOr<PodInit> StartPodInit(const std::string&, const std::string&) override {
    RETURN_IF_ERROR(ledger_->Step("start pod init"));
    ledger_->Hold("pod init");
    return PodInit{::getpid(), ProcessStartTime(::getpid())};
  }
  void StopPodInit(const PodInit&) override { ledger_->Release("pod init"); }

 private:
  Ledger* ledger_;
};

class FakeRootfs : public ContainerRootfs {
 public:
  FakeRootfs(Ledger* ledger, image::ImageRecord image) : ledger_(ledger), image_(std::move(image)) {}

  StatusOr<image::ImageRecord> FindImage(absl::string_view ref_or_id) override {
    RETURN_IF_ERROR(ledger_->Step("find image"));
    bool named = ref_or_id == image_.id;
    for (const auto& tag : image_.repo_tags) named |= tag == ref_or_id;
    if (!named) return absl::NotFoundError("no such image");
    return image_;
  }
  Status Mount(const std::string& container_id, const image::ImageRecord&, const std::string&,
               const UserNamespaceSpec&, const std::string&) override {
    RETURN_IF_ERROR(ledger_->Step("mount rootfs"));
    ledger_->Hold("rootfs " + container_id);
    return absl::OkStatus();
  }
  Status Remove(const std::string& container_id, const std::string&) override {
    ledger_->Release("rootfs " + container_id);
    return absl::OkStatus();
  }
  bool SupportsIdmappedMounts() override { return true; }
  Status MountImage(const image::ImageRecord&, const std::string& holder, const std::string&) override {
    RETURN_IF_ERROR(ledger_->Step("mount image volume"));
    ledger_->Hold("image volume " + holder);
    return absl::OkStatus();
  }
  Status ReleaseImage(const std::string& holder) override {
    ledger_->Release("image volume " + holder);
    return absl::OkStatus();
  }

 private:
  Ledger* ledger_;
  image::ImageRecord image_;
};

// A handler whose containers "run" as the test process itself: alive for as long as
// the test looks.
class FakeRuntimeHandler : public RuntimeHandler {
 public:
  explicit FakeRuntimeHandler(Ledger* ledger) : ledger_(ledger) {}

  const std::string& name() const override { return name_; }
  const Features& features() override { return features_; }
  Status Create(ContainerRecord& record, const runtime::Spec& spec, const std::string&) override {
    RETURN_IF_ERROR(ledger_->Step("runtime create"));
    specs[record.id] = spec;
    record.pid = record.shim_pid = ::getpid();
    record.pid_start_time = record.shim_start_time = ProcessStartTime(::getpid());
    ledger_->Hold("container " + record.id);
    return absl::OkStatus();
  }
  StatusOr<runtime::Spec> ReadSpec(const ContainerRecord& record) override {
    auto it = specs.find(record.id);
    if (it == specs.end()) return absl::NotFoundError("no spec");
    return it->second;
  }
  Status Start(const std::string&) override { return ledger_->Step("runtime start"); }
  StatusOr<std::string> State(const std::string&) override { return std::string("created"); }
  Status Kill(const std::string&, int) override { return absl::OkStatus(); }
  Status Delete(const std::string& id, bool) override {
    ledger_->Release("container " + id);
    return absl::OkStatus();
  }
  StatusOr<RunResult> Exec(const std::string&, const runtime::Process&, const std::string&,
                           std::chrono::milliseconds) override {
    return RunResult{};
  }
  Status Update(const std::string&, const cgroups::Resources& resources, const std::string&) override {
    updates.push_back(resources);
    return absl::OkStatus();
  }
  StatusOr<ExecChild> StartExec(const std::string&, const runtime::Process&, const std::string&, bool) override {
    return absl::UnimplementedError("the fake runs no processes");
  }
  Status Pause(const std::string&) override { return absl::OkStatus(); }
  Status Resume(const std::string&) override { return absl::OkStatus(); }
  Status Checkpoint(const std::string&, const CriuRequest&, std::chrono::seconds) override {
    return absl::UnimplementedError("the fake has no CRIU");
  }
  Status PrepareRestore(const ContainerRecord&, const runtime::Spec&) override {
    return absl::UnimplementedError("the fake has no CRIU");
  }
  Status Restore(ContainerRecord&, const std::string&, const CriuRequest&) override {
    return absl::UnimplementedError("the fake has no CRIU");
  }

  std::map<std::string, runtime::Spec> specs;
  std::vector<cgroups::Resources> updates;

 private:
  Ledger* ledger_;
  const std::string name_ = "fake";
  Features features_;
};

}  // namespace berth::pods::fakes
