#include "runtime/seccomp_listener.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/unique_fd.h"
#include "runtime/process_setup.h"

namespace berth::runtime {

std::string ContainerProcessStateJson(const Seccomp& seccomp, pid_t pid, const std::string& oci_version,
                                      const std::string& state_json) {
  nlohmann::json process_state = {
      {"ociVersion", oci_version.empty() ? std::string(kOciVersion) : oci_version},
      {"fds", {"seccompFd"}},
      {"pid", pid},
      {"state", nlohmann::json::parse(state_json, nullptr, false)},
  };
  if (!seccomp.listener_metadata.empty()) process_state["metadata"] = seccomp.listener_metadata;
  return process_state.dump();
}

Status SendToSeccompAgent(const Seccomp& seccomp, int notify_fd, const std::string& process_state_json) {
  const std::string& path = seccomp.listener_path;
  auto failed = [&path](absl::string_view what) {
    return absl::FailedPreconditionError(
        absl::StrCat("seccomp agent at ", path, ": ", what, ": ", std::strerror(errno)));
  };
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("linux.seccomp.listenerPath is too long: ", path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return failed("socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return failed("connect");

  // The fd rides with the first bytes; the rest, if the socket takes less, follows.
  StatusOr<size_t> sent = SendWithFd(sock.get(), process_state_json, notify_fd);
  if (!sent.ok()) return failed("send the process state");
  size_t done = *sent;
  while (done < process_state_json.size()) {
    ssize_t n = ::send(sock.get(), process_state_json.data() + done, process_state_json.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return failed("send the process state");
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace berth::runtime
