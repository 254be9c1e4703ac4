// What a client may do with a streaming URL: the CRI Exec, Attach and PortForward
// requests as berthd accepted them, kept until the client connects. The request is
// the truth; what the client's URL or headers say about the command or streams is
// not looked at.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace berth::streaming {

struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct AttachRequest {
  std::string container_id;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct PortForwardRequest {
  std::string pod_id;
  std::vector<int32_t> ports;  // what a WebSocket client may forward; SPDY clients name ports per stream
};

using Request = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;

}  // namespace berth::streaming
