#include "network/netns_thread.h"

#include <fcntl.h>
#include <sched.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"

namespace berth::network {

Status RunInNetworkNamespace(int netns_fd, absl::FunctionRef<void()> work) {
  Status entered;
  std::thread([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      entered = ErrnoError("enter the pod's network namespace");
      return;
    }
    work();
  }).join();
  return entered;
}

Status RunInNetworkNamespace(const std::string& netns_path, absl::FunctionRef<void()> work) {
  UniqueFd netns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) return ErrnoError(absl::StrCat("open the pod's network namespace ", netns_path));
  return Annotate(RunInNetworkNamespace(netns.get(), work), netns_path);
}

}  // namespace berth::network
