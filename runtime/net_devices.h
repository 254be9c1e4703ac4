// linux.netDevices (runtime-spec 1.3): host network links that create moves into the
// container's network namespace, renamed if the spec says so, with their permanent
// global addresses, and up. Once moved they belong to that namespace's owner: the
// runtime never moves them back when the container goes (the kernel returns physical
// links to the host, and destroys virtual ones, when the namespace is freed). Only a
// create that fails after the move gives them back, so that it leaves nothing behind.
// Over rtnetlink, through libnl-route.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "runtime/spec.h"

namespace berth::runtime {

// Interface names as the kernel takes them: 1-15 bytes, no '/', ':' or whitespace,
// not "." or ".."; a name in the container may hold one "%d" for the kernel to
// number. Checked at create, before anything moves.
Status ValidateNetDevices(const std::map<std::string, NetDevice>& devices);

// The links one create has moved, to give back if that create fails.
class MovedNetDevices {
 public:
  MovedNetDevices();
  MovedNetDevices(MovedNetDevices&&) noexcept;
  MovedNetDevices& operator=(MovedNetDevices&&) noexcept;
  ~MovedNetDevices();

  // Moves each link, named by its host name, from the caller's network namespace
  // into netns_fd's. Stops at the first failure, having given back what it moved.
  Status Move(const std::map<std::string, NetDevice>& devices, int netns_fd);

  // Moves every link back into the caller's namespace under its host name, with the
  // addresses it had there. Best effort: the first failure is returned.
  Status GiveBack();

  bool empty() const;

 private:
  struct Moved;
  std::vector<std::unique_ptr<Moved>> moved_;
  UniqueFd host_netns_;
  UniqueFd container_netns_;
};

}  // namespace berth::runtime
