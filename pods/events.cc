#include "pods/events.h"

#include <algorithm>

namespace berth::pods {

std::optional<Event> Subscription::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || ended_; });
  if (queue_.empty()) return std::nullopt;
  Event event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

bool Subscription::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

bool Subscription::ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

void Subscription::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
  }
  ready_.notify_all();
}

bool Subscription::Offer(const Event& event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return false;
    if (queue_.size() >= capacity_) {
      ended_ = true;
      dropped_ = true;
    } else {
      queue_.push_back(event);
    }
  }
  ready_.notify_all();
  return !dropped();
}

std::shared_ptr<Subscription> EventBus::Subscribe(size_t capacity) {
  auto subscription = std::make_shared<Subscription>(capacity);
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) {
    subscription->Close();
    return subscription;
  }
  subscribers_.push_back(subscription);
  return subscription;
}

bool EventBus::has_subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& weak : subscribers_) {
    if (!weak.expired()) return true;
  }
  return false;
}

void EventBus::CloseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (const auto& weak : subscribers_) {
    if (auto subscriber = weak.lock()) subscriber->Close();
  }
  subscribers_.clear();
}

void EventBus::Publish(const Event& event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto gone = std::remove_if(subscribers_.begin(), subscribers_.end(), [&](const std::weak_ptr<Subscription>& weak) {
    std::shared_ptr<Subscription> subscriber = weak.lock();
    if (!subscriber) return true;
    if (subscriber->Offer(event)) return false;
    if (subscriber->dropped()) ++dropped_;
    return true;
  });
  subscribers_.erase(gone, subscribers_.end());
}

uint64_t EventBus::dropped_subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace berth::pods
