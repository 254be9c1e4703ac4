// Exec over berthd's streaming server, driven by client-go's own SPDY executor (the
// client kubelet, kubectl and critest use), built from test/streaming/client.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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
// Empty, with why in *missing, where no Go toolchain is installed (*no_go set) or
// the build failed.
std::string StreamClient(std::string* missing, bool* no_go) {
  static std::once_flag once;
  static std::string binary, why;
  static bool go_missing = false;
  std::call_once(once, [] {
    std::string go;
    for (const char* candidate : {"/usr/local/go/bin/go", "/usr/lib/go/bin/go", "/usr/bin/go"}) {
      if (::access(candidate, X_OK) == 0) {
        go = candidate;
        break;
      }
    }
    if (go.empty()) {
      go_missing = true;
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
  *no_go = go_missing;
  return binary;
}

class StreamingTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    if (GetParam() == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
    std::string missing;
    bool no_go = false;
    client_binary_ = StreamClient(&missing, &no_go);
    if (no_go) GTEST_SKIP() << missing;
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
  RunResult Stream(const std::string& url, const std::string& stdin_file = "", bool tty = false) {
    std::string command = absl::StrCat("'", client_binary_, "' -url '", url, "'", tty ? " -tty" : "");
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

TEST_P(StreamingTest, ExecWithATerminal) {
  std::string id = SleepingContainer("tty");
  ::runtime::v1::ExecRequest request;
  request.set_container_id(id);
  for (const char* arg : {"/bin/sh", "-c", "tty; echo hello; exit 4"}) request.add_cmd(arg);
  request.set_tty(true);
  request.set_stdin(true);
  request.set_stdout(true);
  std::string url;
  grpc::Status status = ExecUrl(request, &url);
  if (GetParam() != "berth") {
    // runc and crun give a terminal only to a detached exec, which berthd cannot reap.
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
    return;
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string input = dir_ + "/input";
  ASSERT_TRUE(WriteFileAtomically(input, "", 0644, Durability::kCrash).ok());
  RunResult run = Stream(url, input, /*tty=*/true);
  EXPECT_EQ(run.exit_code, 4) << run.err << run.out;
  // A terminal of the container's own devpts, which turns newlines into CR LF.
  EXPECT_TRUE(absl::StartsWith(run.out, "/dev/pts/")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "hello\r\n")) << run.out;
}

TEST_P(StreamingTest, AttachWithStdinOnce) {
  auto pod_config = PodConfig("attach");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("shell", {"/bin/sh"});
  config.set_stdin(true);
  config.set_stdin_once(true);
  std::string id = CreateAndStart(pod, pod_config, config);
  ::runtime::v1::AttachRequest request;
  request.set_container_id(id);
  request.set_stdin(true);
  request.set_stdout(true);
  request.set_stderr(true);
  ::runtime::v1::AttachResponse response;
  grpc::Status status = client().runtime().Attach(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string input = dir_ + "/commands";
  ASSERT_TRUE(WriteFileAtomically(input, "echo -n hello\necho oops >&2\n", 0644, Durability::kCrash).ok());
  // The shell reads the commands; the end of the client's stdin ends the shell's
  // (stdin_once), the container exits, and with it the session.
  RunResult run = Stream(response.url(), input);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "hello");
  EXPECT_EQ(run.err, "oops\n");
  EXPECT_EQ(WaitForExit(id).exit_code(), 0);

  // A second attach to a stopped container is refused.
  EXPECT_EQ(client().runtime().Attach(Ctx().get(), request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_P(StreamingTest, AttachRequestsMatchTheContainer) {
  std::string id = SleepingContainer("attach-checks");
  ::runtime::v1::AttachRequest request;
  ::runtime::v1::AttachResponse response;
  request.set_container_id(id);
  request.set_stdout(true);
  request.set_stdin(true);
  grpc::Status no_stdin = client().runtime().Attach(Ctx().get(), request, &response);
  EXPECT_EQ(no_stdin.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(no_stdin.error_message(), "without stdin")) << no_stdin.error_message();
  request.set_stdin(false);
  request.set_tty(true);
  EXPECT_EQ(client().runtime().Attach(Ctx().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT)
      << "the container has no terminal";
  request.set_tty(false);
  EXPECT_TRUE(client().runtime().Attach(Ctx().get(), request, &response).ok());
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

// client-go's port-forwarder running on a streaming URL: the local port it listens
// on, and how to stop it (by pid, the one process the test started).
class Forwarder {
 public:
  Forwarder(const std::string& binary, const std::string& url, int port) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    UniqueFd in_r(in[0]), out_w(out[1]);
    stdin_ = UniqueFd(in[1]);
    UniqueFd out_r(out[0]);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in_r.get(), 0);
      ::dup2(out_w.get(), 1);
      const std::string forward = std::to_string(port);
      ::execl(binary.c_str(), binary.c_str(), "-url", url.c_str(), "-forward", forward.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    out_w.Reset();
    std::string line;
    char c;
    while (::read(out_r.get(), &c, 1) == 1 && c != '\n') line += c;
    local_port_ = std::atoi(line.c_str());
  }
  ~Forwarder() {
    stdin_.Reset();  // its end stops the forwarder
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  int local_port() const { return local_port_; }

 private:
  pid_t pid_ = -1;
  UniqueFd stdin_;
  int local_port_ = 0;
};

// One exchange through the forward: sends data, half-closes, and reads until the
// far side closes. Empty with the connection refused.
std::string Exchange(int port, const std::string& data) {
  UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return "";
  for (size_t sent = 0; sent < data.size();) {
    ssize_t n = ::write(socket_fd.get(), data.data() + sent, data.size() - sent);
    if (n <= 0) return "";
    sent += static_cast<size_t>(n);
  }
  ::shutdown(socket_fd.get(), SHUT_WR);
  std::string got;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(socket_fd.get(), buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<size_t>(n));
  return got;
}

TEST_P(StreamingTest, PortForwardCarriesManyConnectionsBothWays) {
  auto pod_config = PodConfig("forward");
  std::string pod = RunPod(pod_config);
  // An echo server on the pod's loopback: each connection gets cat, which answers
  // until the client's side ends.
  std::string server = CreateAndStart(pod, pod_config, ContainerConfig("echo", {"nc", "-ll", "-p", "8080", "-e", "cat"}));
  // Listening once port 8080 (1F90) shows in the pod's socket tables.
  const std::string wait_for_listener =
      "until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1F90 '; do :; done; echo up";
  ASSERT_EQ(Exec(server, {"/bin/sh", "-c", wait_for_listener}).stdout(), "up\n");
  ::runtime::v1::PortForwardRequest request;
  request.set_pod_sandbox_id(pod);
  ::runtime::v1::PortForwardResponse response;
  grpc::Status status = client().runtime().PortForward(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  Forwarder forwarder(client_binary_, response.url(), 8080);
  ASSERT_GT(forwarder.local_port(), 0) << "the forwarder did not get ready";
  for (int i = 0; i < 20; ++i) {
    const std::string message = absl::StrCat("request ", i, "\n");
    EXPECT_EQ(Exchange(forwarder.local_port(), message), message) << "connection " << i;
  }
  // A few MiB each way in one connection.
  std::string large;
  for (int i = 0; large.size() < (4u << 20); ++i) absl::StrAppend(&large, "bulk ", i, "\n");
  EXPECT_TRUE(Exchange(forwarder.local_port(), large) == large) << "the large exchange differs";
}

TEST_P(StreamingTest, PortForwardRequestsAreChecked) {
  ::runtime::v1::PortForwardRequest request;
  ::runtime::v1::PortForwardResponse response;
  EXPECT_EQ(client().runtime().PortForward(Ctx().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_pod_sandbox_id("no-such-pod");
  EXPECT_EQ(client().runtime().PortForward(Ctx().get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto pod_config = PodConfig("stopped");
  std::string pod = RunPod(pod_config);
  request.set_pod_sandbox_id(pod);
  request.add_port(70000);
  EXPECT_EQ(client().runtime().PortForward(Ctx().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_port();
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(pod);
  ::runtime::v1::StopPodSandboxResponse stopped;
  ASSERT_TRUE(client().runtime().StopPodSandbox(Ctx().get(), stop, &stopped).ok());
  EXPECT_EQ(client().runtime().PortForward(Ctx().get(), request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

INSTANTIATE_TEST_SUITE_P(Handlers, StreamingTest, ::testing::Values("berth", "runc"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
