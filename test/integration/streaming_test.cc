// Exec over berthd's streaming server, driven by client-go's own SPDY executor (the
// client kubelet, kubectl and critest use), built from test/streaming/client.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/process.h"
#include "test/integration/pod_fixture.h"

namespace berth::testing {
namespace {

// client-go's executor, built once per test run (a second or so from the module
// cache; the first build on a machine fetches the modules from the proxy).
// Empty, with why in *missing, where no Go toolchain is installed.
std::string StreamClient(std::string* missing) {
  static std::once_flag once;
  static std::string binary, why;
  std::call_once(once, [] {
    std::string go;
    for (const char* candidate : {"/usr/local/go/bin/go", "/usr/lib/go/bin/go", "/usr/bin/go"}) {
      if (::access(candidate, X_OK) == 0) {
        go = candidate;
        break;
      }
    }
    if (go.empty()) {
      why = "no Go toolchain (looked in /usr/local/go/bin, /usr/lib/go/bin, /usr/bin): the streaming tests need one "
            "to build client-go's executor";
      return;
    }
    const std::string out = std::string(BERTH_BINARY_DIR) + "/streamclient";
    RunOptions options;
    options.timeout = std::chrono::minutes(10);
    options.extra_env = {"GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "CGO_ENABLED=0"};
    auto built = RunProcess({"/bin/sh", "-c",
                             absl::StrCat("cd '", BERTH_SOURCE_DIR, "/test/streaming/client' && '", go,
                                          "' build -o '", out, "' .")},
                            options);
    if (!built.ok() || built->exit_code != 0) {
      why = absl::StrCat("building test/streaming/client failed: ", built.ok() ? built->err : built.status().ToString());
      return;
    }
    binary = out;
  });
  *missing = why;
  return binary;
}

class StreamingTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    if (GetParam() == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
    std::string missing;
    client_binary_ = StreamClient(&missing);
    ASSERT_FALSE(client_binary_.empty()) << missing;
    std::string config = dir_ + "/berth.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, "default_runtime_handler: " + GetParam() + "\n").ok());
    StartWithImages({"--config", config});
  }

  // A running container that sleeps, in a pod of its own.
  std::string SleepingContainer(const std::string& name) {
    auto pod_config = PodConfig(name);
    std::string pod = RunPod(pod_config);
    return CreateAndStart(pod, pod_config, ContainerConfig("c", {"/bin/sh", "-c", "sleep 1000"}));
  }

  grpc::Status ExecUrl(const ::runtime::v1::ExecRequest& request, std::string* url) {
    ::runtime::v1::ExecResponse response;
    grpc::Status status = client().runtime().Exec(Ctx().get(), request, &response);
    *url = response.url();
    return status;
  }

  std::string ExecUrl(const std::string& id, std::vector<std::string> cmd, bool stdin) {
    ::runtime::v1::ExecRequest request;
    request.set_container_id(id);
    for (auto& arg : cmd) request.add_cmd(arg);
    request.set_stdin(stdin);
    request.set_stdout(true);
    request.set_stderr(true);
    std::string url;
    grpc::Status status = ExecUrl(request, &url);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return url;
  }

  // Runs the client on url; stdin_file feeds its stdin when given.
  RunResult Stream(const std::string& url, const std::string& stdin_file = "") {
    std::string command = absl::StrCat("'", client_binary_, "' -url '", url, "'");
    if (!stdin_file.empty()) absl::StrAppend(&command, " -stdin < '", stdin_file, "'");
    RunOptions options;
    options.timeout = std::chrono::minutes(2);
    options.max_output = 64 << 20;
    auto result = RunProcess({"/bin/sh", "-c", command}, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  }

  std::string client_binary_;
};

TEST_P(StreamingTest, ExecStreamsOutputAndTheExitCode) {
  std::string id = SleepingContainer("exec");
  RunResult run = Stream(ExecUrl(id, {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, false));
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(run.out, "out\n");
  EXPECT_EQ(run.err, "err\n");
  run = Stream(ExecUrl(id, {"/bin/sh", "-c", "echo -n hello"}, false));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "hello") << "exactly what critest expects";
}

TEST_P(StreamingTest, StdinReachesTheProcessIntactAndItsEndClosesIt) {
  std::string id = SleepingContainer("stdin");
  // Tens of MiB through stdin and back through stdout: nothing lost, nothing
  // reordered, and the end of stdin is what ends cat.
  std::string data;
  for (int i = 0; data.size() < (24u << 20); ++i) absl::StrAppend(&data, "line ", i, " of the stdin test\n");
  const std::string file = dir_ + "/stdin";
  ASSERT_TRUE(WriteFileAtomically(file, data, 0644, Durability::kCrash).ok());
  RunResult run = Stream(ExecUrl(id, {"cat"}, true), file);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.size(), data.size());
  EXPECT_TRUE(run.out == data) << "stdout differs from stdin";
}

TEST_P(StreamingTest, AUrlIsGoodForOneSession) {
  std::string id = SleepingContainer("once");
  std::string url = ExecUrl(id, {"true"}, false);
  EXPECT_TRUE(absl::StartsWith(url, "http://127.0.0.1:")) << url;
  EXPECT_EQ(Stream(url).exit_code, 0);
  RunResult again = Stream(url);
  EXPECT_EQ(again.exit_code, 255);
  EXPECT_TRUE(absl::StrContains(again.err, "404") || absl::StrContains(again.err, "not found") ||
              absl::StrContains(again.err, "unknown, used or expired"))
      << again.err;
}

TEST_P(StreamingTest, ExecRequestsAreChecked) {
  std::string id = SleepingContainer("checks");
  std::string url;
  ::runtime::v1::ExecRequest request;
  request.add_cmd("true");
  request.set_stdout(true);
  EXPECT_EQ(ExecUrl(request, &url).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "no container id";
  request.set_container_id(id);
  request.set_tty(true);
  request.set_stderr(true);
  grpc::Status both = ExecUrl(request, &url);
  EXPECT_EQ(both.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(both.error_message(), "tty and stderr")) << both.error_message();
  request.set_tty(false);
  request.set_stdout(false);
  request.set_stderr(false);
  EXPECT_EQ(ExecUrl(request, &url).error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "no stream";
  request.set_stdout(true);
  request.set_container_id("no-such-container");
  EXPECT_EQ(ExecUrl(request, &url).error_code(), grpc::StatusCode::NOT_FOUND);

  auto pod_config = PodConfig("exited");
  std::string pod = RunPod(pod_config);
  std::string done = CreateAndStart(pod, pod_config, ContainerConfig("c", {"true"}));
  WaitForExit(done);
  request.set_container_id(done);
  EXPECT_EQ(ExecUrl(request, &url).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_P(StreamingTest, AClientThatGoesAwayTakesItsProcessWithIt) {
  std::string id = SleepingContainer("gone");
  std::string url = ExecUrl(id, {"/bin/sh", "-c", "echo started; exec sleep 777"}, false);
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd out_r(out[0]), out_w(out[1]);
  pid_t client = ::fork();
  ASSERT_GE(client, 0);
  if (client == 0) {
    ::dup2(out_w.get(), 1);
    ::execl(client_binary_.c_str(), client_binary_.c_str(), "-url", url.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  out_w.Reset();
  // The process runs once it has said so.
  std::string seen;
  char buffer[64];
  while (!absl::StrContains(seen, "started")) {
    ssize_t n = ::read(out_r.get(), buffer, sizeof buffer);
    ASSERT_GT(n, 0) << "the client ended before the process started";
    seen.append(buffer, static_cast<size_t>(n));
  }
  // Processes whose command line is "sleep 777" (this shell's own only contains it).
  const std::vector<std::string> count_sleepers = {
      "/bin/sh", "-c", "for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c; echo; done | grep -c '^sleep 777'"};
  ASSERT_EQ(Exec(id, count_sleepers).stdout(), "1\n");
  ::kill(client, SIGKILL);
  ::waitpid(client, nullptr, 0);
  // The server notices the connection is gone and kills the process; asked as
  // kubelet would, until it is so or a minute has passed.
  std::string count;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
       std::chrono::steady_clock::now() < deadline;) {
    count = Exec(id, count_sleepers).stdout();
    if (count == "0\n") break;
  }
  EXPECT_EQ(count, "0\n") << "the exec'd process outlived its session";
}

INSTANTIATE_TEST_SUITE_P(Handlers, StreamingTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
