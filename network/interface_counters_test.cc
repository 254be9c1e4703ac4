#include "network/interface_counters.h"

#include <gtest/gtest.h>

namespace berth::network {
namespace {

constexpr char kNetDev[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
    "carrier compressed\n"
    "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       "
    "0          0\n"
    "  eth0: 123456     100    1    2    0     0          0         0    65432      50    3    4    0     0       "
    "0          0\n"
    "  net1:      7       1    0    0    0     0          0         0        8       1    0    0    0     0       "
    "0          0\n";

TEST(ParseNetDev, ReadsEveryInterfaceButLoopback) {
  auto interfaces = ParseNetDev(kNetDev);
  ASSERT_EQ(interfaces.size(), 2u);
  EXPECT_EQ(interfaces[0].name, "eth0");
  EXPECT_EQ(interfaces[0].rx_bytes, 123456u);
  EXPECT_EQ(interfaces[0].rx_packets, 100u);
  EXPECT_EQ(interfaces[0].rx_errors, 1u);
  EXPECT_EQ(interfaces[0].rx_dropped, 2u);
  EXPECT_EQ(interfaces[0].tx_bytes, 65432u);
  EXPECT_EQ(interfaces[0].tx_packets, 50u);
  EXPECT_EQ(interfaces[0].tx_errors, 3u);
  EXPECT_EQ(interfaces[0].tx_dropped, 4u);
  EXPECT_EQ(interfaces[1].name, "net1");
  EXPECT_EQ(DefaultInterface(interfaces)->name, "eth0");
}

TEST(ParseNetDev, SkipsGarbage) {
  EXPECT_TRUE(ParseNetDev("").empty());
  EXPECT_TRUE(ParseNetDev("eth0: 1 2 3\nnonsense\n").empty());
  EXPECT_EQ(DefaultInterface({}), nullptr);
}

TEST(DefaultInterface, FirstWhenNoEth0) {
  std::vector<InterfaceCounters> interfaces{{.name = "net1"}, {.name = "net2"}};
  EXPECT_EQ(DefaultInterface(interfaces)->name, "net1");
}

}  // namespace
}  // namespace berth::network
