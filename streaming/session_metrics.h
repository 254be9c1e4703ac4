// Streaming sessions as Prometheus sees them: how many ran (by kind: exec, attach,
// port_forward) and how many are open now.
#pragma once

#include <string>

namespace berth::streaming {

// Counts one session for its lifetime; a member of each session.
class SessionCount {
 public:
  explicit SessionCount(std::string kind);
  ~SessionCount();
  SessionCount(const SessionCount&) = delete;
  SessionCount& operator=(const SessionCount&) = delete;

 private:
  const std::string kind_;
};

}  // namespace berth::streaming
