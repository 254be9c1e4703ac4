// NRI: berthd hosting plugins (nri.enable) on a socket of the test's own, with the
// tests' C++ plugin (nri_test_plugin.h) over it: the events in their order and
// place in the CRI flow, refusals that leave nothing behind, objects hidden while
// their hook runs, conflicting plugins, a slow Synchronize with creations racing it,
// and plugins that hang or go. Adjustments: nri_adjustment_test.cc.
#include "test/integration/nri_fixture.h"

namespace berth::testing {
namespace {

using ::runtime::v1::ContainerState;

TEST_F(NriTest, EventsComeInLifecycleOrderWithTheCriNames) {
  StartWithNri();
  auto plugin = Plugin("order");
  ASSERT_TRUE(plugin);
  auto pod_config = PodConfig("nri-order");
  const std::string pod = RunPod(pod_config);
  const std::string stopped = CreateAndStart(pod, pod_config, ContainerConfig("stopped", {"sleep", "3600"}));
  // One that exits on its own: its StopContainer comes with no CRI call.
  const std::string exits = CreateAndStart(pod, pod_config, ContainerConfig("exits", {"sh", "-c", "exit 1"}));
  ASSERT_TRUE(plugin->AwaitEvent("StopContainer exits"));
  ::runtime::v1::UpdateContainerResourcesRequest update;
  update.set_container_id(stopped);
  update.mutable_linux()->set_memory_limit_in_bytes(96 << 20);
  ::runtime::v1::UpdateContainerResourcesResponse updated;
  ASSERT_TRUE(client().runtime().UpdateContainerResources(Ctx().get(), update, &updated).ok());
  ASSERT_TRUE(StopContainer(stopped).ok());
  ASSERT_TRUE(StopContainer(stopped).ok());  // a second stop: no second event
  ASSERT_TRUE(RemoveContainer(stopped).ok());
  ASSERT_TRUE(StopPod(pod).ok());
  ASSERT_TRUE(StopPod(pod).ok());
  ASSERT_TRUE(RemovePod(pod).ok());

  EXPECT_EQ(EventsOf(*plugin, "stopped"), (std::vector<std::string>{"CreateContainer", "StartContainer",
                                                                     "UpdateContainer", "StopContainer",
                                                                     "RemoveContainer"}));
  EXPECT_EQ(EventsOf(*plugin, "exits"),
            (std::vector<std::string>{"CreateContainer", "StartContainer", "StopContainer", "RemoveContainer"}));
  EXPECT_TRUE(plugin->AwaitEvent("PostUpdateContainer stopped"));
  EXPECT_EQ(EventsOf(*plugin, "nri-order"),
            (std::vector<std::string>{"RunPodSandbox", "StopPodSandbox", "RemovePodSandbox"}));
  EXPECT_TRUE(plugin->AwaitEvent("PostCreateContainer stopped"));
  EXPECT_TRUE(plugin->AwaitEvent("PostStartContainer stopped"));
}

TEST_F(NriTest, AStopIsAnnouncedOnceEvenAcrossARestart) {
  StartWithNri();
  auto before = Plugin("before");
  ASSERT_TRUE(before);
  auto pod_config = PodConfig("nri-once");
  const std::string pod = RunPod(pod_config);
  const std::string exits = CreateAndStart(pod, pod_config, ContainerConfig("exits", {"sh", "-c", "exit 0"}));
  ASSERT_TRUE(before->AwaitEvent("StopContainer exits"));
  ASSERT_EQ(StopBerthd(SIGTERM).exit_code, 0);
  ASSERT_TRUE(before->AwaitDisconnected());
  StartBerthd({"--config", dir_ + "/berth.yaml"});
  auto after = Plugin("after");
  ASSERT_TRUE(after);
  ASSERT_TRUE(RemoveContainer(exits).ok());
  ASSERT_TRUE(after->AwaitEvent("RemoveContainer exits"));
  EXPECT_EQ(EventsOf(*after, "exits"), std::vector<std::string>{"RemoveContainer"})
      << "the stop was told before the restart";
  ASSERT_TRUE(RemovePod(pod).ok());
}

// A plugin built against an older NRI answers the newer methods UNIMPLEMENTED: those
// events reach it as StateChange. UpdatePodSandbox and its Post event reach all.
TEST_F(NriTest, OlderPluginsGetStateChangeAndPodUpdatesAreTold) {
  StartWithNri();
  auto plugin = Plugin("older");
  ASSERT_TRUE(plugin);
  plugin->Lack({"RunPodSandbox", "StartContainer", "PostStartContainer", "RemoveContainer"});
  auto pod_config = PodConfig("nri-older");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("old", {"sleep", "3600"}));
  ::runtime::v1::UpdatePodSandboxResourcesRequest update;
  update.set_pod_sandbox_id(pod);
  update.mutable_resources()->set_memory_limit_in_bytes(256 << 20);
  ::runtime::v1::UpdatePodSandboxResourcesResponse updated;
  grpc::Status status = client().runtime().UpdatePodSandboxResources(Ctx().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(StopContainer(container).ok());
  ASSERT_TRUE(RemoveContainer(container).ok());
  ASSERT_TRUE(plugin->AwaitEvent("StateChange REMOVE_CONTAINER old"));
  ASSERT_TRUE(plugin->AwaitEvent("PostUpdatePodSandbox nri-older"));
  EXPECT_EQ(EventsOf(*plugin, "old"), (std::vector<std::string>{"CreateContainer", "StateChange START_CONTAINER",
                                                                 "StateChange POST_START_CONTAINER",
                                                                 "StopContainer", "StateChange REMOVE_CONTAINER"}));
  auto pod_events = EventsOf(*plugin, "nri-older");
  EXPECT_EQ(pod_events, (std::vector<std::string>{"StateChange RUN_POD_SANDBOX", "UpdatePodSandbox"}));
}

// What a plugin answers its Synchronize with is applied to the containers it names
// before it gets any event.
TEST_F(NriTest, ASynchronizesUpdatesAreAppliedToRunningContainers) {
  StartWithNri();
  auto pod_config = PodConfig("nri-sync-update");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("synced", {"sleep", "3600"}));
  auto plugin = NriTestPlugin::Connect(nri_socket_, "syncer", "50", 0, {"Synchronize"});
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  nri::api::ContainerUpdate update;
  update.set_container_id(container);
  update.mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(72 << 20);
  (*plugin)->UpdateOnSynchronize({update});
  (*plugin)->Release("Synchronize");
  ASSERT_TRUE((*plugin)->AwaitSynchronized());
  // An event reaches a plugin only once it has joined, after its updates.
  auto second_config = PodConfig("nri-sync-after");
  const std::string second = RunPod(second_config);
  ASSERT_TRUE((*plugin)->AwaitEvent("RunPodSandbox nri-sync-after"));
  EXPECT_EQ(MemoryLimit(VerboseContainerInfo(container)), absl::StrCat(72 << 20, "\n"));
}

TEST_F(NriTest, ARefusedRunOrCreateLeavesNothingAndTheRetryWorks) {
  StartWithNri();
  auto plugin = Plugin("refuser");
  ASSERT_TRUE(plugin);
  auto pod_config = PodConfig("nri-refused");
  plugin->Refuse("RunPodSandbox", "no room on this node");
  std::string pod;
  grpc::Status refused = RunPod(pod_config, &pod);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error_message().find("no room on this node"), std::string::npos) << refused.error_message();
  EXPECT_TRUE(ListedPodNames().empty());
  plugin->StopRefusing("RunPodSandbox");
  pod = RunPod(pod_config);  // the same name: the refused one left it free

  plugin->Refuse("CreateContainer", "no device for you");
  std::string container;
  refused = Create(pod, pod_config, ContainerConfig("refused", {"sleep", "3600"}), &container);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error_message().find("no device for you"), std::string::npos) << refused.error_message();
  EXPECT_TRUE(ListedContainerNames().empty());
  plugin->StopRefusing("CreateContainer");
  ASSERT_TRUE(Create(pod, pod_config, ContainerConfig("refused", {"sleep", "3600"}), &container).ok());
  // The refused create's undo told plugins, and no start was ever sent for it.
  auto events = EventsOf(*plugin, "refused");
  EXPECT_EQ(std::count(events.begin(), events.end(), "StartContainer"), 0);
}

TEST_F(NriTest, WhileItsHookRunsAPodOrContainerIsNotListed) {
  StartWithNri();
  auto plugin = Plugin("holder");
  ASSERT_TRUE(plugin);
  auto pod_config = PodConfig("nri-hidden");
  plugin->Hold("RunPodSandbox");
  auto running = std::async(std::launch::async, [&] {
    std::string id;
    grpc::Status status = RunPod(pod_config, &id);
    return status.ok() ? id : "failed: " + status.error_message();
  });
  ASSERT_TRUE(plugin->AwaitEvent("held RunPodSandbox"));
  EXPECT_TRUE(ListedPodNames().empty());  // answered at once: List takes no lock of the run's
  plugin->Release("RunPodSandbox");
  const std::string pod = running.get();
  ASSERT_EQ(PodStatus(pod).state(), ::runtime::v1::SANDBOX_READY);

  plugin->Hold("CreateContainer");
  auto creating = std::async(std::launch::async, [&] {
    std::string id;
    grpc::Status status = Create(pod, pod_config, ContainerConfig("hidden", {"sleep", "3600"}), &id);
    return status.ok() ? id : "failed: " + status.error_message();
  });
  ASSERT_TRUE(plugin->AwaitEvent("held CreateContainer"));
  EXPECT_TRUE(ListedContainerNames().empty());
  plugin->Release("CreateContainer");
  const std::string container = creating.get();
  EXPECT_EQ(StatusOf(container).state(), ContainerState::CONTAINER_CREATED);
}

TEST_F(NriTest, APluginsUnsolicitedUpdatesAndEvictionsAreApplied) {
  StartWithNri();
  auto plugin = Plugin("updater");
  ASSERT_TRUE(plugin);
  auto pod_config = PodConfig("nri-update");
  const std::string pod = RunPod(pod_config);
  const std::string resized = CreateAndStart(pod, pod_config, ContainerConfig("resized", {"sleep", "3600"}));
  const std::string evicted = CreateAndStart(pod, pod_config, ContainerConfig("evicted", {"sleep", "3600"}));
  nri::api::UpdateContainersRequest request;
  nri::api::ContainerUpdate* update = request.add_update();
  update->set_container_id(resized);
  update->mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(80 << 20);
  nri::api::ContainerUpdate* unknown = request.add_update();
  unknown->set_container_id("no-such-container");
  unknown->mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(80 << 20);
  nri::api::ContainerEviction* eviction = request.add_evict();
  eviction->set_container_id(evicted);
  eviction->set_reason("the test wants the room");
  auto response = plugin->UpdateContainers(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->failed_size(), 1);
  EXPECT_EQ(response->failed(0).container_id(), "no-such-container");
  EXPECT_EQ(MemoryLimit(VerboseContainerInfo(resized)), absl::StrCat(80 << 20, "\n"));
  EXPECT_EQ(StatusOf(evicted).state(), ContainerState::CONTAINER_EXITED);
  EXPECT_EQ(StatusOf(resized).state(), ContainerState::CONTAINER_RUNNING);
}

TEST_F(NriTest, TwoPluginsSettingOneThingFailTheCreateNamingBoth) {
  StartWithNri();
  auto first = Plugin("first", "10");
  auto second = Plugin("second", "20");
  ASSERT_TRUE(first && second);
  nri::api::ContainerAdjustment adjust;
  nri::api::KeyValue* env = adjust.add_env();
  env->set_key("MODE");
  env->set_value("mine");
  first->AdjustCreatedContainers(adjust);
  second->AdjustCreatedContainers(adjust);
  auto pod_config = PodConfig("nri-conflict");
  const std::string pod = RunPod(pod_config);
  std::string container;
  grpc::Status refused = Create(pod, pod_config, ContainerConfig("conflict", {"sleep", "3600"}), &container);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_NE(refused.error_message().find("10-first and 20-second both adjust environment variable MODE"),
            std::string::npos)
      << refused.error_message();
  EXPECT_TRUE(ListedContainerNames().empty());
}

// A Synchronize bigger than one ttrpc message (4 MiB) goes in parts, each but the
// last marked "more"; the plugin hears of every pod and container all the same.
TEST_F(NriTest, ASynchronizeOverFourMebibytesGoesInParts) {
  StartWithNri();
  auto pod_config = PodConfig("nri-big");
  const std::string pod = RunPod(pod_config);
  const std::string ballast(1 << 20, 'x');
  std::set<std::string> names;
  for (int i = 0; i < 5; ++i) {
    auto config = ContainerConfig(absl::StrCat("big-", i), {"sleep", "3600"});
    (*config.mutable_annotations())["io.berth.test/ballast"] = ballast;
    std::string id;
    ASSERT_TRUE(Create(pod, pod_config, config, &id).ok());
    names.insert(config.metadata().name());
  }
  auto plugin = Plugin("late");
  ASSERT_TRUE(plugin);
  EXPECT_EQ(plugin->SynchronizeParts(), 2);
  EXPECT_EQ(plugin->SynchronizedContainers(), names);
  EXPECT_EQ(plugin->SynchronizedPods(), std::set<std::string>{"nri-big"});
  // And it takes events after, as any plugin does.
  std::string id;
  ASSERT_TRUE(Create(pod, pod_config, ContainerConfig("after", {"sleep", "3600"}), &id).ok());
  EXPECT_TRUE(plugin->AwaitEvent("CreateContainer after"));
}

TEST_F(NriTest, ASlowSynchronizeLosesNoContainerCreatedMeanwhile) {
  StartWithNri();
  auto pod_config = PodConfig("nri-sync");
  const std::string pod = RunPod(pod_config);
  for (const char* name : {"before-1", "before-2"}) {
    CreateAndStart(pod, pod_config, ContainerConfig(name, {"sleep", "3600"}));
  }

  // The late plugin's Synchronize is held while three creations race it; two more
  // come after. Each container must reach it once: in the snapshot or as an event.
  auto connected = NriTestPlugin::Connect(nri_socket_, "late", "60", 0, {"Synchronize"});
  ASSERT_TRUE(connected.ok()) << connected.status();
  std::unique_ptr<NriTestPlugin> late = std::move(*connected);
  ASSERT_TRUE(late->AwaitEvent("held Synchronize"));
  std::atomic<int> asked{0};
  std::vector<std::future<std::string>> during;
  for (const char* name : {"during-1", "during-2", "during-3"}) {
    during.push_back(std::async(std::launch::async, [&, name] {
      ++asked;
      return CreateAndStart(pod, pod_config, ContainerConfig(name, {"sleep", "3600"}));
    }));
  }
  while (asked.load() < 3) std::this_thread::yield();
  late->Release("Synchronize");
  ASSERT_TRUE(late->AwaitSynchronized());
  for (auto& creation : during) EXPECT_FALSE(creation.get().empty());
  for (const char* name : {"after-1", "after-2"}) {
    CreateAndStart(pod, pod_config, ContainerConfig(name, {"sleep", "3600"}));
  }

  const std::set<std::string> synced = late->SynchronizedContainers();
  for (const char* name : {"before-1", "before-2", "during-1", "during-2", "during-3", "after-1", "after-2"}) {
    auto events = EventsOf(*late, name);
    int created = static_cast<int>(std::count(events.begin(), events.end(), "CreateContainer"));
    EXPECT_EQ(created + static_cast<int>(synced.count(name)), 1) << name << " reached the late plugin "
                                                                  << created + synced.count(name) << " times";
  }
  EXPECT_EQ(synced.count("before-1"), 1u);
  EXPECT_EQ(late->SynchronizedPods().count("nri-sync"), 1u);
}

TEST_F(NriTest, APluginThatHangsIsDroppedAndTheCallGoesOn) {
  StartWithNri("berth", /*request_timeout_ms=*/500);
  auto plugin = Plugin("hangs");
  ASSERT_TRUE(plugin);
  plugin->Hold("CreateContainer");
  auto pod_config = PodConfig("nri-hang");
  const std::string pod = RunPod(pod_config);
  // The create waits out the plugin's deadline, then goes on without it.
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("goes-on", {"sleep", "3600"}));
  EXPECT_EQ(StatusOf(container).state(), ContainerState::CONTAINER_RUNNING);
  auto events = plugin->Events();
  EXPECT_EQ(std::count(events.begin(), events.end(), "StartContainer goes-on"), 0);
  plugin->Release("CreateContainer");
  EXPECT_TRUE(plugin->AwaitDisconnected());  // berthd closed the plugin's connection
}

TEST_F(NriTest, APluginThatGoesAwayIsForgotten) {
  StartWithNri();
  auto plugin = Plugin("leaves");
  ASSERT_TRUE(plugin);
  plugin->Disconnect();
  auto pod_config = PodConfig("nri-gone");
  const std::string pod = RunPod(pod_config);
  CreateAndStart(pod, pod_config, ContainerConfig("fine", {"sleep", "3600"}));
  EXPECT_TRUE(plugin->Events().empty());
}

// A process of ours whose stdout is read line by line; ended by pid.
class LineProcess {
 public:
  explicit LineProcess(std::vector<std::string> argv) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    UniqueFd read_end(out[0]), write_end(out[1]);
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(write_end.get(), 1);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    write_end.Reset();
    reader_ = std::thread([this, fd = std::move(read_end)] {
      std::string line;
      char c;
      while (::read(fd.get(), &c, 1) == 1) {
        if (c != '\n') {
          line += c;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back(std::exchange(line, ""));
        changed_.notify_all();
      }
    });
  }
  ~LineProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }
  bool AwaitLine(const std::function<bool(const std::string&)>& want) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] {
      return std::any_of(lines_.begin(), lines_.end(), want);
    });
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
};

TEST_F(NriTest, NrisOwnGoStubPluginWorksWithBerthd) {
  std::string why_not;
  const std::string stub = BuildGoProgram("test/nri/stubplugin", "nristubplugin", "NRI's Go stub plugin", &why_not);
  if (stub.empty()) GTEST_SKIP() << why_not;
  StartWithNri();
  LineProcess plugin({stub, "-socket", nri_socket_, "-name", "gostub", "-idx", "40"});
  ASSERT_TRUE(plugin.AwaitLine([](const std::string& line) { return line.rfind("Synchronize", 0) == 0; }));
  auto pod_config = PodConfig("nri-stub");
  const std::string pod = RunPod(pod_config);
  const std::string container = CreateAndStart(pod, pod_config, ContainerConfig("stubbed", {"sleep", "3600"}));
  auto seen = Exec(container, {"sh", "-c", "echo $NRI_STUB"});
  EXPECT_EQ(seen.stdout(), "yes\n") << seen.stderr();
  ASSERT_TRUE(StopContainer(container).ok());
  ASSERT_TRUE(RemoveContainer(container).ok());
  ASSERT_TRUE(StopPod(pod).ok());
  ASSERT_TRUE(RemovePod(pod).ok());
  ASSERT_TRUE(plugin.AwaitLine([](const std::string& line) { return line == "RemovePodSandbox nri-stub"; }));
  std::vector<std::string> lines = plugin.lines();
  lines.erase(lines.begin());  // Synchronize
  EXPECT_EQ(lines, (std::vector<std::string>{"RunPodSandbox nri-stub", "CreateContainer stubbed",
                                             "StartContainer stubbed", "StopContainer stubbed",
                                             "RemoveContainer stubbed", "StopPodSandbox nri-stub",
                                             "RemovePodSandbox nri-stub"}));
}

// The processes running path, by pid.
std::vector<pid_t> ProcessesOf(const std::string& path) {
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = static_cast<pid_t>(std::atoi(entry.path().filename().c_str()));
    if (pid <= 0) continue;
    std::error_code ec;
    if (std::filesystem::read_symlink(entry.path() / "exe", ec).string() == path) pids.push_back(pid);
  }
  return pids;
}

TEST_F(NriTest, ALaunchedPluginIsAdmittedAndEndsWithBerthd) {
  // berthd starts NN-name from plugin_path itself, its socket as fd 3, and hands it
  // its NN-name.conf in Configure.
  const std::string plugins = dir_ + "/plugins";
  ASSERT_TRUE(MakeDirs(plugins, 0755).ok());
  const std::string plugin = plugins + "/10-noop";
  std::filesystem::copy_file(NRI_NOOP_PLUGIN_PATH, plugin);
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  ASSERT_TRUE(MakeDirs(dir_ + "/plugin-conf", 0755).ok());
  ASSERT_TRUE(WriteFileAtomically(dir_ + "/plugin-conf/10-noop.conf", "answer: nothing\n").ok());
  const std::string config = dir_ + "/berth.yaml";
  ASSERT_TRUE(WriteFileAtomically(config, absl::StrCat("nri:\n  enable: true\n  disable_connections: true\n",
                                                       "  plugin_path: ", plugins, "\n  plugin_config_path: ", dir_,
                                                       "/plugin-conf\n"))
                  .ok());
  StartWithImages({"--config", config});
  // Admission is asynchronous: Status's "nri" names the plugin once it gets events.
  nlohmann::json nri;
  for (int i = 0; i < 200; ++i) {
    ::runtime::v1::StatusRequest request;
    request.set_verbose(true);
    ::runtime::v1::StatusResponse response;
    ASSERT_TRUE(client().runtime().Status(Ctx().get(), request, &response).ok());
    nri = nlohmann::json::parse(response.info().at("nri"));
    if (!nri["plugins"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(nri["plugins"], nlohmann::json::array({"10-noop"})) << nri.dump();
  EXPECT_EQ(ProcessesOf(plugin).size(), 1u);
  auto pod_config = PodConfig("nri-launched");
  const std::string pod = RunPod(pod_config);
  CreateAndStart(pod, pod_config, ContainerConfig("with-plugin", {"sleep", "3600"}));
  ASSERT_TRUE(RemovePod(pod).ok());
  EXPECT_EQ(StopBerthd().exit_code, 0);
  EXPECT_TRUE(ProcessesOf(plugin).empty());
}

}  // namespace
}  // namespace berth::testing
