// Notices a container's exit when it happens, not when someone next reads: it
// watches each container's shim (which records the exit, then exits itself) through
// a pidfd, and calls back once the shim is gone. One thread, one epoll set.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"

namespace berth::pods {

class ExitWatcher {
 public:
  using OnExit = std::function<void(const std::string& id)>;

  // on_exit runs on the watcher's thread, once per watched id.
  explicit ExitWatcher(OnExit on_exit);
  ~ExitWatcher();  // stops the thread; pending exits are not reported
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  // Reports id once the process pid (started at start_time, so a reused pid is
  // never mistaken for it) has exited; at once when it already has.
  void Watch(const std::string& id, pid_t pid, uint64_t start_time);

 private:
  void Run();

  OnExit on_exit_;
  UniqueFd epoll_;
  UniqueFd wake_;  // an eventfd: new work, or stop
  std::mutex mu_;
  std::map<int, std::pair<std::string, UniqueFd>> watched_;  // by pidfd
  std::vector<std::string> already_gone_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace berth::pods
