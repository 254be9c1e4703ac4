#include "pods/exit_watcher.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/process.h"

namespace berth::pods {

ExitWatcher::ExitWatcher(OnExit on_exit)
    : on_exit_(std::move(on_exit)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this] { Run(); }) {}

ExitWatcher::~ExitWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void ExitWatcher::Watch(const std::string& id, pid_t pid, uint64_t start_time) {
  UniqueFd pidfd(pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1);
  std::lock_guard<std::mutex> lock(mu_);
  // Gone, or the pid now names another process: the exit has happened.
  if (!pidfd || !ProcessAlive(pid, start_time)) {
    already_gone_.push_back(id);
  } else {
    epoll_event event = {};
    event.events = EPOLLIN;
    event.data.fd = pidfd.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pidfd.get(), &event) != 0) {
      BERTH_LOG(Warn) << "watch a container's monitor; its exit is noticed on the next read" << Kv("container", id);
      return;
    }
    int fd = pidfd.get();
    watched_.emplace(fd, std::make_pair(id, std::move(pidfd)));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void ExitWatcher::Run() {
  epoll_event wake = {};
  wake.events = EPOLLIN;
  wake.data.fd = wake_.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &wake);
  for (;;) {
    epoll_event ready[32];
    int n = ::epoll_wait(epoll_.get(), ready, 32, -1);
    if (n < 0 && errno != EINTR) return;
    std::vector<std::string> exited;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      exited.swap(already_gone_);
      for (int i = 0; i < n; ++i) {
        int fd = ready[i].data.fd;
        if (fd == wake_.get()) {
          uint64_t count;
          (void)!::read(wake_.get(), &count, sizeof count);
          continue;
        }
        auto it = watched_.find(fd);
        if (it == watched_.end()) continue;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        exited.push_back(it->second.first);
        watched_.erase(it);
      }
    }
    // Outside the lock: the callback may Watch again.
    for (const auto& id : exited) on_exit_(id);
  }
}

}  // namespace berth::pods
