#include "nri/plugin.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "base/process.h"

namespace berth::nri {
namespace {

Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 128) return absl::InvalidArgumentError("plugin name is empty or too long");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '+';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("plugin name \"", name, "\" has a character not in [a-zA-Z0-9_.+-]"));
    }
  }
  return absl::OkStatus();
}

Status CheckIndex(const std::string& index) {
  if (index.size() != 2 || index[0] < '0' || index[0] > '9' || index[1] < '0' || index[1] > '9') {
    return absl::InvalidArgumentError(absl::StrCat("plugin index \"", index, "\" is not two digits"));
  }
  return absl::OkStatus();
}

}  // namespace

Plugin::Plugin(UniqueFd socket, std::optional<Launched> launched,
               std::function<StatusOr<std::string>(Plugin&, const TtrpcCall&)> serve) {
  if (launched) {
    launched_pid_ = launched->pid;
    config_ = launched->config;
    name_ = launched->name;
    index_ = launched->index;
  }
  connection_ = std::make_unique<TtrpcConnection>(
      std::move(socket), MuxConnection::kPluginService, MuxConnection::kRuntimeService,
      [this, serve = std::move(serve)](const TtrpcCall& call) { return serve(*this, call); });
  // A plugin that leaves before it registers ends the wait for it at once.
  connection_->set_on_closed([this](const std::string&) {
    std::lock_guard<std::mutex> lock(mu_);
    registered_cv_.notify_all();
  });
}

void Plugin::Abort(const std::string& why) {
  connection_->Abort(why);
  std::lock_guard<std::mutex> lock(mu_);
  registered_cv_.notify_all();
}

Plugin::~Plugin() { Close(); }

void Plugin::Close() {
  connection_->Close();
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    registered_cv_.notify_all();
    pid = std::exchange(launched_pid_, -1);
  }
  if (pid > 0) {
    // A plugin berthd started ends with its connection; it gets a moment to go.
    uint64_t start_time = ProcessStartTime(pid);
    ::kill(pid, SIGTERM);
    if (!WaitForProcessExit(pid, start_time, std::chrono::seconds(2))) ::kill(pid, SIGKILL);
    (void)WaitChild(pid);
  }
}

Status Plugin::Register(const api::RegisterPluginRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  if (registration_) return absl::FailedPreconditionError("plugin registered already");
  Status checked = CheckName(request.plugin_name());
  if (checked.ok()) checked = CheckIndex(request.plugin_idx());
  if (checked.ok() && launched_pid_ <= 0) {
    name_ = request.plugin_name();
    index_ = request.plugin_idx();
  }
  registration_ = checked;
  registered_cv_.notify_all();
  return checked;
}

Status Plugin::AwaitRegistration(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!registered_cv_.wait_for(lock, timeout, [&] { return registration_.has_value() || !connection_->open(); })) {
    return absl::DeadlineExceededError(absl::StrCat("plugin did not register within ", timeout.count(), " ms"));
  }
  if (!registration_) return absl::UnavailableError("plugin left before it registered");
  return *registration_;
}

StatusOr<std::string> Plugin::Call(const std::string& method, const google::protobuf::Message& request,
                                   std::chrono::milliseconds timeout) {
  return connection_->Call(kPluginService, method, request.SerializeAsString(), timeout);
}

bool Plugin::IsFatal(const Status& status) {
  return status.code() == StatusCode::kDeadlineExceeded || status.code() == StatusCode::kUnavailable;
}

std::string Plugin::id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return absl::StrCat(index_.empty() ? "??" : index_, "-", name_.empty() ? "plugin" : name_);
}

std::string Plugin::index() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_;
}

}  // namespace berth::nri
