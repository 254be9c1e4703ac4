#include "streaming/request_cache.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/random_id.h"

namespace berth::streaming {

RequestCache::RequestCache(Clock clock, size_t capacity, std::chrono::seconds ttl)
    : clock_(std::move(clock)), capacity_(capacity), ttl_(ttl) {}

void RequestCache::DropExpiredLocked(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.expires <= now; });
}

StatusOr<std::string> RequestCache::Insert(Request request) {
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  DropExpiredLocked(now);
  if (entries_.size() >= capacity_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(capacity_, " streaming requests are waiting for their clients already; retry later"));
  }
  // 128 random bits: a token cannot be guessed within its minute.
  std::string token;
  do {
    token = absl::WebSafeBase64Escape(RandomBytes(16));
  } while (entries_.count(token));
  entries_.emplace(token, Entry{std::move(request), now + ttl_});
  return token;
}

std::optional<Request> RequestCache::Consume(const std::string& token) {
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (entry.expires <= now) return std::nullopt;
  return std::move(entry.request);
}

size_t RequestCache::waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  DropExpiredLocked(clock_());
  return entries_.size();
}

}  // namespace berth::streaming
