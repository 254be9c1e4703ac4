// End-to-end tests of SCMP_ACT_NOTIFY (runtime/seccomp_listener.h): berth-runtime
// hands the filter's notify fd, for the init at create and for each exec'd process,
// to a seccomp agent the test runs, which then answers the container's mkdir calls
// itself (success, making nothing).
#include <poll.h>
#include <seccomp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "runtime/e2e_fixture.h"

namespace berth::runtime_test {
namespace {

// Listens on a unix socket; keeps each container process state it is sent and
// answers the notifications of every fd that came with one.
class SeccompAgent {
 public:
  explicit SeccompAgent(const std::string& path) : path_(path) {
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_.get(), 4), 0);
    stop_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
    thread_ = std::thread([this] { Serve(); });
  }

  ~SeccompAgent() {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
    ::unlink(path_.c_str());
  }

  std::vector<json> States() {
    std::lock_guard<std::mutex> lock(mu_);
    return states_;
  }

 private:
  void Serve() {
    std::vector<UniqueFd> notify_fds;
    for (;;) {
      std::vector<pollfd> polled = {{stop_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
      for (const UniqueFd& fd : notify_fds) polled.push_back({fd.get(), POLLIN, 0});
      if (::poll(polled.data(), polled.size(), -1) < 0) continue;
      if (polled[0].revents != 0) return;
      if (polled[1].revents & POLLIN) {
        UniqueFd fd = Accept();
        if (fd) notify_fds.push_back(std::move(fd));
      }
      for (size_t i = 2; i < polled.size(); ++i) {
        if (polled[i].revents & POLLIN) Answer(polled[i].fd);
      }
      // An fd whose filter no process uses any more hangs up.
      for (size_t i = polled.size(); i-- > 2;) {
        if ((polled[i].revents & POLLHUP) && !(polled[i].revents & POLLIN)) {
          notify_fds.erase(notify_fds.begin() + static_cast<long>(i - 2));
        }
      }
    }
  }

  // One connection: the process state as JSON, the notify fd alongside.
  UniqueFd Accept() {
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return UniqueFd();
    std::string text;
    UniqueFd notify;
    for (;;) {
      char buf[4096];
      char control[CMSG_SPACE(sizeof(int))] = {};
      iovec payload = {buf, sizeof buf};
      msghdr message = {};
      message.msg_iov = &payload;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(conn.get(), &message, MSG_CMSG_CLOEXEC);
      if (n <= 0) break;
      for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
        notify = UniqueFd(fd);
      }
      text.append(buf, n);
    }
    std::lock_guard<std::mutex> lock(mu_);
    states_.push_back(json::parse(text, nullptr, false));
    return notify;
  }

  static void Answer(int notify_fd) {
    seccomp_notif* request = nullptr;
    seccomp_notif_resp* response = nullptr;
    if (::seccomp_notify_alloc(&request, &response) != 0) return;
    if (::seccomp_notify_receive(notify_fd, request) == 0) {
      response->id = request->id;
      response->val = 0;
      response->error = 0;
      response->flags = 0;
      (void)::seccomp_notify_respond(notify_fd, response);
    }
    ::seccomp_notify_free(request, response);
  }

  std::string path_;
  UniqueFd listener_;
  UniqueFd stop_;
  std::mutex mu_;
  std::vector<json> states_;
  std::thread thread_;
};

class SeccompNotifyE2eTest : public RuntimeE2eTest {
 protected:
  json WithAgent(json config) {
    config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}},
        {"listenerPath", dir_ + "/agent.sock"},
        {"listenerMetadata", "berth-test"},
    };
    return config;
  }
};

TEST_F(SeccompNotifyE2eTest, TheAgentGetsTheFdAndAnswersForTheContainer) {
  SeccompAgent agent(dir_ + "/agent.sock");
  json config = WithAgent(Config("notified", {"sh", "-c",
                                              "mkdir /tmp/made && echo answered; test -d /tmp/made || echo not-made; "
                                              "echo up; exec sleep 1000"}));
  UniqueFd out;
  pid_t pid = Create(kBerthRuntime, "notified", config, &out);
  ASSERT_GT(pid, 0);
  std::vector<json> states = agent.States();
  ASSERT_EQ(states.size(), 1u) << "sent at create, before the container runs";
  EXPECT_EQ(states[0]["fds"], json({"seccompFd"}));
  EXPECT_EQ(states[0]["pid"], pid);
  EXPECT_EQ(states[0]["metadata"], "berth-test");
  EXPECT_EQ(states[0]["state"]["id"], "notified");
  EXPECT_EQ(states[0]["state"]["status"], "creating");
  EXPECT_EQ(states[0]["state"]["bundle"], dir_ + "/notified");

  ASSERT_EQ(RunCommand({kBerthRuntime, "--root", state_, "start", "notified"}).exit_code, 0);
  EXPECT_EQ(ReadUntil(out.get(), "up\n"), "answered\nnot-made\nup\n");

  // An exec'd process has a filter (and a notify fd) of its own.
  Result exec = RunCommand({kBerthRuntime, "--root", state_, "exec", "notified", "sh", "-c",
                            "mkdir /tmp/again && test ! -d /tmp/again && echo answered again"});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_EQ(exec.out, "answered again\n");
  states = agent.States();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_NE(states[1]["pid"], pid);
  EXPECT_EQ(states[1]["state"]["status"], "running");
  EXPECT_EQ(states[1]["state"]["pid"], pid);
}

TEST_F(SeccompNotifyE2eTest, NoAgentOrNoListenerPathFailsCreate) {
  UniqueFd out;
  Result result;
  // Nobody listens: the create fails, saying where it tried, and leaves nothing.
  EXPECT_EQ(Create(kBerthRuntime, "no-agent", WithAgent(Config("no-agent", {"true"})), &out, &result), 0);
  EXPECT_NE(result.err.find("seccomp agent at " + dir_ + "/agent.sock: connect"), std::string::npos) << result.err;
  ExpectGone("no-agent");

  json config = WithAgent(Config("no-path", {"true"}));
  config["linux"]["seccomp"].erase("listenerPath");
  config["linux"]["seccomp"].erase("listenerMetadata");
  EXPECT_EQ(Create(kBerthRuntime, "no-path", config, &out, &result), 0);
  EXPECT_NE(result.err.find("SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"), std::string::npos) << result.err;
  ExpectGone("no-path");
}

}  // namespace
}  // namespace berth::runtime_test
