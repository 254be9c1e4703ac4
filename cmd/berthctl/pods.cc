// berthctl's pod and container commands: runp, create, start, stop, rm, stopp, rmp,
// ps, pods, logs, exec, attach, inspect, inspectp.
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/unique_fd.h"
#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cmd/berthctl/stream_session.h"
#include "cri/client.h"

namespace po = boost::program_options;

namespace berth::ctl {
namespace {

// Reads a CRI config (JSON, or YAML converted to JSON) into message.
bool ReadConfig(const std::string& path, google::protobuf::Message* message) {
  auto data = ReadFile(path);
  if (!data.ok()) {
    std::cerr << "berthctl: " << data.status().message() << "\n";
    return false;
  }
  std::string json = *data;
  if (!json.empty() && json.find_first_not_of(" \t\r\n") != std::string::npos &&
      json[json.find_first_not_of(" \t\r\n")] != '{') {
    try {
      YAML::Node node = YAML::Load(json);
      YAML::Emitter out;
      out << YAML::DoubleQuoted << YAML::Flow << node;
      json = out.c_str();
    } catch (const YAML::Exception& e) {
      std::cerr << "berthctl: " << path << ": " << e.what() << "\n";
      return false;
    }
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    std::cerr << "berthctl: " << path << ": " << status.ToString() << "\n";
    return false;
  }
  return true;
}

std::string Ago(int64_t nanos) {
  if (nanos <= 0) return "";
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t seconds = (now - nanos) / 1000000000;
  if (seconds < 60) return absl::StrFormat("%ds ago", seconds);
  if (seconds < 3600) return absl::StrFormat("%dm ago", seconds / 60);
  return absl::StrFormat("%dh ago", seconds / 3600);
}

}  // namespace

int RunRunPod(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("runtime", po::value<std::string>()->default_value(""), "runtime handler (RuntimeClass)");
  if (int rc = ParseCommand({"runp", "runp POD_CONFIG(.json|.yaml)", "Runs a pod sandbox", 1, 1}, args, o, &p);
      rc >= 0) {
    return rc;
  }
  ::runtime::v1::RunPodSandboxRequest request;
  if (!ReadConfig(p.positional[0], request.mutable_config())) return 1;
  request.set_runtime_handler(p.flags["runtime"].as<std::string>());
  ::runtime::v1::RunPodSandboxResponse response;
  cri::CriClient client(global.endpoint);
  auto status = client.runtime().RunPodSandbox(cri::CriClient::Context(global.timeout).get(), request, &response);
  if (!status.ok()) return ReportRpcError("RunPodSandbox", status);
  std::cout << response.pod_sandbox_id() << "\n";
  return 0;
}

int RunCreate(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  if (int rc = ParseCommand(
          {"create", "create POD_ID CONTAINER_CONFIG POD_CONFIG", "Creates a container in a pod", 3, 3}, args, {}, &p);
      rc >= 0) {
    return rc;
  }
  ::runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(p.positional[0]);
  if (!ReadConfig(p.positional[1], request.mutable_config())) return 1;
  if (!ReadConfig(p.positional[2], request.mutable_sandbox_config())) return 1;
  ::runtime::v1::CreateContainerResponse response;
  cri::CriClient client(global.endpoint);
  auto status = client.runtime().CreateContainer(cri::CriClient::Context(global.timeout).get(), request, &response);
  if (!status.ok()) return ReportRpcError("CreateContainer", status);
  std::cout << response.container_id() << "\n";
  return 0;
}

// start, stop, rm, stopp, rmp: one RPC per id.
int RunForEachId(const GlobalOptions& global, const std::vector<std::string>& args) {
  const std::string& name = args[0];
  CommandLine p;
  po::options_description o("Flags");
  if (name == "stop") o.add_options()("timeout", po::value<int64_t>()->default_value(10), "seconds before SIGKILL");
  if (int rc = ParseCommand({name, name + " ID...", "", 1}, args, o, &p); rc >= 0) {
    return rc;
  }
  cri::CriClient client(global.endpoint);
  int rc = 0;
  for (const auto& id : p.positional) {
    auto ctx = cri::CriClient::Context(global.timeout + std::chrono::seconds(60));
    grpc::Status status;
    const char* rpc = "";
    if (name == "start") {
      rpc = "StartContainer";
      ::runtime::v1::StartContainerRequest r;
      r.set_container_id(id);
      ::runtime::v1::StartContainerResponse out;
      status = client.runtime().StartContainer(ctx.get(), r, &out);
    } else if (name == "stop") {
      rpc = "StopContainer";
      ::runtime::v1::StopContainerRequest r;
      r.set_container_id(id);
      r.set_timeout(p.flags["timeout"].as<int64_t>());
      ::runtime::v1::StopContainerResponse out;
      status = client.runtime().StopContainer(ctx.get(), r, &out);
    } else if (name == "rm") {
      rpc = "RemoveContainer";
      ::runtime::v1::RemoveContainerRequest r;
      r.set_container_id(id);
      ::runtime::v1::RemoveContainerResponse out;
      status = client.runtime().RemoveContainer(ctx.get(), r, &out);
    } else if (name == "stopp") {
      rpc = "StopPodSandbox";
      ::runtime::v1::StopPodSandboxRequest r;
      r.set_pod_sandbox_id(id);
      ::runtime::v1::StopPodSandboxResponse out;
      status = client.runtime().StopPodSandbox(ctx.get(), r, &out);
    } else {
      rpc = "RemovePodSandbox";
      ::runtime::v1::RemovePodSandboxRequest r;
      r.set_pod_sandbox_id(id);
      ::runtime::v1::RemovePodSandboxResponse out;
      status = client.runtime().RemovePodSandbox(ctx.get(), r, &out);
    }
    if (!status.ok()) {
      rc = ReportRpcError(rpc, status);
      continue;
    }
    std::cout << id << "\n";
  }
  return rc;
}

int RunPs(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("all,a", "include exited containers")("pod,p", po::value<std::string>(), "only this pod's")(
      "quiet,q", "print ids only");
  AddOutputFlag(o, /*table=*/true);
  if (int rc = ParseCommand({"ps", "ps [-a] [-p POD] [-q] [-o json|yaml|table]", "Lists containers", 0, 0}, args, o, &p);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag(args[0], p, /*table=*/true, &format)) return 2;
  ::runtime::v1::ListContainersRequest request;
  if (p.flags.count("pod")) request.mutable_filter()->set_pod_sandbox_id(p.flags["pod"].as<std::string>());
  if (!p.flags.count("all")) request.mutable_filter()->mutable_state()->set_state(::runtime::v1::CONTAINER_RUNNING);
  ::runtime::v1::ListContainersResponse response;
  cri::CriClient client(global.endpoint);
  auto status = client.runtime().ListContainers(cri::CriClient::Context(global.timeout).get(), request, &response);
  if (!status.ok()) return ReportRpcError("ListContainers", status);
  if (p.flags.count("quiet")) {
    for (const auto& c : response.containers()) std::cout << c.id() << "\n";
    return 0;
  }
  if (PrintStructured(response, format)) return 0;
  std::vector<std::vector<std::string>> rows = {{"CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID"}};
  for (const auto& c : response.containers()) {
    std::string state = ::runtime::v1::ContainerState_Name(c.state());
    rows.push_back({ShortId(c.id()), c.image().image(), Ago(c.created_at()), state.substr(state.find('_') + 1),
                    c.metadata().name(), std::to_string(c.metadata().attempt()), ShortId(c.pod_sandbox_id())});
  }
  PrintTable(rows);
  return 0;
}

int RunPods(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("quiet,q", "print ids only");
  AddOutputFlag(o, /*table=*/true);
  if (int rc = ParseCommand({"pods", "pods [-q] [-o json|yaml|table]", "Lists pod sandboxes", 0, 0}, args, o, &p);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag(args[0], p, /*table=*/true, &format)) return 2;
  ::runtime::v1::ListPodSandboxResponse response;
  cri::CriClient client(global.endpoint);
  auto status = client.runtime().ListPodSandbox(cri::CriClient::Context(global.timeout).get(), {}, &response);
  if (!status.ok()) return ReportRpcError("ListPodSandbox", status);
  if (p.flags.count("quiet")) {
    for (const auto& pod : response.items()) std::cout << pod.id() << "\n";
    return 0;
  }
  if (PrintStructured(response, format)) return 0;
  std::vector<std::vector<std::string>> rows = {{"POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"}};
  for (const auto& pod : response.items()) {
    rows.push_back({ShortId(pod.id()), Ago(pod.created_at()),
                    pod.state() == ::runtime::v1::SANDBOX_READY ? "Ready" : "NotReady", pod.metadata().name(),
                    pod.metadata().namespace_(), std::to_string(pod.metadata().attempt()),
                    pod.runtime_handler().empty() ? "(default)" : pod.runtime_handler()});
  }
  PrintTable(rows);
  return 0;
}

int RunInspect(const GlobalOptions& global, const std::vector<std::string>& args) {
  const bool pod = args[0] == "inspectp";
  CommandLine p;
  po::options_description o("Flags");
  AddOutputFlag(o, /*table=*/false);
  if (int rc = ParseCommand({args[0], pod ? "inspectp POD_ID..." : "inspect CONTAINER_ID...", "", 1}, args, o, &p);
      rc >= 0) {
    return rc;
  }
  OutputFormat format;
  if (!ReadOutputFlag(args[0], p, /*table=*/false, &format)) return 2;
  cri::CriClient client(global.endpoint);
  int rc = 0;
  for (const auto& id : p.positional) {
    auto ctx = cri::CriClient::Context(global.timeout);
    if (pod) {
      ::runtime::v1::PodSandboxStatusRequest r;
      r.set_pod_sandbox_id(id);
      r.set_verbose(true);
      ::runtime::v1::PodSandboxStatusResponse out;
      auto status = client.runtime().PodSandboxStatus(ctx.get(), r, &out);
      if (!status.ok()) {
        rc = ReportRpcError("PodSandboxStatus", status);
        continue;
      }
      PrintWithInfo(out.status(), out.info(), format);
    } else {
      ::runtime::v1::ContainerStatusRequest r;
      r.set_container_id(id);
      r.set_verbose(true);
      ::runtime::v1::ContainerStatusResponse out;
      auto status = client.runtime().ContainerStatus(ctx.get(), r, &out);
      if (!status.ok()) {
        rc = ReportRpcError("ContainerStatus", status);
        continue;
      }
      PrintWithInfo(out.status(), out.info(), format);
    }
  }
  return rc;
}

int RunLogs(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("follow,f", "keep printing as the container writes")("timestamps,t", "show timestamps");
  if (int rc = ParseCommand({"logs", "logs [-f] [-t] CONTAINER_ID", "Prints a container's log", 1, 1}, args, o, &p);
      rc >= 0) {
    return rc;
  }
  cri::CriClient client(global.endpoint);
  auto status_of = [&](::runtime::v1::ContainerStatusResponse* out) {
    ::runtime::v1::ContainerStatusRequest r;
    r.set_container_id(p.positional[0]);
    return client.runtime().ContainerStatus(cri::CriClient::Context(global.timeout).get(), r, out);
  };
  ::runtime::v1::ContainerStatusResponse response;
  auto status = status_of(&response);
  if (!status.ok()) return ReportRpcError("ContainerStatus", status);
  const std::string path = response.status().log_path();
  if (path.empty()) {
    std::cerr << "berthctl logs: the container has no log file\n";
    return 1;
  }
  bool timestamps = p.flags.count("timestamps") > 0;
  bool follow = p.flags.count("follow") > 0;
  UniqueFd notify;
  if (follow) {
    notify.Reset(::inotify_init1(IN_CLOEXEC));
    ::inotify_add_watch(notify.get(), path.c_str(), IN_MODIFY);
  }
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) {
    std::cerr << "berthctl logs: cannot open " << path << "\n";
    return 1;
  }
  std::string pending;
  char buf[65536];
  for (;;) {
    ssize_t n;
    while ((n = ::read(file.get(), buf, sizeof buf)) > 0) {
      pending.append(buf, static_cast<size_t>(n));
      size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        // "TIMESTAMP STREAM TAG message": partial records (P) continue on the next one.
        std::vector<std::string> parts = absl::StrSplit(pending.substr(0, newline), absl::MaxSplits(' ', 3));
        pending.erase(0, newline + 1);
        if (parts.size() < 4) continue;
        std::ostream& out = parts[1] == "stderr" ? std::cerr : std::cout;
        if (timestamps) out << parts[0] << " ";
        out << parts[3] << (parts[2] == "P" ? "" : "\n");
      }
    }
    std::cout.flush();
    if (!follow) return 0;
    // Until the container exits, wait for the shim to write more.
    ::runtime::v1::ContainerStatusResponse now;
    if (!status_of(&now).ok() || now.status().state() == ::runtime::v1::CONTAINER_EXITED) return 0;
    pollfd pfd{notify.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 1000) > 0) {
      char events[4096];
      [[maybe_unused]] ssize_t drained = ::read(notify.get(), events, sizeof events);
    }
  }
}

int RunExec(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("timeout", po::value<int64_t>()->default_value(0), "seconds before the command is killed (0: none)")(
      "stdin,i", po::bool_switch(), "pass stdin to the command (a streaming session)")(
      "tty,t", po::bool_switch(), "give the command a terminal (a streaming session)");
  if (int rc = ParseCommand({"exec", "exec [-i] [-t] [--timeout S] CONTAINER_ID -- COMMAND [ARG...]",
                             "Runs a command in a container: with -i or -t through the streaming server (Exec), "
                             "otherwise to completion (ExecSync)",
                             2},
                            args, o, &p);
      rc >= 0) {
    return rc;
  }
  const bool stdin = p.flags["stdin"].as<bool>(), tty = p.flags["tty"].as<bool>();
  cri::CriClient client(global.endpoint);
  if (stdin || tty) {
    ::runtime::v1::ExecRequest request;
    request.set_container_id(p.positional[0]);
    for (size_t i = 1; i < p.positional.size(); ++i) request.add_cmd(p.positional[i]);
    request.set_stdin(stdin);
    request.set_tty(tty);
    request.set_stdout(true);
    request.set_stderr(!tty);  // a terminal has one output
    ::runtime::v1::ExecResponse response;
    auto ctx = cri::CriClient::Context(global.timeout);
    auto status = client.runtime().Exec(ctx.get(), request, &response);
    if (!status.ok()) return ReportRpcError("Exec", status);
    return RunStreamSession(response.url(), stdin, tty);
  }
  ::runtime::v1::ExecSyncRequest request;
  request.set_container_id(p.positional[0]);
  for (size_t i = 1; i < p.positional.size(); ++i) request.add_cmd(p.positional[i]);
  request.set_timeout(p.flags["timeout"].as<int64_t>());
  ::runtime::v1::ExecSyncResponse response;
  auto ctx = cri::CriClient::Context(request.timeout() > 0 ? std::chrono::seconds(request.timeout() + 30)
                                                           : std::chrono::hours(24));
  auto status = client.runtime().ExecSync(ctx.get(), request, &response);
  if (!status.ok()) return ReportRpcError("ExecSync", status);
  std::cout << response.stdout();
  std::cerr << response.stderr();
  return response.exit_code();
}

int RunAttach(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine p;
  po::options_description o("Flags");
  o.add_options()("stdin,i", po::bool_switch(), "pass stdin to the container (it must have been created with stdin)")(
      "tty,t", po::bool_switch(), "the container has a terminal");
  if (int rc = ParseCommand({"attach", "attach [-i] [-t] CONTAINER_ID",
                             "Attaches to a running container's output (and with -i its stdin) until it exits or "
                             "this command is interrupted; the container goes on running",
                             1, 1},
                            args, o, &p);
      rc >= 0) {
    return rc;
  }
  const bool stdin = p.flags["stdin"].as<bool>(), tty = p.flags["tty"].as<bool>();
  ::runtime::v1::AttachRequest request;
  request.set_container_id(p.positional[0]);
  request.set_stdin(stdin);
  request.set_tty(tty);
  request.set_stdout(true);
  request.set_stderr(!tty);
  ::runtime::v1::AttachResponse response;
  cri::CriClient client(global.endpoint);
  auto ctx = cri::CriClient::Context(global.timeout);
  auto status = client.runtime().Attach(ctx.get(), request, &response);
  if (!status.ok()) return ReportRpcError("Attach", status);
  return RunStreamSession(response.url(), stdin, tty);
}

}  // namespace berth::ctl
