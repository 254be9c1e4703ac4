#include "node/forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace berth::node {

namespace {

constexpr int kMaxConnections = 512;

StatusOr<sockaddr_in> Address(const ForwardEnd& end) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(end.port));
  if (::inet_pton(AF_INET, end.address.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("forward: ", end.address, " is not an IPv4 address"));
  }
  return address;
}

// Runs on the connection's own thread, which enters the target's namespace when it
// is the other one: a socket belongs to the namespace its creator was in, and setns
// moves only the calling thread.
StatusOr<UniqueFd> Dial(int netns, const sockaddr_in& target) {
  if (netns >= 0 && ::setns(netns, CLONE_NEWNET) != 0) {
    return ErrnoError("setns into the forward's network namespace");
  }
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return ErrnoError("socket");
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&target), sizeof(target)) != 0) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &target.sin_addr, text, sizeof(text));
    return ErrnoError(absl::StrCat("connect to ", text, ":", ntohs(target.sin_port)));
  }
  return socket;
}

// A listening socket on address, made in the other namespace by a thread of its
// own when asked.
StatusOr<UniqueFd> Listen(const sockaddr_in& address, int netns) {
  auto make = [&address]() -> StatusOr<UniqueFd> {
    UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener) return ErrnoError("socket");
    int one = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof(text));
      return ErrnoError(absl::StrCat("bind ", text, ":", ntohs(address.sin_port)));
    }
    if (::listen(listener.get(), 64) != 0) return ErrnoError("listen");
    return listener;
  };
  if (netns < 0) return make();
  StatusOr<UniqueFd> made = absl::InternalError("not run");
  std::thread([&] {
    if (::setns(netns, CLONE_NEWNET) != 0) {
      made = ErrnoError("setns into the forward's network namespace");
    } else {
      made = make();
    }
  }).join();
  return made;
}

// Copies both ways until both have ended; one side's end of sending is passed on as
// a half-close.
void Relay(int a, int b) {
  bool open[2] = {true, true};  // a->b, b->a
  char buffer[64 * 1024];
  while (open[0] || open[1]) {
    pollfd fds[2] = {{a, static_cast<short>(open[0] ? POLLIN : 0), 0},
                     {b, static_cast<short>(open[1] ? POLLIN : 0), 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int side = 0; side < 2; ++side) {
      if (!open[side] || fds[side].revents == 0) continue;
      int from = side == 0 ? a : b;
      int to = side == 0 ? b : a;
      ssize_t n = ::read(from, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::shutdown(to, SHUT_WR);
        open[side] = false;
        if (n < 0) return;  // reset: give up both ways
        continue;
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::send(to, buffer + done, static_cast<size_t>(n - done), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        done += w;
      }
    }
  }
}

}  // namespace

StatusOr<std::unique_ptr<PortForwarder>> PortForwarder::Start(const ForwardEnd& listen, const ForwardEnd& target,
                                                              const std::string& netns) {
  std::unique_ptr<PortForwarder> forwarder(new PortForwarder());
  ASSIGN_OR_RETURN(sockaddr_in listen_address, Address(listen));
  ASSIGN_OR_RETURN(forwarder->target_, Address(target));
  forwarder->target_in_netns_ = target.other_namespace;
  forwarder->netns_.Reset(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!forwarder->netns_) return ErrnoError(absl::StrCat("open ", netns));
  ASSIGN_OR_RETURN(forwarder->listener_,
                   Listen(listen_address, listen.other_namespace ? forwarder->netns_.get() : -1));
  socklen_t length = sizeof(listen_address);
  ::getsockname(forwarder->listener_.get(), reinterpret_cast<sockaddr*>(&listen_address), &length);
  forwarder->port_ = ntohs(listen_address.sin_port);
  forwarder->stop_.Reset(::eventfd(0, EFD_CLOEXEC));
  if (!forwarder->stop_) return ErrnoError("eventfd");
  forwarder->acceptor_ = std::thread([raw = forwarder.get()] { raw->AcceptLoop(); });
  return forwarder;
}

PortForwarder::~PortForwarder() {
  if (acceptor_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof(one));
    acceptor_.join();
  }
}

void PortForwarder::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) {
      // Out of fds (EMFILE, ENFILE): the pending connection stays readable, so wait a
      // little rather than spin on it.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    // Each connection has a thread of its own, up to a bound: past it, or when no
    // thread can be made, the connection is refused rather than berth-node (PID 1)
    // brought down.
    if (connections_->load() >= kMaxConnections) continue;
    try {
      connections_->fetch_add(1);
      std::thread([client = std::move(client), netns = target_in_netns_ ? netns_.get() : -1, target = target_,
                   connections = connections_]() {
        auto upstream = Dial(netns, target);
        if (!upstream.ok()) {
          BERTH_LOG(Warn) << "forward failed" << Kv("port", ntohs(target.sin_port))
                          << Kv("error", upstream.status().message());
        } else {
          Relay(client.get(), upstream->get());
        }
        connections->fetch_sub(1);
      }).detach();
    } catch (const std::system_error& e) {
      connections_->fetch_sub(1);
      BERTH_LOG(Warn) << "forward refused a connection" << Kv("error", e.what());
    }
  }
}

}  // namespace berth::node
