// cri_bench: pod and container lifecycle latency, ExecSync latency, pod network set-up and
// tear-down, and a pod population for footprint measurements, driven through one CRI client
// so that berthd and containerd are measured the same way.
//
//   cri_bench --socket PATH --mode lifecycle|network|memory|parallel|cleanup [--image REF]
//             [--runs N] [--pods M] [--clients C] [--handler NAME] [--out FILE] [--log-root DIR]
//             [--execs K] [--stop-timeout S] [--warmup W] [--duration S]
//
// lifecycle: PullImage once, then N x (RunPodSandbox, CreateContainer, StartContainer, K x
//            ExecSync "true", StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox).
// network:   N x (RunPodSandbox, StopPodSandbox, RemovePodSandbox) of a pod with its own
//            network and of a host-network pod, interleaved; the difference of the two is what
//            CNI ADD and DEL cost.
// memory:    M pods with one running container each, left running; prints one JSON line.
// parallel:  M pods with one container each started by C clients at once, then stopped and
//            removed the same way: per-pod latency under that load and the wall time of each half.
// stats:     N x ListContainerStats, ListPodSandboxStats and ListPodSandboxMetrics against the
//            pods there are (memory mode leaves M running): the cost of a stats scrape.
// churn:     M pods kept running by C clients for --duration seconds, each client replacing
//            its pods in turn (StopPodSandbox, RemovePodSandbox, RunPodSandbox, CreateContainer,
//            StartContainer, ExecSync): a busy node's churn, for the soak (bench/soak.sh). The
//            cycle's latency is reported over the whole run and over its first and last window
//            (a fifth of the run, at most a minute), whose p99s say whether berth slows down.
// cleanup:   stops and removes every pod whose name starts with "cri-bench-".
//
// Each RPC is timed on the client with steady_clock around the stub call, so a figure includes
// gRPC over the unix socket, as kubelet sees it. The first W iterations (default 1) are not
// recorded: they pay one-time costs (containerd pulls its pause image on the first pod, the
// first CNI run loads plugin binaries) that are not what is compared.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/parallel_for.h"
#include "cri/client.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace v1 = runtime::v1;
using berth::cri::CriClient;

namespace {

// Every pod this program makes is named kPodPrefix + pid + "-" + ...; cleanup mode removes
// all of them, whichever run made them.
constexpr char kPodPrefix[] = "cri-bench-";
constexpr char kPodNamespace[] = "cri-bench";
constexpr std::chrono::milliseconds kRpcTimeout = std::chrono::minutes(2);
constexpr std::chrono::milliseconds kPullTimeout = std::chrono::minutes(10);
constexpr int64_t kExecTimeoutSeconds = 10;

#define RETURN_IF_FAILED(expr)         \
  do {                                 \
    grpc::Status status_ = (expr);     \
    if (!status_.ok()) return status_; \
  } while (0)

struct Options {
  std::string socket;
  std::string image;
  std::string mode;
  std::string handler;
  std::string out;
  std::string log_root;
  int runs = 50;
  int pods = 100;
  int execs = 5;
  int warmup = 1;
  int clients = 10;
  int64_t stop_timeout = 10;
  int duration = 60;  // seconds (churn)
};

const char* CodeName(grpc::StatusCode code) {
  // Indexed by grpc::StatusCode, whose values are fixed by the gRPC protocol.
  static constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  int index = static_cast<int>(code);
  if (index < 0 || index >= static_cast<int>(std::size(kNames))) return "UNKNOWN_CODE";
  return kNames[index];
}

struct Summary {
  size_t n = 0;
  double p50 = 0, p95 = 0, p99 = 0, min = 0, max = 0, mean = 0;
};

// Nearest-rank percentiles, as critest-kit's percentiles(), so that these figures compare with
// the kit's bench.sh.
Summary Summarize(std::vector<double> samples) {
  Summary s;
  s.n = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double p) {
    size_t r = static_cast<size_t>(p * static_cast<double>(s.n) + 0.999999);
    return samples[std::clamp<size_t>(r, 1, s.n) - 1];
  };
  s.p50 = rank(0.50);
  s.p95 = rank(0.95);
  s.p99 = rank(0.99);
  s.min = samples.front();
  s.max = samples.back();
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  return s;
}

// Samples in milliseconds per step, steps in the order they were first recorded (the order of
// the lifecycle, which is how the table reads best).
class Timings {
 public:
  void Add(const std::string& step, double ms) {
    for (auto& [name, samples] : steps_) {
      if (name == step) {
        samples.push_back(ms);
        return;
      }
    }
    steps_.push_back({step, {ms}});
  }

  Summary Of(const std::string& step) const {
    for (const auto& [name, samples] : steps_) {
      if (name == step) return Summarize(samples);
    }
    return {};
  }

  const std::vector<std::pair<std::string, std::vector<double>>>& steps() const { return steps_; }

 private:
  std::vector<std::pair<std::string, std::vector<double>>> steps_;
};

template <typename Stub, typename Request, typename Response>
using RpcMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

class Bench {
 public:
  explicit Bench(const Options& options)
      : options_(options),
        client_(options.socket),
        run_prefix_(std::string(kPodPrefix) + std::to_string(::getpid()) + "-") {}

  // Also opens the channel, so that the connection set-up is not charged to the first RPC timed.
  grpc::Status Connect() {
    v1::VersionRequest request;
    v1::VersionResponse response;
    RETURN_IF_FAILED(Timed("", "Version", client_.runtime(), &v1::RuntimeService::Stub::Version, request,
                           &response, kRpcTimeout));
    runtime_name_ = response.runtime_name();
    runtime_version_ = response.runtime_version();
    return grpc::Status::OK;
  }

  grpc::Status Pull() {
    v1::PullImageRequest request;
    request.mutable_image()->set_image(options_.image);
    v1::PullImageResponse response;
    return Timed("PullImage", "PullImage", client_.image(), &v1::ImageService::Stub::PullImage, request, &response,
                 kPullTimeout);
  }

  grpc::Status Lifecycle() {
    RETURN_IF_FAILED(Pull());
    for (int i = 0; i < options_.warmup + options_.runs; ++i) {
      recording_ = i >= options_.warmup;
      v1::PodSandboxConfig pod = PodConfig("life-" + std::to_string(i), /*host_network=*/false);
      std::string pod_id;
      double run_ms = 0, create_ms = 0, start_ms = 0;
      RETURN_IF_FAILED(RunPod(pod, "RunPodSandbox", &pod_id, &run_ms));
      std::string container_id;
      RETURN_IF_FAILED(CreateContainer(pod_id, pod, &container_id, &create_ms));
      RETURN_IF_FAILED(StartContainer(container_id, &start_ms));
      Record("RunPodSandbox+CreateContainer+StartContainer", run_ms + create_ms + start_ms);
      for (int e = 0; e < options_.execs; ++e) RETURN_IF_FAILED(ExecTrue(container_id));
      RETURN_IF_FAILED(StopContainer(container_id));
      RETURN_IF_FAILED(RemoveContainer(container_id));
      RETURN_IF_FAILED(StopPod(pod_id, "StopPodSandbox"));
      RETURN_IF_FAILED(RemovePod(pod_id, "RemovePodSandbox"));
      RemoveLogDirectory(pod);
    }
    return grpc::Status::OK;
  }

  // Pod-network and host-network pods alternate so that drift over the run (page cache, the
  // runtime's heap, other load on the machine) weighs on both sides of the difference alike.
  grpc::Status Network() {
    for (int i = 0; i < options_.warmup + options_.runs; ++i) {
      recording_ = i >= options_.warmup;
      for (bool host_network : {false, true}) {
        std::string suffix = host_network ? " (host net)" : "";
        v1::PodSandboxConfig pod =
            PodConfig((host_network ? "hostnet-" : "net-") + std::to_string(i), host_network);
        std::string pod_id;
        RETURN_IF_FAILED(RunPod(pod, "RunPodSandbox" + suffix, &pod_id, nullptr));
        RETURN_IF_FAILED(StopPod(pod_id, "StopPodSandbox" + suffix));
        RETURN_IF_FAILED(RemovePod(pod_id, "RemovePodSandbox" + suffix));
        RemoveLogDirectory(pod);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Memory() {
    RETURN_IF_FAILED(Pull());
    recording_ = true;
    for (int i = 0; i < options_.pods; ++i) {
      v1::PodSandboxConfig pod = PodConfig("mem-" + std::to_string(i), /*host_network=*/false);
      std::string pod_id, container_id;
      RETURN_IF_FAILED(RunPod(pod, "RunPodSandbox", &pod_id, nullptr));
      RETURN_IF_FAILED(CreateContainer(pod_id, pod, &container_id, nullptr));
      RETURN_IF_FAILED(StartContainer(container_id, nullptr));
      ++pods_running_;
    }
    return grpc::Status::OK;
  }

  // --pods pods started, then removed, by --clients clients at once, as kubelet does when a
  // node starts or drains: each pod's latency under that load, and the time until all run
  // (all are gone). A runtime that serialises its work shows it here, not in Lifecycle().
  grpc::Status Parallel() {
    RETURN_IF_FAILED(Pull());
    recording_ = true;
    std::vector<std::string> pod_ids(options_.pods);
    std::vector<v1::PodSandboxConfig> pods;
    for (int i = 0; i < options_.pods; ++i) pods.push_back(PodConfig("par-" + std::to_string(i), false));
    auto started = std::chrono::steady_clock::now();
    RETURN_IF_FAILED(Concurrently([&](int i) -> grpc::Status {
      double run_ms = 0, create_ms = 0, start_ms = 0;
      std::string container_id;
      RETURN_IF_FAILED(RunPod(pods[i], "RunPodSandbox", &pod_ids[i], &run_ms));
      RETURN_IF_FAILED(CreateContainer(pod_ids[i], pods[i], &container_id, &create_ms));
      RETURN_IF_FAILED(StartContainer(container_id, &start_ms));
      Record("RunPodSandbox+CreateContainer+StartContainer", run_ms + create_ms + start_ms);
      return grpc::Status::OK;
    }));
    Record("all pods running (wall)", MillisSince(started));
    started = std::chrono::steady_clock::now();
    RETURN_IF_FAILED(Concurrently([&](int i) -> grpc::Status {
      RETURN_IF_FAILED(StopPod(pod_ids[i], "StopPodSandbox"));
      RETURN_IF_FAILED(RemovePod(pod_ids[i], "RemovePodSandbox"));
      RemoveLogDirectory(pods[i]);
      return grpc::Status::OK;
    }));
    Record("all pods removed (wall)", MillisSince(started));
    return grpc::Status::OK;
  }

  grpc::Status Churn() {
    RETURN_IF_FAILED(Pull());
    recording_ = true;
    const int pods = options_.pods;
    std::vector<std::string> pod_ids(pods);
    std::vector<v1::PodSandboxConfig> configs(pods);
    std::atomic<int> generation{0};
    auto start_one = [&](int slot) -> grpc::Status {
      configs[slot] = PodConfig("churn-" + std::to_string(slot) + "-" + std::to_string(generation++), false);
      std::string container_id;
      RETURN_IF_FAILED(RunPod(configs[slot], "", &pod_ids[slot], nullptr));
      RETURN_IF_FAILED(CreateContainer(pod_ids[slot], configs[slot], &container_id, nullptr));
      RETURN_IF_FAILED(StartContainer(container_id, nullptr));
      return ExecTrue(container_id);
    };
    auto remove_one = [&](int slot) -> grpc::Status {
      RETURN_IF_FAILED(StopPod(pod_ids[slot], ""));
      RETURN_IF_FAILED(RemovePod(pod_ids[slot], ""));
      RemoveLogDirectory(configs[slot]);
      return grpc::Status::OK;
    };
    RETURN_IF_FAILED(Concurrently(start_one));
    const auto begin = std::chrono::steady_clock::now();
    const auto deadline = begin + std::chrono::seconds(options_.duration);
    const auto window = std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(60),
                                                                      std::chrono::seconds(options_.duration) / 5);
    std::atomic<int64_t> cycles{0};
    std::mutex failure_mu;
    grpc::Status failure = grpc::Status::OK;
    // Client c owns the slots c, c + C, c + 2C, ... and replaces them in turn.
    berth::ParallelFor(options_.clients, options_.clients, [&](size_t client) {
      for (int slot = static_cast<int>(client); std::chrono::steady_clock::now() < deadline;) {
        auto started = std::chrono::steady_clock::now();
        grpc::Status status = remove_one(slot);
        if (status.ok()) status = start_one(slot);
        if (!status.ok()) {
          std::lock_guard<std::mutex> lock(failure_mu);
          if (failure.ok()) failure = status;
          return;
        }
        auto ended = std::chrono::steady_clock::now();
        double ms = MillisSince(started);
        Record("churn cycle", ms);
        if (ended - begin <= window) Record("churn cycle (first window)", ms);
        if (deadline - ended <= window) Record("churn cycle (last window)", ms);
        ++cycles;
        slot += options_.clients;
        if (slot >= pods) slot = static_cast<int>(client);
      }
    });
    churn_cycles_ = cycles.load();
    grpc::Status removed = Concurrently(remove_one);
    if (!failure.ok()) return failure;
    return removed;
  }

  // Stops and removes every pod whose name starts with prefix; the runtime removes their
  // containers with them (StopPodSandbox and RemovePodSandbox must, per CRI). Goes on past
  // failures so that one stuck pod does not keep the others.
  // --runs times each of the list RPCs kubelet and metrics scrapers call, against the pods
  // there are (--mode memory leaves them): what a scrape of a full node costs. An RPC the
  // runtime fails is noted (with its error) and skipped.
  grpc::Status Stats() {
    recording_ = true;
    auto each = [&](const char* rpc, auto method, const auto& request, auto response) -> grpc::Status {
      for (int i = 0; i < options_.runs + options_.warmup; ++i) {
        recording_ = i >= options_.warmup;
        grpc::Status status = Timed(rpc, rpc, client_.runtime(), method, request, &response, kRpcTimeout);
        if (!status.ok()) {
          // containerd 1.6 answers UNIMPLEMENTED for the metrics, and UNKNOWN for pod
          // stats of pods without a cgroup parent: either is its answer, not the bench's.
          unimplemented_.push_back(status.error_message());
          return grpc::Status::OK;
        }
      }
      return grpc::Status::OK;
    };
    RETURN_IF_FAILED(each("ListContainerStats", &v1::RuntimeService::Stub::ListContainerStats,
                          v1::ListContainerStatsRequest(), v1::ListContainerStatsResponse()));
    RETURN_IF_FAILED(each("ListPodSandboxStats", &v1::RuntimeService::Stub::ListPodSandboxStats,
                          v1::ListPodSandboxStatsRequest(), v1::ListPodSandboxStatsResponse()));
    RETURN_IF_FAILED(each("ListPodSandboxMetrics", &v1::RuntimeService::Stub::ListPodSandboxMetrics,
                          v1::ListPodSandboxMetricsRequest(), v1::ListPodSandboxMetricsResponse()));
    return grpc::Status::OK;
  }

  grpc::Status Cleanup(const std::string& prefix) {
    v1::ListPodSandboxRequest request;
    v1::ListPodSandboxResponse response;
    RETURN_IF_FAILED(Timed("", "ListPodSandbox", client_.runtime(), &v1::RuntimeService::Stub::ListPodSandbox,
                           request, &response, kRpcTimeout));
    recording_ = false;
    grpc::Status first_failure = grpc::Status::OK;
    for (const auto& pod : response.items()) {
      if (pod.metadata().name().rfind(prefix, 0) != 0) continue;
      grpc::Status status = StopPod(pod.id(), "");
      if (status.ok()) status = RemovePod(pod.id(), "");
      if (!status.ok()) {
        std::cerr << "cri_bench: cleanup of pod " << pod.metadata().name() << " (" << pod.id()
                  << "): " << status.error_message() << "\n";
        if (first_failure.ok()) first_failure = status;
        continue;
      }
      ++pods_removed_;
      v1::PodSandboxConfig config;
      config.mutable_metadata()->set_name(pod.metadata().name());
      RemoveLogDirectory(config);
    }
    return first_failure;
  }

  // What a failed run leaves is removed; kept pods would skew the next run's figures.
  void CleanupAfterFailure() {
    grpc::Status status = Cleanup(run_prefix_);
    if (!status.ok()) std::cerr << "cri_bench: cleanup incomplete: " << status.error_message() << "\n";
    RemoveLogRootIfEmpty();
  }

  void RemoveLogRootIfEmpty() {
    std::error_code ignored;
    fs::remove(options_.log_root, ignored);  // only succeeds when empty
  }

  nlohmann::json Report() const {
    nlohmann::json report = {
        {"mode", options_.mode},
        {"socket", options_.socket},
        {"image", options_.image},
        {"handler", options_.handler},
        {"runs", options_.runs},
        {"warmup", options_.warmup},
        {"runtime", {{"name", runtime_name_}, {"version", runtime_version_}}},
    };
    if (options_.mode == "parallel") {
      report["pods"] = options_.pods;
      report["clients"] = options_.clients;
    }
    if (options_.mode == "lifecycle") {
      report["execs_per_run"] = options_.execs;
      report["stop_timeout_s"] = options_.stop_timeout;
    }
    if (options_.mode == "memory") report["pods"] = pods_running_;
    if (options_.mode == "churn") {
      Summary first = timings_.Of("churn cycle (first window)"), last = timings_.Of("churn cycle (last window)");
      report["pods"] = options_.pods;
      report["clients"] = options_.clients;
      report["duration_s"] = options_.duration;
      report["cycles"] = churn_cycles_;
      report["p99_last_over_first"] = first.p99 > 0 ? last.p99 / first.p99 : 0;
    }
    if (options_.mode == "cleanup") report["removed"] = pods_removed_;
    if (options_.mode == "stats") report["unimplemented"] = unimplemented_;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& [name, samples] : timings_.steps()) {
      Summary s = Summarize(samples);
      steps.push_back({{"step", name},
                       {"n", s.n},
                       {"p50_ms", s.p50},
                       {"p95_ms", s.p95},
                       {"p99_ms", s.p99},
                       {"min_ms", s.min},
                       {"max_ms", s.max},
                       {"mean_ms", s.mean},
                       {"samples_ms", samples}});
    }
    report["steps"] = steps;
    if (options_.mode == "network") {
      // Difference of percentiles, not a percentile of per-pod differences: the two pods of an
      // iteration are not the same pod, only neighbours in time.
      auto cost = [&](const std::string& step) {
        Summary own = timings_.Of(step), host = timings_.Of(step + " (host net)");
        return nlohmann::json{{"p50_ms", own.p50 - host.p50}, {"p95_ms", own.p95 - host.p95}};
      };
      report["network"] = {{"setup", cost("RunPodSandbox")},
                           {"teardown", cost("StopPodSandbox")},
                           {"remove", cost("RemovePodSandbox")}};
    }
    return report;
  }

  void PrintTable(std::ostream& out) const {
    out << "cri_bench " << options_.mode << ": " << runtime_name_ << " " << runtime_version_ << " on "
        << options_.socket << ", ";
    if (options_.mode == "parallel") {
      out << options_.pods << " pods, " << options_.clients << " clients";
    } else if (options_.mode == "churn") {
      out << options_.pods << " pods, " << options_.clients << " clients, " << options_.duration << " s, "
          << churn_cycles_ << " cycles";
    } else {
      out << options_.runs << " runs (+" << options_.warmup << " warm-up)";
    }
    if (!options_.handler.empty()) out << ", handler " << options_.handler;
    out << "\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %-46s %5s %9s %9s %9s %9s %9s\n", "step", "n", "p50_ms", "p95_ms",
                  "p99_ms", "min_ms", "max_ms");
    out << line;
    for (const auto& [name, samples] : timings_.steps()) {
      Summary s = Summarize(samples);
      std::snprintf(line, sizeof line, "  %-46s %5zu %9.1f %9.1f %9.1f %9.1f %9.1f\n", name.c_str(), s.n, s.p50,
                    s.p95, s.p99, s.min, s.max);
      out << line;
    }
    if (options_.mode == "network") {
      nlohmann::json network = Report()["network"];
      for (const char* what : {"setup", "teardown", "remove"}) {
        std::snprintf(line, sizeof line, "  network %-8s (pod net - host net)  p50 %7.1f ms  p95 %7.1f ms\n", what,
                      network[what]["p50_ms"].get<double>(), network[what]["p95_ms"].get<double>());
        out << line;
      }
    }
  }

  int pods_running() const { return pods_running_; }
  const std::vector<std::string>& unimplemented() const { return unimplemented_; }
  int pods_removed() const { return pods_removed_; }

 private:
  // Times one call; a sample is kept only if the call succeeded, recording is on and step is
  // named. A failure's message names the RPC.
  template <typename Stub, typename Request, typename Response>
  grpc::Status Timed(const std::string& step, const char* rpc, Stub& stub, RpcMethod<Stub, Request, Response> method,
                     const Request& request, Response* response, std::chrono::milliseconds timeout,
                     double* elapsed_ms = nullptr) {
    std::unique_ptr<grpc::ClientContext> context = CriClient::Context(timeout);
    auto start = std::chrono::steady_clock::now();
    grpc::Status status = (stub.*method)(context.get(), request, response);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) {
      return grpc::Status(status.error_code(), std::string(rpc) + ": " + CodeName(status.error_code()) + ": " +
                                                   status.error_message());
    }
    if (elapsed_ms) *elapsed_ms = ms;
    if (!step.empty()) Record(step, ms);
    return status;
  }

  void Record(const std::string& step, double ms) {
    std::lock_guard<std::mutex> lock(record_mu_);  // Parallel() records from several threads
    if (recording_) timings_.Add(step, ms);
  }

  static double MillisSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  // one(i) for i in [0, --pods), by --clients threads taking the next i in turn; the first
  // failure is returned once all are done.
  grpc::Status Concurrently(const std::function<grpc::Status(int)>& one) {
    std::mutex failure_mu;
    grpc::Status failure = grpc::Status::OK;
    berth::ParallelFor(options_.pods, options_.clients, [&](size_t i) {
      grpc::Status status = one(static_cast<int>(i));
      std::lock_guard<std::mutex> lock(failure_mu);
      if (!status.ok() && failure.ok()) failure = status;
    });
    return failure;
  }

  // As kubelet builds it for a plain pod: own network (unless host_network), PID namespace per
  // container (so that no runtime adds a pod init), logs in a directory of their own.
  v1::PodSandboxConfig PodConfig(const std::string& suffix, bool host_network) const {
    std::string name = run_prefix_ + suffix;
    v1::PodSandboxConfig config;
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_uid(name + "-uid");
    config.mutable_metadata()->set_namespace_(kPodNamespace);
    // kubelet leaves the hostname empty for host-network pods: they have the node's.
    if (!host_network) config.set_hostname(name);
    config.set_log_directory(options_.log_root + "/" + name);
    auto* namespaces = config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
    namespaces->set_pid(v1::CONTAINER);
    if (host_network) namespaces->set_network(v1::NODE);
    return config;
  }

  // The log directory is kubelet's to make and remove; here, this program is kubelet.
  void RemoveLogDirectory(const v1::PodSandboxConfig& pod) {
    const std::string& name = pod.metadata().name();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return;
    std::error_code ignored;
    fs::remove_all(options_.log_root + "/" + name, ignored);
  }

  grpc::Status RunPod(const v1::PodSandboxConfig& config, const std::string& step, std::string* id,
                      double* elapsed_ms) {
    std::error_code error;
    fs::create_directories(config.log_directory(), error);
    if (error) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "cannot create log directory " + config.log_directory() + ": " + error.message());
    }
    v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    request.set_runtime_handler(options_.handler);
    v1::RunPodSandboxResponse response;
    grpc::Status status = Timed(step, "RunPodSandbox", client_.runtime(), &v1::RuntimeService::Stub::RunPodSandbox,
                                request, &response, kRpcTimeout, elapsed_ms);
    if (!status.ok()) {
      RemoveLogDirectory(config);
      return status;
    }
    *id = response.pod_sandbox_id();
    return grpc::Status::OK;
  }

  grpc::Status CreateContainer(const std::string& pod_id, const v1::PodSandboxConfig& pod, std::string* id,
                               double* elapsed_ms) {
    v1::CreateContainerRequest request;
    request.set_pod_sandbox_id(pod_id);
    v1::ContainerConfig* config = request.mutable_config();
    config->mutable_metadata()->set_name("sleep");
    config->mutable_image()->set_image(options_.image);
    config->add_command("sleep");
    config->add_command("3600");
    config->set_log_path("sleep.log");
    config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
    *request.mutable_sandbox_config() = pod;
    v1::CreateContainerResponse response;
    RETURN_IF_FAILED(Timed("CreateContainer", "CreateContainer", client_.runtime(),
                           &v1::RuntimeService::Stub::CreateContainer, request, &response, kRpcTimeout, elapsed_ms));
    *id = response.container_id();
    return grpc::Status::OK;
  }

  grpc::Status StartContainer(const std::string& id, double* elapsed_ms) {
    v1::StartContainerRequest request;
    request.set_container_id(id);
    v1::StartContainerResponse response;
    return Timed("StartContainer", "StartContainer", client_.runtime(), &v1::RuntimeService::Stub::StartContainer,
                 request, &response, kRpcTimeout, elapsed_ms);
  }

  grpc::Status ExecTrue(const std::string& id) {
    v1::ExecSyncRequest request;
    request.set_container_id(id);
    request.add_cmd("true");
    request.set_timeout(kExecTimeoutSeconds);
    v1::ExecSyncResponse response;
    RETURN_IF_FAILED(Timed("ExecSync", "ExecSync", client_.runtime(), &v1::RuntimeService::Stub::ExecSync, request,
                           &response, std::chrono::seconds(kExecTimeoutSeconds) + kRpcTimeout));
    if (response.exit_code() != 0) {
      return grpc::Status(grpc::StatusCode::UNKNOWN, "ExecSync: \"true\" exited with " +
                                                         std::to_string(response.exit_code()) +
                                                         ", stderr: " + response.stderr());
    }
    return grpc::Status::OK;
  }

  // "sleep" is PID 1 of its PID namespace and has no SIGTERM handler, so the kernel drops
  // SIGTERM: with a timeout > 0 this measures the runtime's wait for the timeout plus the kill.
  grpc::Status StopContainer(const std::string& id) {
    v1::StopContainerRequest request;
    request.set_container_id(id);
    request.set_timeout(options_.stop_timeout);
    v1::StopContainerResponse response;
    return Timed("StopContainer", "StopContainer", client_.runtime(), &v1::RuntimeService::Stub::StopContainer,
                 request, &response, std::chrono::seconds(options_.stop_timeout) + kRpcTimeout);
  }

  grpc::Status RemoveContainer(const std::string& id) {
    v1::RemoveContainerRequest request;
    request.set_container_id(id);
    v1::RemoveContainerResponse response;
    return Timed("RemoveContainer", "RemoveContainer", client_.runtime(),
                 &v1::RuntimeService::Stub::RemoveContainer, request, &response, kRpcTimeout);
  }

  grpc::Status StopPod(const std::string& id, const std::string& step) {
    v1::StopPodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    v1::StopPodSandboxResponse response;
    return Timed(step, "StopPodSandbox", client_.runtime(), &v1::RuntimeService::Stub::StopPodSandbox, request,
                 &response, kRpcTimeout);
  }

  grpc::Status RemovePod(const std::string& id, const std::string& step) {
    v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    v1::RemovePodSandboxResponse response;
    return Timed(step, "RemovePodSandbox", client_.runtime(), &v1::RuntimeService::Stub::RemovePodSandbox, request,
                 &response, kRpcTimeout);
  }

  const Options& options_;
  CriClient client_;
  const std::string run_prefix_;
  std::string runtime_name_;
  std::string runtime_version_;
  std::mutex record_mu_;
  Timings timings_;
  bool recording_ = true;
  int pods_running_ = 0;
  std::vector<std::string> unimplemented_;  // --mode stats: the RPCs the runtime failed, with its error
  int pods_removed_ = 0;
  int64_t churn_cycles_ = 0;
};

bool WriteReport(const std::string& path, const nlohmann::json& report) {
  std::ofstream file(path);
  file << report.dump(2) << "\n";
  file.close();
  if (!file) {
    std::cerr << "cri_bench: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  po::options_description flags("cri_bench: CRI latency benchmark, the same client for every runtime\n\nFlags");
  flags.add_options()
      ("help,h", "show this help")
      ("socket", po::value(&options.socket)->required(), "CRI socket (path or unix:// endpoint)")
      ("mode", po::value(&options.mode)->required(), "lifecycle, network, memory, parallel, stats, churn or cleanup")
      ("image", po::value(&options.image), "container image (lifecycle, memory)")
      ("runs", po::value(&options.runs)->default_value(50), "measured iterations (lifecycle, network)")
      ("pods", po::value(&options.pods)->default_value(100), "pods to leave running (memory), or to start (parallel)")
      ("clients", po::value(&options.clients)->default_value(10), "concurrent clients (parallel)")
      ("handler", po::value(&options.handler), "RuntimeClass handler; empty: the runtime's default")
      ("out", po::value(&options.out), "write the report (JSON) to this file")
      ("log-root", po::value(&options.log_root), "parent of the pods' log directories (default /tmp/cri-bench.PID)")
      ("execs", po::value(&options.execs)->default_value(5), "ExecSync calls per iteration (lifecycle)")
      ("stop-timeout", po::value(&options.stop_timeout)->default_value(10), "StopContainer timeout, seconds")
      ("warmup", po::value(&options.warmup)->default_value(1), "unrecorded iterations first (lifecycle, network)")
      ("duration", po::value(&options.duration)->default_value(60), "seconds of churn (churn)");
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, flags), values);
    if (values.count("help")) {
      std::cout << flags << "\n";
      return 0;
    }
    po::notify(values);
  } catch (const po::error& e) {
    std::cerr << "cri_bench: " << e.what() << "\n(see cri_bench --help)\n";
    return 2;
  }
  const std::string& mode = options.mode;
  if (mode != "lifecycle" && mode != "network" && mode != "memory" && mode != "parallel" && mode != "stats" &&
      mode != "churn" && mode != "cleanup") {
    std::cerr << "cri_bench: --mode must be lifecycle, network, memory, parallel, stats, churn or cleanup\n";
    return 2;
  }
  if ((mode == "lifecycle" || mode == "memory" || mode == "parallel" || mode == "churn") && options.image.empty()) {
    std::cerr << "cri_bench: --mode " << mode << " needs --image\n";
    return 2;
  }
  if (options.runs < 1 || options.pods < 1 || options.clients < 1 || options.execs < 0 || options.warmup < 0 || options.stop_timeout < 0) {
    std::cerr << "cri_bench: --runs, --pods and --clients must be positive; --execs, --warmup, --stop-timeout not negative\n";
    return 2;
  }
  if (options.log_root.empty()) options.log_root = "/tmp/cri-bench." + std::to_string(::getpid());

  Bench bench(options);
  grpc::Status status = bench.Connect();
  if (!status.ok()) {
    std::cerr << "cri_bench: " << status.error_message() << "\n";
    return 1;
  }
  if (mode == "lifecycle") status = bench.Lifecycle();
  if (mode == "network") status = bench.Network();
  if (mode == "memory") status = bench.Memory();
  if (mode == "parallel") status = bench.Parallel();
  if (mode == "churn") status = bench.Churn();
  if (mode == "stats") status = bench.Stats();
  if (mode == "cleanup") status = bench.Cleanup(kPodPrefix);
  if (!status.ok()) {
    std::cerr << "cri_bench: " << status.error_message() << "\n";
    if (mode != "cleanup") bench.CleanupAfterFailure();
    return 1;
  }

  nlohmann::json report = bench.Report();
  if (!options.out.empty() && !WriteReport(options.out, report)) return 1;
  if (mode == "lifecycle" || mode == "network" || mode == "parallel" || mode == "stats" || mode == "churn") {
    bench.RemoveLogRootIfEmpty();
    bench.PrintTable(std::cout);
    for (const auto& failure : bench.unimplemented()) std::cout << "  not measured: " << failure << "\n";
  } else if (mode == "memory") {
    // One line, for the script that measures memory while the pods run.
    std::cout << nlohmann::json{{"mode", mode}, {"pods", bench.pods_running()}}.dump() << "\n";
  } else {
    bench.RemoveLogRootIfEmpty();
    std::cout << nlohmann::json{{"mode", mode}, {"removed", bench.pods_removed()}}.dump() << "\n";
  }
  return 0;
}
