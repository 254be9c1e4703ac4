// A small poll(2) loop for the shim: file descriptors with a handler each, watched
// and unwatched while it runs (attach clients will come and go), until it is
// stopped, nothing is left to watch, or a deadline passes.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

namespace berth::pods::shim {

class EventLoop {
 public:
  // Called with poll's revents for the fd (POLLIN, POLLOUT, POLLHUP, POLLERR).
  using Handler = std::function<void(short revents)>;

  // Watches fd for events (input by default); a second Watch of the same fd
  // replaces its handler and events.
  void Watch(int fd, Handler handler, short events = POLLIN);
  void Unwatch(int fd);
  bool Watching(int fd) const;

  // Dispatches until Stop(), until nothing is watched, or until the deadline set
  // with StopAt passes.
  void Run();
  void Stop() { stopped_ = true; }
  void StopAt(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }

 private:
  struct Entry {
    int fd;
    Handler handler;
    short events;
  };
  std::vector<Entry> entries_;
  bool stopped_ = false;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

}  // namespace berth::pods::shim
