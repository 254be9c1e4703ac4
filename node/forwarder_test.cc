#include "node/forwarder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace berth::node {
namespace {

// A listener on 127.0.0.1 at a port the kernel picks.
UniqueFd Listener(int* port) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::listen(listener.get(), 4), 0);
  socklen_t length = sizeof(address);
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return listener;
}

UniqueFd Connect(int port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return socket;
}

std::string ReadSome(int fd) {
  pollfd ready = {fd, POLLIN, 0};
  if (::poll(&ready, 1, 10000) != 1) return "";
  char buffer[64];
  ssize_t n = ::read(fd, buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

// One connection through the forwarder, both ways.
void ExpectRelayed(int forwarder_port, int target_listener) {
  UniqueFd client = Connect(forwarder_port);
  ASSERT_EQ(::write(client.get(), "ping", 4), 4);
  pollfd ready = {target_listener, POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 10000), 1);
  UniqueFd served(::accept4(target_listener, nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(served.valid());
  EXPECT_EQ(ReadSome(served.get()), "ping");
  ASSERT_EQ(::write(served.get(), "pong", 4), 4);
  EXPECT_EQ(ReadSome(client.get()), "pong");
}

// The other namespace is this process's own: what is tested is that sockets are
// made in it and carried across (setns needs CAP_SYS_ADMIN).
class PortForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "entering a network namespace needs root";
  }
  const std::string netns_ = "/proc/self/ns/net";
};

TEST_F(PortForwarderTest, IntoTheOtherNamespace) {
  int target_port = 0;
  UniqueFd target = Listener(&target_port);
  auto forwarder = PortForwarder::Start({.address = "127.0.0.1", .port = 0},
                                        {.address = "127.0.0.1", .port = target_port, .other_namespace = true}, netns_);
  ASSERT_TRUE(forwarder.ok()) << forwarder.status();
  ExpectRelayed((*forwarder)->port(), target.get());
}

TEST_F(PortForwarderTest, OutOfTheOtherNamespace) {
  int target_port = 0;
  UniqueFd target = Listener(&target_port);
  auto forwarder = PortForwarder::Start({.address = "127.0.0.1", .port = 0, .other_namespace = true},
                                        {.address = "127.0.0.1", .port = target_port}, netns_);
  ASSERT_TRUE(forwarder.ok()) << forwarder.status();
  ExpectRelayed((*forwarder)->port(), target.get());
}

TEST_F(PortForwarderTest, RefusesWhatItCannotDo) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      PortForwarder::Start({.address = "localhost", .port = 0}, {.address = "127.0.0.1", .port = 1}, netns_)
          .status()));
  EXPECT_FALSE(PortForwarder::Start({.address = "127.0.0.1", .port = 0}, {.address = "127.0.0.1", .port = 1},
                                    "/nonexistent")
                   .ok());
  int taken_port = 0;
  UniqueFd taken = Listener(&taken_port);
  auto busy = PortForwarder::Start({.address = "127.0.0.1", .port = taken_port, .other_namespace = true},
                                   {.address = "127.0.0.1", .port = 1}, netns_);
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.status().message().find("bind 127.0.0.1:"), std::string::npos) << busy.status();
}

}  // namespace
}  // namespace berth::node
