#include "streaming/channel_connection.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "base/log.h"

namespace berth::streaming {

namespace asio = boost::asio;

namespace {

constexpr uint8_t kCloseSignal = 255;

}  // namespace

ChannelConnection::ChannelConnection(asio::io_context& io, std::shared_ptr<MessageTransport> messages,
                                     ChannelLayout layout, std::chrono::seconds idle_timeout)
    : messages_(std::move(messages)), layout_(std::move(layout)), idle_timer_(io), idle_timeout_(idle_timeout) {}

void ChannelConnection::Start(std::shared_ptr<Session> session) {
  session_ = std::move(session);
  ArmIdleTimer();
  // Pings count as traffic, as they do on SPDY.
  messages_->OnControl([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->ArmIdleTimer();
  });
  for (const Channel& channel : layout_.channels) {
    const uint32_t id = channel.number + 1u;
    if (session_->OnStream(id, channel.headers)) open_.insert(id);
  }
  for (const auto& [channel, payload] : layout_.opening) Enqueue(channel, payload);
  Read();
}

void ChannelConnection::Read() {
  if (reading_ || paused_ || closed_) return;
  reading_ = true;
  messages_->Read([self = shared_from_this()](const boost::system::error_code& error, std::string message, bool) {
    self->reading_ = false;
    if (self->closed_) return;
    if (error) return self->Finish();  // the client closed (or the connection broke)
    self->ArmIdleTimer();
    self->OnMessage(std::move(message));
    self->Read();
  });
}

void ChannelConnection::OnMessage(std::string message) {
  if (message.empty() || closing_) return;
  const uint8_t first = static_cast<uint8_t>(message[0]);
  if (layout_.close_signal && first == kCloseSignal) {
    if (message.size() != 2) {
      BERTH_LOG(Info) << "streaming connection ends: a close message must name one channel";
      return Finish();
    }
    const uint32_t id = static_cast<uint8_t>(message[1]) + 1u;
    if (open_.count(id)) session_->OnFin(id);
    return;
  }
  const uint8_t channel = layout_.base64 ? static_cast<uint8_t>(first - '0') : first;
  const uint32_t id = channel + 1u;
  auto spec = std::find_if(layout_.channels.begin(), layout_.channels.end(),
                           [&](const Channel& c) { return c.number == channel; });
  // As Kubernetes' servers do: a message for a channel nobody reads is dropped.
  if (spec == layout_.channels.end() || !spec->readable || !open_.count(id)) return;
  std::string payload = message.substr(1);
  if (layout_.base64) {
    std::string decoded;
    if (!absl::Base64Unescape(payload, &decoded)) {
      BERTH_LOG(Info) << "streaming connection ends: a message is not base64";
      return Finish();
    }
    payload = std::move(decoded);
  }
  if (!payload.empty()) session_->OnData(id, std::move(payload));
}

void ChannelConnection::Send(uint32_t id, std::string data, bool fin) {
  if (closed_ || finished_.count(id) || id == 0) return;
  if (!data.empty()) Enqueue(static_cast<uint8_t>(id - 1), data);
  if (fin) Finished(id);
}

void ChannelConnection::Reset(uint32_t id) {
  if (closed_ || finished_.count(id)) return;
  Finished(id);
}

void ChannelConnection::Finished(uint32_t id) {
  finished_.insert(id);
  if (layout_.close_after.empty()) return;
  for (uint8_t channel : layout_.close_after) {
    if (!finished_.count(channel + 1u)) return;
  }
  Close();
}

void ChannelConnection::Close() {
  if (closing_ || closed_) return;
  closing_ = true;
  Write();
}

void ChannelConnection::PauseReading() { paused_ = true; }

void ChannelConnection::ResumeReading() {
  if (!paused_ || closed_) return;
  paused_ = false;
  Read();
}

void ChannelConnection::Enqueue(uint8_t channel, absl::string_view payload) {
  if (closed_) return;
  std::string message;
  if (layout_.base64) {
    message.push_back(static_cast<char>('0' + channel));
    std::string encoded;
    absl::Base64Escape(payload, &encoded);
    message += encoded;
  } else {
    message.push_back(static_cast<char>(channel));
    message.append(payload.data(), payload.size());
  }
  queued_bytes_ += message.size();
  if (queued_bytes_ > kHighWater) above_high_water_ = true;
  out_.push_back(std::move(message));
  Write();
}

void ChannelConnection::Write() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (closing_) Finish();
    return;
  }
  in_flight_ = std::move(out_.front());
  out_.pop_front();
  writing_ = true;
  auto written = [self = shared_from_this()](const boost::system::error_code& error) {
    self->writing_ = false;
    if (self->closed_) return;
    if (error) return self->Finish();
    self->queued_bytes_ -= self->in_flight_.size();
    self->in_flight_.clear();
    self->ArmIdleTimer();
    if (self->above_high_water_ && self->queued_bytes_ < kHighWater / 2) {
      self->above_high_water_ = false;
      if (self->session_) self->session_->OnWritable();
    }
    self->Write();
  };
  messages_->Write(in_flight_, /*text=*/layout_.base64, std::move(written));
}

void ChannelConnection::ArmIdleTimer() {
  if (closed_) return;
  idle_timer_.expires_after(idle_timeout_);
  idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    auto self = weak.lock();
    if (error || !self) return;
    BERTH_LOG(Info) << "streaming connection ends" << Kv("reason", "idle timeout");
    self->Finish();
  });
}

void ChannelConnection::Finish() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  messages_->Close();
  out_.clear();
  std::shared_ptr<Session> session = std::move(session_);
  if (session) session->OnClosed();
}

}  // namespace berth::streaming
