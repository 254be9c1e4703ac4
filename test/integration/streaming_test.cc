// Exec, attach and port-forward over berthd's streaming server, driven by
// client-go's own clients (what kubelet, kubectl and critest use), built from
// test/streaming/client: SPDY, WebSocket (v5 channels, and kubectl's SPDY tunnel
// for port-forward), and SPDY over TLS with client certificates. The older
// WebSocket protocols, which client-go no longer speaks, are driven with Beast.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file_util.h"
#include "base/process.h"
#include "test/integration/pod_fixture.h"
#include "test/integration/stream_client.h"
#include "test/integration/test_crypto.h"

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace berth::testing {
namespace {

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by
// the CA, as PEM files in dir (ca.pem, server.pem, server.key, client.pem,
// client.key).
Status MakeCertificates(const std::string& dir) {
  const std::string script = absl::StrCat(
      "set -e; cd '", dir, "'\n",
      "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1 2>/dev/null; }\n",
      "key ca.key; key server.key; key client.key\n",
      "openssl req -x509 -new -key ca.key -out ca.pem -days 1 -subj /CN=berth-test-ca\n",
      "sign() { openssl req -new -key $1.key -subj /CN=$1 | openssl x509 -req -CA ca.pem -CAkey ca.key ",
      "-CAcreateserial -days 1 -out $1.pem -extfile $1.ext 2>/dev/null; }\n",
      "echo 'subjectAltName=IP:127.0.0.1' > server.ext; echo 'extendedKeyUsage=serverAuth' >> server.ext\n",
      "echo 'extendedKeyUsage=clientAuth' > client.ext\n",
      "sign server; sign client\n");
  ASSIGN_OR_RETURN(RunResult run, RunProcess({"/bin/sh", "-c", script}, RunOptions{}));
  if (run.exit_code != 0) return absl::InternalError(absl::StrCat("making test certificates: ", run.err));
  return absl::OkStatus();
}

// The parameter: the runtime handler, then how the client connects: "_websocket"
// (WebSocket), "_tls" (SPDY over TLS, with client certificates), or SPDY alone.
class StreamingTest : public PodFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped()) return;
    if (Handler() == "runc" && ::access("/usr/sbin/runc", X_OK) != 0) GTEST_SKIP() << "runc is not installed";
    std::string missing;
    bool no_go = false;
    client_binary_ = StreamClient(&missing, &no_go);
    if (no_go) GTEST_SKIP() << missing;
    ASSERT_FALSE(client_binary_.empty()) << missing;
    std::string config_text = "default_runtime_handler: " + Handler() + "\n";
    if (Tls()) {
      ASSERT_TRUE(MakeCertificates(dir_).ok());
      absl::StrAppend(&config_text, "streaming:\n  tls_cert_file: ", dir_, "/server.pem\n  tls_key_file: ", dir_,
                      "/server.key\n  tls_client_ca_file: ", dir_, "/ca.pem\n");
    }
    std::string config = dir_ + "/berth.yaml";
    ASSERT_TRUE(WriteFileAtomically(config, config_text).ok());
    StartWithImages({"--config", config});
  }

  // What a session leaves in berthd is a leak too: a child process (an exec, a
  // reaper) or a TCP connection of its streaming server. Sessions end
  // asynchronously, so both are waited for, a while.
  void TearDown() override {
    if (berthd_pid_ > 0 && !IsSkipped()) {
      std::vector<std::string> left;
      for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);;) {
        left = StreamingLeftovers();
        if (left.empty() || std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      EXPECT_TRUE(left.empty()) << "left by streaming sessions: " << absl::StrJoin(left, "; ");
    }
    PodFixture::TearDown();
  }

  std::vector<std::string> StreamingLeftovers() const {
    std::vector<std::string> left;
    std::error_code ec;
    for (const auto& process : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = process.path().filename().string();
      if (name.empty() || !absl::ascii_isdigit(name[0])) continue;
      // stat: "PID (COMM) STATE PPID ...", COMM possibly holding spaces or ')'.
      const std::string stat = ReadFile(process.path().string() + "/stat").value_or("");
      const size_t end = stat.rfind(')');
      if (end == std::string::npos) continue;
      std::vector<std::string> fields = absl::StrSplit(stat.substr(end + 2), ' ');
      int parent = 0;
      if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &parent) || parent != berthd_pid_) continue;
      std::string command = ReadFile(process.path().string() + "/cmdline").value_or("");
      std::replace(command.begin(), command.end(), '\0', ' ');
      left.push_back(absl::StrCat("berthd's child ", name, ": ", command));
    }
    // The streaming server's port, from its log line; then any connection on it
    // whose socket berthd holds.
    const std::string log = ReadFile(berthd_log_).value_or("");
    const size_t at = log.rfind("streaming server listening url=");
    if (at == std::string::npos) return left;
    const size_t colon = log.find(':', log.find("//", at) + 2);
    const int port = std::atoi(log.c_str() + colon + 1);
    std::set<std::string> inodes;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
      for (absl::string_view line : absl::StrSplit(ReadFile(table).value_or(""), '\n', absl::SkipEmpty())) {
        std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
        if (fields.size() < 10 || fields[0] == "sl") continue;
        const size_t port_at = fields[1].rfind(':');
        int local_port = 0;
        if (port_at == absl::string_view::npos ||
            !absl::SimpleHexAtoi(fields[1].substr(port_at + 1), &local_port) || local_port != port ||
            fields[3] == "0A") {  // 0A: the listening socket itself
          continue;
        }
        inodes.insert(std::string(fields[9]));
      }
    }
    for (const auto& fd : std::filesystem::directory_iterator(absl::StrCat("/proc/", berthd_pid_, "/fd"), ec)) {
      const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
      if (absl::StartsWith(target, "socket:[") && inodes.count(target.substr(8, target.size() - 9))) {
        left.push_back(absl::StrCat("a streaming connection (fd ", fd.path().filename().string(), ")"));
      }
    }
    return left;
  }

  std::string Handler() const { return GetParam().substr(0, GetParam().find('_')); }
  bool WebSocket() const { return absl::EndsWith(GetParam(), "_websocket"); }
  bool Tls() const { return absl::EndsWith(GetParam(), "_tls"); }

  // The client's command line for url, up to the flags of the session itself.
  std::vector<std::string> ClientCommand(const std::string& url, bool with_certificate = true) const {
    std::vector<std::string> command = {client_binary_, "-url", url};
    if (WebSocket()) command.push_back("-websocket");
    if (Tls()) {
      command.insert(command.end(), {"-ca", dir_ + "/ca.pem"});
      if (with_certificate) command.insert(command.end(), {"-cert", dir_ + "/client.pem", "-key", dir_ + "/client.key"});
    }
    return command;
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
  RunResult Stream(const std::string& url, const std::string& stdin_file = "", bool tty = false,
                   const std::vector<std::string>& more_flags = {}) {
    std::string command;
    for (const auto& arg : ClientCommand(url)) absl::StrAppend(&command, "'", arg, "' ");
    if (tty) absl::StrAppend(&command, " -tty");
    for (const auto& arg : more_flags) absl::StrAppend(&command, " '", arg, "'");
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
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string input = dir_ + "/input";
  ASSERT_TRUE(WriteFileAtomically(input, "", 0644, Durability::kCrash).ok());
  RunResult run = Stream(url, input, /*tty=*/true);
  EXPECT_EQ(run.exit_code, 4) << run.err << run.out;
  // A terminal of the container's own devpts, which turns newlines into CR LF.
  EXPECT_TRUE(absl::StartsWith(run.out, "/dev/pts/")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "hello\r\n")) << run.out;
}

TEST_P(StreamingTest, ATerminalHasTheClientsSizeAndFollowsItsResizes) {
  std::string id = SleepingContainer("resize");
  ::runtime::v1::ExecRequest request;
  request.set_container_id(id);
  // The size the client had at the start, then (once that line is out) its resize.
  for (const char* arg : {"/bin/sh", "-c",
                          "stty size; until [ \"$(stty size)\" = '40 100' ]; do usleep 20000; done; stty size"}) {
    request.add_cmd(arg);
  }
  request.set_tty(true);
  request.set_stdin(true);
  request.set_stdout(true);
  std::string url;
  ASSERT_TRUE(ExecUrl(request, &url).ok());
  const std::string input = dir_ + "/input";
  ASSERT_TRUE(WriteFileAtomically(input, "", 0644, Durability::kCrash).ok());
  RunResult run = Stream(url, input, /*tty=*/true, {"-sizes", "80x24,100x40"});
  EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(run.out, "24 80\r\n40 100\r\n");
}

TEST_P(StreamingTest, TlsClientsMustHoldACertificateOfTheCa) {
  if (!Tls()) GTEST_SKIP() << "checks TLS mode";
  std::string id = SleepingContainer("tls");
  RunOptions options;
  options.timeout = std::chrono::minutes(1);
  auto refused = RunProcess(ClientCommand(ExecUrl(id, {"true"}, false), /*with_certificate=*/false), options);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->exit_code, 255) << refused->out;
  auto accepted = RunProcess(ClientCommand(ExecUrl(id, {"true"}, false)), options);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->exit_code, 0) << accepted->err;
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
  EXPECT_TRUE(absl::StartsWith(url, Tls() ? "https://127.0.0.1:" : "http://127.0.0.1:")) << url;
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
  // The process runs once it has said so.
  ReadingChild started = StartReadingUntil(ClientCommand(url), "started");
  const pid_t client = started.pid;
  ASSERT_GT(client, 0);
  ASSERT_TRUE(absl::StrContains(started.seen, "started")) << "the client ended before the process started";
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
  Forwarder forwarder(ClientCommand(response.url()), 8080);
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

TEST_P(StreamingTest, APodResettingAForwardedConnectionEndsThatConnectionOnly) {
  auto pod_config = PodConfig("reset");
  std::string pod = RunPod(pod_config);
  // Each connection: a first line "reset" makes the shell exit with the rest of the
  // client's data unread, so the pod's kernel answers with RST; any other line is
  // echoed, and so is what follows.
  std::string server = CreateAndStart(
      pod, pod_config,
      ContainerConfig("echo", {"nc", "-ll", "-p", "8080", "-e", "/bin/sh", "-c",
                               "read line; [ \"$line\" = reset ] && exit 0; echo \"$line\"; exec cat"}));
  const std::string wait_for_listener =
      "until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1F90 '; do :; done; echo up";
  ASSERT_EQ(Exec(server, {"/bin/sh", "-c", wait_for_listener}).stdout(), "up\n");
  ::runtime::v1::PortForwardRequest request;
  request.set_pod_sandbox_id(pod);
  ::runtime::v1::PortForwardResponse response;
  ASSERT_TRUE(client().runtime().PortForward(Ctx().get(), request, &response).ok());
  Forwarder forwarder(ClientCommand(response.url()), 8080);
  ASSERT_GT(forwarder.local_port(), 0) << "the forwarder did not get ready";
  for (int i = 0; i < 3; ++i) {
    std::string reset = "reset\n" + std::string(256 << 10, 'x');
    EXPECT_EQ(Exchange(forwarder.local_port(), reset), "") << "the pod answered nothing";
    // The session is still there: the next connection goes through.
    EXPECT_EQ(Exchange(forwarder.local_port(), "hello\n"), "hello\n") << "after reset " << i;
  }
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

TEST_P(StreamingTest, AnExecEndsWithItsContainerInASharedPidNamespace) {
  if (WebSocket() || Tls()) GTEST_SKIP() << "the same on every transport";
  // One PID namespace for the pod: the kernel ends nothing when the target's init
  // dies, so berthd must end what was exec'd into it.
  auto pod_config = PodConfig("shared-pid");
  pod_config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::POD);
  std::string pod = RunPod(pod_config);
  auto shared = [](::runtime::v1::ContainerConfig config) {
    config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(::runtime::v1::POD);
    return config;
  };
  std::string target = CreateAndStart(pod, pod_config, shared(ContainerConfig("target", {"sleep", "1000"})));
  std::string watcher = CreateAndStart(pod, pod_config, shared(ContainerConfig("watcher", {"sleep", "1000"})));
  std::string url = ExecUrl(target, {"/bin/sh", "-c", "echo started; exec sleep 777"}, false);
  ReadingChild started = StartReadingUntil(ClientCommand(url), "started");
  const pid_t session = started.pid;
  ASSERT_GT(session, 0);
  ASSERT_TRUE(absl::StrContains(started.seen, "started")) << "the client ended before the process started";
  const std::vector<std::string> count_sleepers = {
      "/bin/sh", "-c", "for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c; echo; done | grep -c '^sleep 777'"};
  ASSERT_EQ(Exec(watcher, count_sleepers).stdout(), "1\n") << "the watcher sees the target's processes";
  ::runtime::v1::StopContainerRequest stop;
  stop.set_container_id(target);
  ::runtime::v1::StopContainerResponse stopped;
  ASSERT_TRUE(client().runtime().StopContainer(Ctx().get(), stop, &stopped).ok());
  // The session ends with its process, killed (128 + SIGKILL).
  int status = 0;
  ASSERT_EQ(::waitpid(session, &status, 0), session);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 137) << status;
  EXPECT_EQ(Exec(watcher, count_sleepers).stdout(), "0\n") << "the exec'd process outlived its container";
}

// berthctl's streaming commands (exec -i/-t, attach, port-forward) over the same
// server, as a person would use them on a node.
class BerthctlStreamingTest : public StreamingTest {
 protected:
  RunResult Berthctl(const std::vector<std::string>& args, const std::string& stdin_file) {
    std::string command = absl::StrCat("'", BERTHCTL_PATH, "' --endpoint 'unix://", socket_, "'");
    for (const auto& arg : args) absl::StrAppend(&command, " '", arg, "'");
    absl::StrAppend(&command, " < '", stdin_file, "'");
    RunOptions options;
    options.timeout = std::chrono::minutes(2);
    options.max_output = 64 << 20;
    auto result = RunProcess({"/bin/sh", "-c", command}, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  }
};

TEST_P(BerthctlStreamingTest, ExecAttachAndPortForward) {
  std::string id = SleepingContainer("berthctl");
  std::string data;
  for (int i = 0; data.size() < (4u << 20); ++i) absl::StrAppend(&data, "berthctl line ", i, "\n");
  const std::string file = dir_ + "/stdin";
  ASSERT_TRUE(WriteFileAtomically(file, data, 0644, Durability::kCrash).ok());
  RunResult cat = Berthctl({"exec", "-i", id, "--", "cat"}, file);
  EXPECT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_TRUE(cat.out == data) << "stdout differs from stdin, " << cat.out.size() << " bytes";
  const std::string empty = dir_ + "/empty";
  ASSERT_TRUE(WriteFileAtomically(empty, "", 0644, Durability::kCrash).ok());
  RunResult failed = Berthctl({"exec", "-i", id, "--", "/bin/sh", "-c", "echo oops >&2; exit 5"}, empty);
  EXPECT_EQ(failed.exit_code, 5);
  EXPECT_EQ(failed.err, "oops\n");
  RunResult tty = Berthctl({"exec", "-t", id, "--", "/bin/sh", "-c", "echo hi"}, empty);
  EXPECT_EQ(tty.exit_code, 0) << tty.err;
  EXPECT_EQ(tty.out, "hi\r\n");

  // attach: the container's shell reads what berthctl's stdin has, and ends with it.
  auto pod_config = PodConfig("berthctl-attach");
  std::string pod = RunPod(pod_config);
  auto config = ContainerConfig("shell", {"/bin/sh"});
  config.set_stdin(true);
  config.set_stdin_once(true);
  std::string shell = CreateAndStart(pod, pod_config, config);
  const std::string commands = dir_ + "/commands";
  ASSERT_TRUE(WriteFileAtomically(commands, "echo -n attached\n", 0644, Durability::kCrash).ok());
  RunResult attached = Berthctl({"attach", "-i", shell}, commands);
  EXPECT_EQ(attached.exit_code, 0) << attached.err;
  EXPECT_EQ(attached.out, "attached");

  // port-forward: each connection answered once, then closed by the pod.
  std::string server = CreateAndStart(
      pod, pod_config,
      ContainerConfig("answer", {"nc", "-ll", "-p", "8080", "-e", "/bin/sh", "-c", "read line; echo \"got $line\""}));
  const std::string wait_for_listener =
      "until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1F90 '; do :; done; echo up";
  ASSERT_EQ(Exec(server, {"/bin/sh", "-c", wait_for_listener}).stdout(), "up\n");
  ReadingChild forwarding = StartReadingUntil(
      {BERTHCTL_PATH, "--endpoint", "unix://" + socket_, "port-forward", pod, "0:8080"}, "\n");
  const pid_t forwarder = forwarding.pid;
  ASSERT_GT(forwarder, 0);
  const std::string& line = forwarding.seen;
  // "Forwarding from 127.0.0.1:PORT -> 8080"
  const size_t colon = line.find("127.0.0.1:");
  ASSERT_NE(colon, std::string::npos) << line;
  const int local_port = std::atoi(line.c_str() + colon + 10);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Exchange(local_port, absl::StrCat("hello ", i, "\n")), absl::StrCat("got hello ", i, "\n"));
  }
  ::kill(forwarder, SIGTERM);
  int status = 0;
  ::waitpid(forwarder, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// crictl's exec, attach and port-forward, over SPDY and over WebSocket (-r), where
// test/critest/build.sh has built crictl into its cache.
TEST_P(BerthctlStreamingTest, CrictlOverSpdyAndWebSocket) {
  const std::string crictl = "/var/cache/berth/cri-tools/crictl";
  if (::access(crictl.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no crictl at " << crictl << " (test/critest/build.sh builds it)";
  }
  std::string id = SleepingContainer("crictl");
  auto pod_config = PodConfig("crictl-pod");
  std::string pod = RunPod(pod_config);
  std::string server = CreateAndStart(
      pod, pod_config,
      ContainerConfig("answer", {"nc", "-ll", "-p", "8080", "-e", "/bin/sh", "-c", "read line; echo \"got $line\""}));
  const std::string wait_for_listener =
      "until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1F90 '; do :; done; echo up";
  ASSERT_EQ(Exec(server, {"/bin/sh", "-c", wait_for_listener}).stdout(), "up\n");
  const std::string input = dir_ + "/input";
  ASSERT_TRUE(WriteFileAtomically(input, "echo -n from-stdin\n", 0644, Durability::kCrash).ok());
  auto run = [&](const std::string& args) {
    RunOptions options;
    options.timeout = std::chrono::minutes(1);
    const std::string command = absl::StartsWith(args, "script ")
                                    ? args
                                    : absl::StrCat(crictl, " --runtime-endpoint unix://", socket_, " ", args);
    auto result = RunProcess({"/bin/sh", "-c", absl::StrCat(command, " < ", input)}, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  };
  for (const std::string transport : {"spdy", "websocket"}) {
    SCOPED_TRACE(transport);
    RunResult plain = run(absl::StrCat("exec -r ", transport, " ", id, " sh -c 'echo out; exit 3'"));
    EXPECT_EQ(plain.exit_code, 1) << "crictl says the code, and exits 1: " << plain.err;
    EXPECT_TRUE(absl::StrContains(plain.err, "exit code 3")) << plain.err;
    EXPECT_EQ(plain.out, "out\n");
    RunResult with_stdin = run(absl::StrCat("exec -i -r ", transport, " ", id, " sh"));
    EXPECT_EQ(with_stdin.exit_code, 0) << with_stdin.err;
    EXPECT_EQ(with_stdin.out, "from-stdin");
    // crictl -t wants a terminal of its own: script(1) gives it one.
    RunResult terminal = run(absl::StrCat("script -qec \"", crictl, " --runtime-endpoint unix://", socket_,
                                          " exec -it -r ", transport, " ", id,
                                          " sh -c 'tty >/dev/null && echo tty'\" /dev/null"));
    EXPECT_EQ(terminal.exit_code, 0) << terminal.err;
    EXPECT_TRUE(absl::StrContains(terminal.out, "tty\r\n")) << terminal.out;

    auto config = ContainerConfig("shell-" + transport, {"/bin/sh"});
    config.set_stdin(true);
    config.set_stdin_once(true);
    std::string shell = CreateAndStart(pod, pod_config, config);
    RunResult attached = run(absl::StrCat("attach -i -r ", transport, " ", shell));
    EXPECT_EQ(attached.exit_code, 0) << attached.err;
    EXPECT_EQ(attached.out, "from-stdin");

    ReadingChild forwarding = StartReadingUntil(
        {crictl, "--runtime-endpoint", "unix://" + socket_, "port-forward", "-r", transport, pod, "0:8080"}, "\n");
    const pid_t forwarder = forwarding.pid;
    ASSERT_GT(forwarder, 0);
    const std::string& line = forwarding.seen;
    const size_t at = line.find("127.0.0.1:");
    ASSERT_NE(at, std::string::npos) << line;
    const int local_port = std::atoi(line.c_str() + at + 10);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(Exchange(local_port, absl::StrCat("hello ", i, "\n")), absl::StrCat("got hello ", i, "\n"));
    }
    ::kill(forwarder, SIGTERM);
    ::waitpid(forwarder, nullptr, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Handlers, BerthctlStreamingTest, ::testing::Values("berth"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// A WebSocket client of the older protocols (which client-go no longer speaks but
// web terminals and other language clients do), on Beast: connects to url asking
// for protocol, sends each of to_send as a binary (text, for base64) message, and
// collects what the server sends until it closes (or until enough have come).
struct WebSocketExchange {
  std::string protocol;                // what the server chose
  std::vector<std::string> received;   // its messages, in order
};

StatusOr<WebSocketExchange> TalkWebSocket(const std::string& url, const std::string& protocol,
                                          const std::vector<std::string>& to_send, size_t enough = SIZE_MAX) {
  namespace beast = boost::beast;
  namespace asio = boost::asio;
  std::vector<std::string> parts = absl::StrSplit(absl::StripPrefix(url, "http://"), absl::MaxSplits('/', 1));
  std::vector<std::string> host_port = absl::StrSplit(parts[0], ':');
  if (parts.size() != 2 || host_port.size() != 2) return absl::InvalidArgumentError("not an http URL: " + url);
  asio::io_context io;
  beast::websocket::stream<asio::ip::tcp::socket> socket(io);
  beast::error_code error;
  socket.next_layer().connect({asio::ip::make_address(host_port[0]),
                               static_cast<uint16_t>(std::stoi(host_port[1]))}, error);
  if (error) return absl::UnavailableError(error.message());
  socket.set_option(beast::websocket::stream_base::decorator([&](beast::websocket::request_type& request) {
    request.set(beast::http::field::sec_websocket_protocol, protocol);
  }));
  beast::websocket::response_type response;
  socket.handshake(response, parts[0], "/" + parts[1], error);
  if (error) return absl::UnavailableError(absl::StrCat("WebSocket handshake: ", error.message()));
  WebSocketExchange exchange;
  exchange.protocol = std::string(response[beast::http::field::sec_websocket_protocol]);
  const bool text = absl::StrContains(protocol, "base64");
  for (const auto& message : to_send) {
    socket.text(text);
    socket.write(asio::buffer(message), error);
    if (error) return absl::UnavailableError(error.message());
  }
  while (exchange.received.size() < enough) {
    beast::flat_buffer buffer;
    socket.read(buffer, error);
    if (error == beast::websocket::error::closed) break;
    if (error) return absl::UnavailableError(absl::StrCat("WebSocket read: ", error.message()));
    exchange.received.push_back(beast::buffers_to_string(buffer.data()));
  }
  if (socket.is_open()) socket.close(beast::websocket::close_code::normal, error);
  return exchange;
}

TEST_P(StreamingTest, OlderWebSocketProtocols) {
  if (!WebSocket()) GTEST_SKIP() << "checks WebSocket";
  std::string id = SleepingContainer("legacy");
  // Exec on base64 channels: stdin in, stdout and stderr out, then the status.
  std::string url = ExecUrl(id, {"/bin/sh", "-c", "read x; echo got $x; echo err >&2; exit 2"}, true);
  auto exec = TalkWebSocket(url, "v4.base64.channel.k8s.io", {"0" + Base64Encode("hi\n")});
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(exec->protocol, "v4.base64.channel.k8s.io");
  ASSERT_FALSE(exec->received.empty());
  EXPECT_EQ(exec->received[0], "1") << "the opening message, on stdout";
  std::string out, err, status;
  for (size_t i = 1; i < exec->received.size(); ++i) {
    const std::string& message = exec->received[i];
    auto payload = Base64Decode(message.substr(1));
    ASSERT_TRUE(payload.ok()) << message;
    (message[0] == '1' ? out : message[0] == '2' ? err : status) += *payload;
  }
  EXPECT_EQ(out, "got hi\n");
  EXPECT_EQ(err, "err\n");
  EXPECT_TRUE(absl::StrContains(status, "NonZeroExitCode")) << status;

  // channel.k8s.io: binary, and the status (before v4) is only a failure's text.
  url = ExecUrl(id, {"/bin/sh", "-c", "echo plain"}, false);
  auto plain = TalkWebSocket(url, "channel.k8s.io", {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->protocol, "channel.k8s.io");
  std::string joined;
  for (const auto& message : plain->received) absl::StrAppend(&joined, "[", message, "]");
  EXPECT_EQ(joined, "[\x01][\x01plain\n]");

  // A subprotocol berth does not speak is refused at the handshake.
  url = ExecUrl(id, {"true"}, false);
  EXPECT_FALSE(TalkWebSocket(url, "v9.channel.k8s.io", {}).ok());

  // Port-forward on v4 channels: a data and an error channel per port of the
  // request, each opened with its port (little-endian).
  auto pod_config = PodConfig("legacy-forward");
  std::string pod = RunPod(pod_config);
  std::string server = CreateAndStart(pod, pod_config, ContainerConfig("echo", {"nc", "-ll", "-p", "8080", "-e", "cat"}));
  const std::string wait_for_listener =
      "until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ':1F90 '; do :; done; echo up";
  ASSERT_EQ(Exec(server, {"/bin/sh", "-c", wait_for_listener}).stdout(), "up\n");
  ::runtime::v1::PortForwardRequest request;
  request.set_pod_sandbox_id(pod);
  request.add_port(8080);
  ::runtime::v1::PortForwardResponse response;
  ASSERT_TRUE(client().runtime().PortForward(Ctx().get(), request, &response).ok());
  auto forward = TalkWebSocket(response.url(), "v4.channel.k8s.io", {std::string("\x00ping\n", 6)}, 3);
  ASSERT_TRUE(forward.ok()) << forward.status();
  ASSERT_EQ(forward->received.size(), 3u);
  std::sort(forward->received.begin(), forward->received.begin() + 2);
  EXPECT_EQ(forward->received[0], std::string("\x00\x90\x1f", 3));
  EXPECT_EQ(forward->received[1], std::string("\x01\x90\x1f", 3));
  EXPECT_EQ(forward->received[2], std::string("\x00ping\n", 6));
}

INSTANTIATE_TEST_SUITE_P(Handlers, StreamingTest,
                         ::testing::Values("berth", "runc", "berth_websocket", "berth_tls"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace berth::testing
