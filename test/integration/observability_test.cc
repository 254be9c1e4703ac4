// Stats, CRI metrics, container events and berthd's own /metrics, read back against
// known load and through real clients: a Prometheus server and promtool.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/process.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/test_registry.h"

namespace berth::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Asks check() until it is true or timeout passes (stats change as the kernel
// counts, with no event to wait on); true when it became true.
bool Eventually(const std::function<bool()>& check, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return check();
}

class ObservabilityTest : public PodFixture {
 protected:
  // berthd with /metrics on a port the kernel picks; metrics_port_ is read from its log.
  void StartWithMetrics() {
    const std::string config = dir_ + "/berthd.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, "metrics:\n  address: 127.0.0.1:0\n").ok());
    StartWithImages({"--config", config});
    if (HasFatalFailure()) return;
    std::smatch match;
    const std::string log = ReadFile(berthd_log_).value_or("");
    ASSERT_TRUE(std::regex_search(log, match, std::regex("serving metrics .*port=([0-9]+)"))) << log;
    metrics_port_ = std::stoi(match[1]);
  }

  std::string Scrape() {
    auto response = SendHttp({.url = absl::StrCat("http://127.0.0.1:", metrics_port_, "/metrics")});
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return "";
    EXPECT_EQ(response->status, 200);
    return response->body;
  }

  // The value of the sample line that starts with series ("name{labels}"), or -1.
  static double SampleValue(const std::string& exposition, const std::string& series) {
    for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
      if (!absl::ConsumePrefix(&line, series) || !absl::ConsumePrefix(&line, " ")) continue;
      return std::stod(std::string(line));
    }
    return -1;
  }

  ::runtime::v1::ContainerStats ContainerStats(const std::string& id) {
    ::runtime::v1::ContainerStatsRequest request;
    request.set_container_id(id);
    ::runtime::v1::ContainerStatsResponse response;
    auto status = client().runtime().ContainerStats(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.stats();
  }

  ::runtime::v1::PodSandboxStats PodStats(const std::string& id) {
    ::runtime::v1::PodSandboxStatsRequest request;
    request.set_pod_sandbox_id(id);
    ::runtime::v1::PodSandboxStatsResponse response;
    auto status = client().runtime().PodSandboxStats(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.stats();
  }

  int metrics_port_ = 0;
};

TEST_F(ObservabilityTest, StatsFollowKnownMemoryAndCpuLoad) {
  StartWithImages({});
  auto pod_config = PodConfig("load");
  (*pod_config.mutable_labels())["app"] = "load";
  const std::string pod = RunPod(pod_config);
  // 48 MiB in the pod's /dev/shm stays charged to the container that wrote it.
  constexpr uint64_t kHeld = 48u << 20;
  const std::string memory = CreateAndStart(
      pod, pod_config,
      ContainerConfig("memory", {"sh", "-c", "head -c 50331648 /dev/zero > /dev/shm/fill; sleep 3600"}));
  const std::string cpu = CreateAndStart(pod, pod_config, ContainerConfig("cpu", {"sh", "-c", "while :; do :; done"}));

  EXPECT_TRUE(Eventually([&] { return ContainerStats(memory).memory().working_set_bytes().value() >= kHeld; }))
      << ContainerStats(memory).DebugString();
  auto held = ContainerStats(memory);
  EXPECT_GT(held.memory().usage_bytes().value(), 0u);
  EXPECT_GT(held.memory().page_faults().value(), 0u);
  EXPECT_GT(held.cpu().timestamp(), 0);
  EXPECT_EQ(held.writable_layer().fs_id().mountpoint().front(), '/');
  EXPECT_TRUE(std::filesystem::is_directory(held.writable_layer().fs_id().mountpoint()));

  // CPU time rises, and the sampler's rate shows most of a core busy.
  const uint64_t first = ContainerStats(cpu).cpu().usage_core_nano_seconds().value();
  EXPECT_TRUE(Eventually([&] { return ContainerStats(cpu).cpu().usage_core_nano_seconds().value() > first; }));
  EXPECT_TRUE(Eventually([&] { return ContainerStats(cpu).cpu().usage_nano_cores().value() > 200000000; }))
      << ContainerStats(cpu).DebugString();

  // The pod holds both: its own cgroup's figures, each container's, its processes.
  auto stats = PodStats(pod);
  EXPECT_EQ(stats.attributes().id(), pod);
  EXPECT_EQ(stats.attributes().metadata().uid(), "uid-load");
  EXPECT_GE(stats.linux().memory().working_set_bytes().value(), kHeld);
  EXPECT_GT(stats.linux().cpu().usage_core_nano_seconds().value(), first);
  EXPECT_EQ(stats.linux().containers_size(), 2);
  EXPECT_GE(stats.linux().process().process_count().value(), 2u);  // a sleep and a shell at least

  // Filters as the other list RPCs take them.
  ::runtime::v1::ListPodSandboxStatsRequest by_label;
  (*by_label.mutable_filter()->mutable_label_selector())["app"] = "load";
  ::runtime::v1::ListPodSandboxStatsResponse listed;
  ASSERT_TRUE(client().runtime().ListPodSandboxStats(Ctx().get(), by_label, &listed).ok());
  ASSERT_EQ(listed.stats_size(), 1);
  EXPECT_EQ(listed.stats(0).attributes().id(), pod);
  (*by_label.mutable_filter()->mutable_label_selector())["app"] = "other";
  ASSERT_TRUE(client().runtime().ListPodSandboxStats(Ctx().get(), by_label, &listed).ok());
  EXPECT_EQ(listed.stats_size(), 0);

  ::runtime::v1::PodSandboxStatsRequest unknown;
  unknown.set_pod_sandbox_id("no-such-pod");
  ::runtime::v1::PodSandboxStatsResponse none;
  EXPECT_EQ(client().runtime().PodSandboxStats(Ctx().get(), unknown, &none).error_code(), grpc::NOT_FOUND);
  unknown.clear_pod_sandbox_id();
  EXPECT_EQ(client().runtime().PodSandboxStats(Ctx().get(), unknown, &none).error_code(), grpc::INVALID_ARGUMENT);
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_F(ObservabilityTest, CriMetricsNameThePodOnEverySample) {
  StartWithImages({});
  auto pod_config = PodConfig("metered");
  const std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("app", {"sleep", "3600"});
  config.mutable_linux()->mutable_resources()->set_cpu_quota(20000);
  config.mutable_linux()->mutable_resources()->set_cpu_period(100000);
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(64 << 20);
  const std::string container = CreateAndStart(pod, pod_config, config);

  ::runtime::v1::ListMetricDescriptorsResponse descriptors;
  ASSERT_TRUE(client().runtime().ListMetricDescriptors(Ctx().get(), {}, &descriptors).ok());
  std::map<std::string, int> label_count;
  for (const auto& descriptor : descriptors.descriptors()) {
    label_count[descriptor.name()] = descriptor.label_keys_size();
  }

  ::runtime::v1::ListPodSandboxMetricsResponse metrics;
  ASSERT_TRUE(client().runtime().ListPodSandboxMetrics(Ctx().get(), {}, &metrics).ok());
  ASSERT_EQ(metrics.pod_metrics_size(), 1);
  const auto& pod_metrics = metrics.pod_metrics(0);
  EXPECT_EQ(pod_metrics.pod_sandbox_id(), pod);
  ASSERT_EQ(pod_metrics.container_metrics_size(), 1);
  EXPECT_EQ(pod_metrics.container_metrics(0).container_id(), container);
  std::map<std::string, uint64_t> values;
  for (const auto& metric : pod_metrics.container_metrics(0).metrics()) {
    ASSERT_EQ(metric.label_values_size(), label_count[metric.name()]) << metric.name();
    // container, id, image, name, namespace, pod
    EXPECT_EQ(metric.label_values(0), "app");
    EXPECT_EQ(metric.label_values(3), container);
    EXPECT_EQ(metric.label_values(4), "berth-test");
    EXPECT_EQ(metric.label_values(5), "metered");
    values[metric.name()] = metric.value().value();
  }
  EXPECT_EQ(values["container_spec_cpu_quota"], 20000u);
  EXPECT_EQ(values["container_spec_memory_limit_bytes"], uint64_t{64} << 20);
  EXPECT_GE(values["container_threads"], 1u);
  EXPECT_GE(values["container_processes"], 1u);
  EXPECT_GE(values["container_file_descriptors"], 1u);
  EXPECT_GT(values["container_memory_working_set_bytes"], 0u);
  for (const auto& metric : pod_metrics.metrics()) {
    EXPECT_EQ(metric.label_values(0), "") << metric.name();  // the pod's own cgroup
    EXPECT_EQ(metric.label_values(5), "metered") << metric.name();
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

// Reads GetContainerEvents on a thread of its own, keeping what arrives.
class EventReader {
 public:
  explicit EventReader(::runtime::v1::RuntimeService::Stub& stub) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
    reader_ = stub.GetContainerEvents(&context_, {});
    // berthd sends its headers once subscribed: every change from now on is seen.
    reader_->WaitForInitialMetadata();
    thread_ = std::thread([this] {
      ::runtime::v1::ContainerEventResponse event;
      while (reader_->Read(&event)) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(event);
        arrived_.notify_all();
      }
    });
  }
  ~EventReader() {
    context_.TryCancel();
    thread_.join();
    (void)reader_->Finish();
  }
  // Waits until an event matches, up to 30 s; the events seen so far.
  std::vector<::runtime::v1::ContainerEventResponse> WaitFor(
      const std::function<bool(const ::runtime::v1::ContainerEventResponse&)>& match) {
    std::unique_lock<std::mutex> lock(mu_);
    arrived_.wait_for(lock, std::chrono::seconds(30), [&] {
      for (const auto& event : events_) {
        if (match(event)) return true;
      }
      return false;
    });
    return events_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<::runtime::v1::ContainerEventResponse>> reader_;
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<::runtime::v1::ContainerEventResponse> events_;
  std::thread thread_;
};

TEST_F(ObservabilityTest, EventsArriveInOrderForAWholeLife) {
  StartWithImages({});
  EventReader reader(client().runtime());
  auto pod_config = PodConfig("evented");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("app", {"sleep", "3600"}));
  ::runtime::v1::StopContainerRequest stop;
  stop.set_container_id(container);
  ::runtime::v1::StopContainerResponse stopped;
  ASSERT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  ::runtime::v1::RemoveContainerRequest remove;
  remove.set_container_id(container);
  ::runtime::v1::RemoveContainerResponse removed;
  ASSERT_TRUE(client().runtime().RemoveContainer(Ctx().get(), remove, &removed).ok());
  ASSERT_TRUE(RemovePod(pod).ok());

  auto events = reader.WaitFor([&](const auto& event) {
    return event.container_id() == pod && event.container_event_type() == ::runtime::v1::CONTAINER_DELETED_EVENT;
  });
  std::vector<std::string> seen;
  for (const auto& event : events) {
    const char* who = event.container_id() == pod ? "pod" : event.container_id() == container ? "container" : "other";
    seen.push_back(absl::StrCat(who, " ", ::runtime::v1::ContainerEventType_Name(event.container_event_type())));
    // kubelet's evented PLEG drops an event without the pod's metadata.
    EXPECT_EQ(event.pod_sandbox_status().metadata().uid(), "uid-evented") << event.DebugString();
    EXPECT_GT(event.created_at(), 0);
    if (event.container_id() == container && event.container_event_type() == ::runtime::v1::CONTAINER_STOPPED_EVENT) {
      ASSERT_EQ(event.containers_statuses_size(), 1);
      EXPECT_EQ(event.containers_statuses(0).state(), ::runtime::v1::CONTAINER_EXITED);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"pod CONTAINER_CREATED_EVENT", "pod CONTAINER_STARTED_EVENT",
                                            "container CONTAINER_CREATED_EVENT", "container CONTAINER_STARTED_EVENT",
                                            "container CONTAINER_STOPPED_EVENT", "container CONTAINER_DELETED_EVENT",
                                            "pod CONTAINER_STOPPED_EVENT", "pod CONTAINER_DELETED_EVENT"}));
}

TEST_F(ObservabilityTest, ASubscriberThatNeverReadsDoesNotHoldUpTheLifecycle) {
  StartWithImages({});
  // A stream nobody reads: gRPC's flow control soon stops berthd's writes to it.
  grpc::ClientContext stuck;
  auto never_read = client().runtime().GetContainerEvents(&stuck, {});
  for (int i = 0; i < 20; ++i) {
    auto config = PodConfig(absl::StrCat("busy-", i));
    std::string pod;
    ASSERT_TRUE(RunPod(config, &pod).ok());
    ASSERT_TRUE(RemovePod(pod).ok());
  }
  stuck.TryCancel();
  (void)never_read->Finish();
}

TEST_F(ObservabilityTest, BerthctlShowsStatsEventsAndMetrics) {
  StartWithImages({});
  auto pod_config = PodConfig("shown");
  const std::string pod = RunPod(pod_config);
  CreateAndStart(pod, pod_config, ContainerConfig("app", {"sleep", "3600"}));

  auto stats = RunBerthctl({"stats", "--once"});
  EXPECT_EQ(stats.exit_code, 0) << stats.log;
  EXPECT_NE(stats.log.find("berth-test/shown"), std::string::npos) << stats.log;
  EXPECT_NE(stats.log.find("app"), std::string::npos) << stats.log;
  EXPECT_NE(stats.log.find("CPU %"), std::string::npos) << stats.log;

  auto metrics = RunBerthctl({"metrics", pod.substr(0, 12)});
  EXPECT_EQ(metrics.exit_code, 0) << metrics.log;
  EXPECT_NE(metrics.log.find("container_memory_working_set_bytes{container=\"app\""), std::string::npos)
      << metrics.log;
  EXPECT_NE(metrics.log.find("pod=\"shown\""), std::string::npos);
  EXPECT_EQ(RunBerthctl({"metrics", "no-such-pod"}).exit_code, 1);

  // events follows the stream: it has subscribed once a pod made now shows up in it.
  ExitResult events;
  std::thread follower([&] { events = RunBerthctl({"events", "--count", "1"}); });
  std::atomic<bool> done{false};
  std::thread marker([&] {
    for (int i = 0; !done && i < 100; ++i) {
      std::string made;
      if (RunPod(PodConfig(absl::StrCat("marker-", i)), &made).ok()) (void)RemovePod(made);
    }
  });
  follower.join();
  done = true;
  marker.join();
  EXPECT_EQ(events.exit_code, 0) << events.log;
  // Whichever event of a marker pod came first after berthctl subscribed.
  EXPECT_TRUE(std::regex_search(events.log, std::regex("pod (created|started|stopped|deleted) [0-9a-f]+ "
                                                       "berth-test/marker-")))
      << events.log;
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_F(ObservabilityTest, MetricsEndpointCountsRequestsStatesAndOomKills) {
  StartWithMetrics();
  if (HasFatalFailure()) return;
  auto pod_config = PodConfig("oom");
  const std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("hog", {"tail", "/dev/zero"});  // holds all it reads: /dev/zero has no newline
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
  config.mutable_linux()->mutable_resources()->set_memory_swap_limit_in_bytes(32 << 20);
  const std::string hog = CreateAndStart(pod, pod_config, config);
  auto status = WaitForExit(hog);
  EXPECT_EQ(status.reason(), "OOMKilled");

  std::string text = Scrape();
  EXPECT_EQ(SampleValue(text, "berth_container_oom_events_total"), 1) << text;
  EXPECT_EQ(SampleValue(text, "berth_container_exits_total{reason=\"OOMKilled\"}"), 1) << text;
  EXPECT_EQ(SampleValue(text, "berth_pod_sandboxes{state=\"ready\"}"), 1) << text;
  EXPECT_EQ(SampleValue(text, "berth_containers{state=\"exited\"}"), 1) << text;
  EXPECT_GE(SampleValue(text, "berth_cri_requests_total{code=\"OK\",method=\"RunPodSandbox\"}"), 1) << text;
  EXPECT_GE(SampleValue(text, "berth_cri_request_duration_seconds_count{method=\"CreateContainer\"}"), 1) << text;
  EXPECT_GE(SampleValue(text, "berth_image_pulls_total{result=\"success\"}"), 1) << text;
  EXPECT_GT(SampleValue(text, "berth_image_pull_bytes_total"), 0) << text;
  EXPECT_GT(SampleValue(text, "process_resident_memory_bytes"), 0) << text;
  EXPECT_NE(text.find("berth_build_info{"), std::string::npos);

  // A request that fails is counted under its code.
  ::runtime::v1::ContainerStatusRequest missing;
  missing.set_container_id("no-such-container");
  ::runtime::v1::ContainerStatusResponse nothing;
  EXPECT_EQ(client().runtime().ContainerStatus(Ctx().get(), missing, &nothing).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(SampleValue(Scrape(), "berth_cri_requests_total{code=\"NotFound\",method=\"ContainerStatus\"}"), 1);

  // promtool, Prometheus' own checker, finds nothing wrong with the exposition.
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    RunOptions check;
    check.stdin_data = Scrape();
    auto checked = RunProcess({"/usr/bin/promtool", "check", "metrics"}, check);
    ASSERT_TRUE(checked.ok()) << checked.status();
    EXPECT_EQ(checked->exit_code, 0) << checked->out << checked->err;
  }
  ASSERT_TRUE(RemovePod(pod).ok());
}

TEST_F(ObservabilityTest, PrometheusScrapesBerthd) {
  if (::access("/usr/bin/prometheus", X_OK) != 0) GTEST_SKIP() << "Debian's prometheus is not installed";
  StartWithMetrics();
  if (HasFatalFailure()) return;
  auto web_port = PickFreePort();
  ASSERT_TRUE(web_port.ok());
  const std::string prometheus_dir = dir_ + "/prometheus";
  ASSERT_TRUE(MakeDirs(prometheus_dir + "/data").ok());
  ASSERT_TRUE(WriteFileAtomically(prometheus_dir + "/prometheus.yml",
                                  absl::StrCat("global:\n  scrape_interval: 1s\n"
                                               "scrape_configs:\n  - job_name: berth\n    static_configs:\n"
                                               "      - targets: ['127.0.0.1:", metrics_port_, "']\n"))
                  .ok());
  pid_t prometheus = SpawnLogged("/usr/bin/prometheus",
                                 {"--config.file=" + prometheus_dir + "/prometheus.yml",
                                  "--storage.tsdb.path=" + prometheus_dir + "/data",
                                  absl::StrCat("--web.listen-address=127.0.0.1:", *web_port)},
                                 prometheus_dir + "/prometheus.log");
  ASSERT_GT(prometheus, 0);
  // The scrape config the repository ships is one Prometheus takes.
  auto shipped =
      RunProcess({"/usr/bin/promtool", "check", "config", BERTH_SOURCE_DIR "/manifests/prometheus/berth.yml"}, {});
  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(shipped->exit_code, 0) << shipped->out << shipped->err;
  auto stop_prometheus = absl::MakeCleanup([&] {
    ::kill(prometheus, SIGTERM);
    WaitForChildExit(prometheus, std::chrono::seconds(30));
  });
  auto query = [&](const std::string& promql) {
    std::string escaped;
    for (char c : promql) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
        escaped += c;
      } else {
        absl::StrAppend(&escaped, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
      }
    }
    auto response = SendHttp({.url = absl::StrCat("http://127.0.0.1:", *web_port, "/api/v1/query?query=", escaped)});
    return response.ok() ? response->body : std::string();
  };
  auto pod_config = PodConfig("scraped");
  const std::string pod = RunPod(pod_config);
  // Prometheus stores what it scrapes each second: the running pod shows up.
  EXPECT_TRUE(Eventually([&] { return absl::StrContains(query("berth_pod_sandboxes{state=\"ready\"} == 1"),
                                                        "\"result\":[{"); },
                         std::chrono::seconds(60)))
      << query("up") << ReadFile(prometheus_dir + "/prometheus.log").value_or("");
  EXPECT_TRUE(absl::StrContains(query("up{job=\"berth\"} == 1"), "\"result\":[{")) << query("up");
  EXPECT_TRUE(absl::StrContains(query("berth_cri_requests_total{method=\"RunPodSandbox\",code=\"OK\"}"),
                                "\"result\":[{"));
  ASSERT_TRUE(RemovePod(pod).ok());
}

}  // namespace
}  // namespace berth::testing
