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

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace berth::node {

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Runs on the connection's own thread, which stays in the target namespace: a
// socket belongs to the namespace its creator was in, and setns moves only the
// calling thread.
StatusOr<UniqueFd> DialIn(int netns, int port) {
  if (::setns(netns, CLONE_NEWNET) != 0) return ErrnoError("setns into the forward's network namespace");
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return ErrnoError("socket");
  sockaddr_in address = Loopback(port);
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoError(absl::StrCat("connect to 127.0.0.1:", port, " in the forward's network namespace"));
  }
  return socket;
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

StatusOr<std::unique_ptr<PortForwarder>> PortForwarder::Start(int listen_port, const std::string& netns,
                                                              int target_port) {
  std::unique_ptr<PortForwarder> forwarder(new PortForwarder());
  forwarder->target_port_ = target_port;
  forwarder->netns_.Reset(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!forwarder->netns_) return ErrnoError(absl::StrCat("open ", netns));
  forwarder->listener_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!forwarder->listener_) return ErrnoError("socket");
  int one = 1;
  ::setsockopt(forwarder->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address = Loopback(listen_port);
  if (::bind(forwarder->listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoError(absl::StrCat("bind 127.0.0.1:", listen_port));
  }
  if (::listen(forwarder->listener_.get(), 64) != 0) return ErrnoError("listen");
  socklen_t length = sizeof(address);
  ::getsockname(forwarder->listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
  forwarder->port_ = ntohs(address.sin_port);
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
    std::thread([client = std::move(client), netns = netns_.get(), port = target_port_]() {
      auto upstream = DialIn(netns, port);
      if (!upstream.ok()) {
        BERTH_LOG(Warn) << "forward failed" << Kv("port", port) << Kv("error", upstream.status().message());
        return;
      }
      Relay(client.get(), upstream->get());
    }).detach();
  }
}

}  // namespace berth::node
