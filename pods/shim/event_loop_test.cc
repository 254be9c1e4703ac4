#include "pods/shim/event_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/unique_fd.h"

namespace berth::pods::shim {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end = UniqueFd(fds[0]);
    write_end = UniqueFd(fds[1]);
  }
  UniqueFd read_end, write_end;
};

TEST(EventLoopTest, HandlersComeAndGoWhileItRuns) {
  Pipe first, second;
  EventLoop loop;
  std::string seen;
  loop.Watch(first.read_end.get(), [&](short) {
    char c;
    if (::read(first.read_end.get(), &c, 1) == 1) seen += c;
    // A new client arrives while the loop runs.
    loop.Unwatch(first.read_end.get());
    loop.Watch(second.read_end.get(), [&](short) {
      char d;
      if (::read(second.read_end.get(), &d, 1) == 1) seen += d;
      loop.Stop();
    });
    ASSERT_EQ(::write(second.write_end.get(), "b", 1), 1);
  });
  ASSERT_EQ(::write(first.write_end.get(), "a", 1), 1);
  loop.Run();
  EXPECT_EQ(seen, "ab");
  EXPECT_FALSE(loop.Watching(first.read_end.get()));
  EXPECT_TRUE(loop.Watching(second.read_end.get()));
}

TEST(EventLoopTest, EndsWhenNothingIsWatchedOrAtItsDeadline) {
  EventLoop empty;
  empty.Run();  // returns at once
  Pipe quiet;
  EventLoop loop;
  loop.Watch(quiet.read_end.get(), [](short) {});
  auto start = std::chrono::steady_clock::now();
  loop.StopAt(start + std::chrono::milliseconds(50));
  loop.Run();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace berth::pods::shim
