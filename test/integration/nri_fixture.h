// The NRI integration tests' fixture: berthd with NRI on (nri.enable) on a socket
// of the test's own, the tests' C++ plugin (nri_test_plugin.h) connected to it, and
// what the tests read back (listed names, events, a container's memory limit).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/process.h"
#include "base/unique_fd.h"
#include "test/integration/go_program.h"
#include "test/integration/nri_test_plugin.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {

class NriTest : public PodFixture {
 protected:
  // berthd with NRI on; request_timeout_ms for the plugins' events; extra_config
  // appended to the config file.
  void StartWithNri(const std::string& handler = "berth", int request_timeout_ms = 5000,
                    const std::string& extra_config = "") {
    if (handler == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
    nri_socket_ = dir_ + "/nri/nri.sock";
    const std::string config = dir_ + "/berth.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, absl::StrCat("default_runtime_handler: ", handler,
                                                         "\nnri:\n  enable: true\n  socket_path: ", nri_socket_,
                                                         "\n  plugin_path: ", dir_, "/no-plugins\n",
                                                         "  request_timeout_ms: ", request_timeout_ms, "\n",
                                                         extra_config))
                    .ok());
    StartWithImages({"--config", config});
  }

  std::unique_ptr<NriTestPlugin> Plugin(const std::string& name, const std::string& index = "50") {
    auto plugin = NriTestPlugin::Connect(nri_socket_, name, index);
    EXPECT_TRUE(plugin.ok()) << plugin.status();
    if (!plugin.ok()) return nullptr;
    EXPECT_TRUE((*plugin)->AwaitSynchronized());
    return std::move(*plugin);
  }

  std::vector<std::string> ListedPodNames() {
    ::runtime::v1::ListPodSandboxResponse pods;
    EXPECT_TRUE(client().runtime().ListPodSandbox(Ctx().get(), {}, &pods).ok());
    std::vector<std::string> names;
    for (const auto& pod : pods.items()) names.push_back(pod.metadata().name());
    return names;
  }

  std::vector<std::string> ListedContainerNames() {
    ::runtime::v1::ListContainersResponse containers;
    EXPECT_TRUE(client().runtime().ListContainers(Ctx().get(), {}, &containers).ok());
    std::vector<std::string> names;
    for (const auto& container : containers.containers()) names.push_back(container.metadata().name());
    return names;
  }

  std::string nri_socket_;
};

// The events of one name, in order, without the Post* ones.
inline std::vector<std::string> EventsOf(const NriTestPlugin& plugin, const std::string& name) {
  std::vector<std::string> of;
  for (const std::string& event : plugin.Events()) {
    if (event.size() > name.size() && event.compare(event.size() - name.size() - 1, std::string::npos,
                                                    " " + name) == 0 &&
        event.rfind("Post", 0) != 0) {
      of.push_back(event.substr(0, event.size() - name.size() - 1));
    }
  }
  return of;
}

// The memory limit of a container's cgroup, as its handler set it.
inline std::string MemoryLimit(const nlohmann::json& verbose_info) {
  const std::string cgroup = verbose_info.value("cgroupPath", "");
  auto limit = ReadFile("/sys/fs/cgroup/memory" + cgroup + "/memory.limit_in_bytes");
  if (!limit.ok()) limit = ReadFile("/sys/fs/cgroup" + cgroup + "/memory.max");
  return limit.ok() ? *limit : std::string(limit.status().message());
}

}  // namespace berth::testing
