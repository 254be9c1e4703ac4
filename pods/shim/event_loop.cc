#include "pods/shim/event_loop.h"

#include <errno.h>

#include <algorithm>

namespace berth::pods::shim {

void EventLoop::Watch(int fd, Handler handler, short events) {
  for (auto& entry : entries_) {
    if (entry.fd == fd) {
      entry.handler = std::move(handler);
      entry.events = events;
      return;
    }
  }
  entries_.push_back({fd, std::move(handler), events});
}

void EventLoop::Unwatch(int fd) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [fd](const Entry& e) { return e.fd == fd; }),
                 entries_.end());
}

bool EventLoop::Watching(int fd) const {
  return std::any_of(entries_.begin(), entries_.end(), [fd](const Entry& e) { return e.fd == fd; });
}

void EventLoop::Run() {
  while (!stopped_ && !entries_.empty()) {
    int timeout = -1;
    if (deadline_) {
      auto now = std::chrono::steady_clock::now();
      if (now >= *deadline_) return;
      // Rounded up: poll's millisecond timeout must not wake before the deadline.
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - now);
      timeout = static_cast<int>(left.count());
    }
    std::vector<pollfd> fds;
    fds.reserve(entries_.size());
    for (const auto& entry : entries_) fds.push_back({entry.fd, entry.events, 0});
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) continue;  // the deadline check above ends the loop
      return;
    }
    for (const auto& ready : fds) {
      if (ready.revents == 0) continue;
      // A handler may have unwatched this fd (or others) meanwhile: look it up again.
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.fd == ready.fd; });
      if (it == entries_.end()) continue;
      Handler handler = it->handler;  // a copy: the handler may replace or remove its entry
      handler(ready.revents);
      if (stopped_) return;
    }
  }
}

}  // namespace berth::pods::shim
