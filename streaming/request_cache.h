// Requests waiting for their client, each under a one-time random token: a token is
// good for one connection within a minute of the RPC that made it, and at most
// 1000 wait at once (as kubelet expects of a runtime: it turns RESOURCE_EXHAUSTED
// into HTTP 429 with Retry-After).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "streaming/requests.h"

namespace berth::streaming {

class RequestCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit RequestCache(Clock clock = std::chrono::steady_clock::now, size_t capacity = 1000,
                        std::chrono::seconds ttl = std::chrono::seconds(60));

  // RESOURCE_EXHAUSTED when capacity requests are waiting already.
  StatusOr<std::string> Insert(Request request);
  // The request, once: the token is gone afterwards, used or expired.
  std::optional<Request> Consume(const std::string& token);
  size_t waiting();

 private:
  struct Entry {
    Request request;
    std::chrono::steady_clock::time_point expires;
  };
  void DropExpiredLocked(std::chrono::steady_clock::time_point now);

  const Clock clock_;
  const size_t capacity_;
  const std::chrono::seconds ttl_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::streaming
