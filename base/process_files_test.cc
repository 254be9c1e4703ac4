#include "base/process_files.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(ParseOpenFilesSoftLimit, ReadsTheSoftColumn) {
  constexpr char kLimits[] =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(ParseOpenFilesSoftLimit(kLimits), 1024u);
  EXPECT_FALSE(ParseOpenFilesSoftLimit("Max open files            unlimited            unlimited  files\n"));
  EXPECT_FALSE(ParseOpenFilesSoftLimit(""));
}

TEST(CountOpenFiles, CountsThisProcessesSockets) {
  OpenFiles before = CountOpenFiles({::getpid()});
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  OpenFiles after = CountOpenFiles({::getpid()});
  ::close(pair[0]);
  ::close(pair[1]);
  EXPECT_EQ(after.descriptors, before.descriptors + 2);
  EXPECT_EQ(after.sockets, before.sockets + 2);
  EXPECT_TRUE(OpenFilesSoftLimit(::getpid()).has_value());
  EXPECT_EQ(CountOpenFiles({-1}).descriptors, 0u);
}

}  // namespace
}  // namespace berth
