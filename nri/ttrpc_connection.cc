#include "nri/ttrpc_connection.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "nri/proto/ttrpc.pb.h"

namespace berth::nri {
namespace {

using Clock = std::chrono::steady_clock;

// ttrpc's flags on a unary Request: none. A Response carries none either.
constexpr uint8_t kNoFlags = 0;

std::string ResponseBytes(const Status& status, const std::string& payload) {
  ttrpc::Response response;
  if (!status.ok()) {
    response.mutable_status()->set_code(static_cast<int>(status.code()));
    response.mutable_status()->set_message(std::string(status.message()));
  } else {
    response.set_payload(payload);
  }
  return response.SerializeAsString();
}

}  // namespace

TtrpcConnection::TtrpcConnection(UniqueFd socket, MuxConnection calls_on, MuxConnection serves_on,
                                 TtrpcHandler handler)
    : socket_(std::move(socket)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      calls_on_(calls_on),
      serves_on_(serves_on),
      handler_(std::move(handler)) {
  // Our own stream ids are odd and rise by two, as every ttrpc client's.
  reader_ = std::thread([this] { ReadLoop(); });
  server_ = std::thread([this] { ServeLoop(); });
}

TtrpcConnection::~TtrpcConnection() { Close(); }

void TtrpcConnection::set_on_closed(std::function<void(const std::string&)> on_closed) {
  std::lock_guard<std::mutex> lock(mu_);
  on_closed_ = std::move(on_closed);
}

bool TtrpcConnection::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_reason_.empty();
}

std::string TtrpcConnection::closed_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_reason_;
}

void TtrpcConnection::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (close_called_) return;
    close_called_ = true;
    on_closed_ = nullptr;  // the owner is closing: it needs no word of it
  }
  Fail("closed by berthd");
  uint64_t one = 1;
  if (wake_) (void)!::write(wake_.get(), &one, sizeof(one));
  if (reader_.joinable()) reader_.join();
  requested_.notify_all();
  if (server_.joinable()) server_.join();
}

void TtrpcConnection::Fail(const std::string& why) {
  std::function<void(const std::string&)> on_closed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_reason_.empty()) return;
    closed_reason_ = why;
    for (auto& [id, call] : pending_) {
      call->done = true;
      call->result = absl::UnavailableError(absl::StrCat("NRI connection closed: ", why));
    }
    pending_.clear();
    on_closed = std::move(on_closed_);
  }
  // Wakes the peer too: it sees the end of the socket at once.
  ::shutdown(socket_.get(), SHUT_RDWR);
  answered_.notify_all();
  requested_.notify_all();
  if (on_closed) on_closed(why);
}

Status TtrpcConnection::Send(MuxConnection connection, const std::string& bytes, Clock::time_point deadline) {
  std::string frames = EncodeMuxFrames(connection, bytes);
  std::lock_guard<std::mutex> lock(send_mu_);
  return SendLocked(frames, deadline);
}

Status TtrpcConnection::SendLocked(const std::string& frames, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < frames.size()) {
    ssize_t n = ::send(socket_.get(), frames.data() + sent, frames.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      Status error = ErrnoError("write to NRI plugin");
      Fail(std::string(error.message()));
      return absl::UnavailableError(error.message());
    }
    // The peer is not reading: wait for room until the deadline. A frame cut short
    // would break the stream for every later call, so a write that cannot finish
    // ends the connection.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      Fail("the plugin stopped reading its socket");
      return absl::DeadlineExceededError("NRI plugin did not read its socket in time");
    }
    pollfd p{socket_.get(), POLLOUT, 0};
    (void)::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
  }
  return absl::OkStatus();
}

StatusOr<std::string> TtrpcConnection::Call(const std::string& service, const std::string& method,
                                            const std::string& payload, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  ttrpc::Request request;
  request.set_service(service);
  request.set_method(method);
  request.set_payload(payload);
  request.set_timeout_nano(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count());
  std::string bytes = request.SerializeAsString();
  if (bytes.size() > kTtrpcMaxPayload) {
    return absl::ResourceExhaustedError(
        absl::StrCat("NRI ", method, " request of ", bytes.size(), " bytes is over ttrpc's limit"));
  }
  auto call = std::make_shared<PendingCall>();
  uint32_t stream_id;
  Status sent;
  {
    // Ids leave in the order they are taken, so the id is taken under the send lock:
    // a peer (Go's ttrpc) refuses a stream id lower than one it has seen, and two
    // calls racing between taking and sending would otherwise cross.
    std::lock_guard<std::mutex> send_lock(send_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_reason_.empty()) {
        return absl::UnavailableError(absl::StrCat("NRI connection closed: ", closed_reason_));
      }
      stream_id = next_stream_id_;
      next_stream_id_ += 2;
      pending_[stream_id] = call;
    }
    sent = SendLocked(
        EncodeMuxFrames(calls_on_, EncodeTtrpcMessage(stream_id, TtrpcMessageType::kRequest, kNoFlags, bytes)),
        deadline);
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!sent.ok()) {
    pending_.erase(stream_id);
    return sent;
  }
  if (!answered_.wait_until(lock, deadline, [&] { return call->done; })) {
    pending_.erase(stream_id);
    return absl::DeadlineExceededError(
        absl::StrCat("NRI plugin did not answer ", method, " within ", timeout.count(), " ms"));
  }
  return std::move(call->result);
}

void TtrpcConnection::ReadLoop() {
  MuxReader mux;
  char chunk[64 * 1024];
  for (;;) {
    pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[1].revents != 0) return;
    ssize_t n = ::recv(socket_.get(), chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      Fail(n == 0 ? "the plugin closed its socket" : std::string(ErrnoError("read from NRI plugin").message()));
      return;
    }
    mux.Feed(std::string_view(chunk, static_cast<size_t>(n)));
    for (;;) {
      auto frame = mux.Next();
      if (!frame.ok()) {
        Fail(std::string(frame.status().message()));
        return;
      }
      if (!frame->has_value()) break;
      OnFrame((*frame)->connection, (*frame)->data);
      if (!open()) return;
    }
  }
}

void TtrpcConnection::OnFrame(uint32_t connection, const std::string& data) {
  // Each direction is its own ttrpc stream of messages; frames of connections NRI
  // does not define are dropped, as NRI's own mux does.
  TtrpcMessageReader* reader = nullptr;
  if (connection == static_cast<uint32_t>(calls_on_)) reader = &responses_;
  if (connection == static_cast<uint32_t>(serves_on_)) reader = &requests_in_;
  if (!reader) return;
  reader->Feed(data);
  while (auto message = reader->Next()) {
    if (reader == &responses_) {
      if (message->type != static_cast<uint8_t>(TtrpcMessageType::kResponse)) {
        Fail(absl::StrCat("the plugin sent a ttrpc message of type ", message->type, " where responses go"));
        return;
      }
      OnResponse(message->stream_id, message->payload, message->oversized);
    } else {
      if (message->type != static_cast<uint8_t>(TtrpcMessageType::kRequest)) {
        Fail(absl::StrCat("the plugin sent a ttrpc message of type ", message->type, " where requests go"));
        return;
      }
      OnRequest(message->stream_id, message->payload, message->oversized);
    }
    if (!open()) return;
  }
}

void TtrpcConnection::OnResponse(uint32_t stream_id, const std::string& payload, bool oversized) {
  std::shared_ptr<PendingCall> call;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(stream_id);
    if (it == pending_.end()) return;  // an answer that came after its caller gave up
    call = it->second;
    pending_.erase(it);
    ttrpc::Response response;
    if (oversized) {
      call->result = absl::ResourceExhaustedError("NRI plugin's response is over ttrpc's size limit");
    } else if (!response.ParseFromString(payload)) {
      call->result = absl::InvalidArgumentError("NRI plugin's response is not a ttrpc Response");
    } else if (response.status().code() != 0) {
      int code = response.status().code();
      auto status_code = code > 0 && code <= 16 ? static_cast<StatusCode>(code) : StatusCode::kUnknown;
      call->result = Status(status_code, response.status().message());
    } else {
      call->result = std::move(*response.mutable_payload());
    }
    call->done = true;
  }
  answered_.notify_all();
}

void TtrpcConnection::OnRequest(uint32_t stream_id, const std::string& payload, bool oversized) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(Request{stream_id, payload, oversized});
  }
  requested_.notify_one();
}

void TtrpcConnection::ServeLoop() {
  for (;;) {
    Request request;
    {
      std::unique_lock<std::mutex> lock(mu_);
      requested_.wait(lock, [&] { return !requests_.empty() || !closed_reason_.empty(); });
      if (!closed_reason_.empty()) return;
      request = std::move(requests_.front());
      requests_.pop_front();
    }
    Status refused;
    TtrpcCall call;
    ttrpc::Request parsed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // A client's ids are odd and rise; ttrpc answers others INVALID_ARGUMENT on that id.
      if (request.stream_id % 2 == 0 || request.stream_id <= last_served_stream_id_) {
        refused =
            absl::InvalidArgumentError(absl::StrCat("ttrpc stream id ", request.stream_id, " is not a new odd one"));
      } else {
        last_served_stream_id_ = request.stream_id;
      }
    }
    if (refused.ok() && request.oversized) {
      refused = absl::ResourceExhaustedError("ttrpc request is over the 4 MiB limit");
    }
    if (refused.ok() && !parsed.ParseFromString(request.payload)) {
      refused = absl::InvalidArgumentError("not a ttrpc Request");
    }
    std::string answer;
    if (refused.ok()) {
      call.service = parsed.service();
      call.method = parsed.method();
      call.payload = std::move(*parsed.mutable_payload());
      if (parsed.timeout_nano() > 0) call.deadline = Clock::now() + std::chrono::nanoseconds(parsed.timeout_nano());
      auto result = handler_(call);
      answer = result.ok() ? ResponseBytes(absl::OkStatus(), *result) : ResponseBytes(result.status(), "");
    } else {
      answer = ResponseBytes(refused, "");
    }
    (void)Send(serves_on_,
               EncodeTtrpcMessage(request.stream_id, TtrpcMessageType::kResponse, kNoFlags, answer),
               Clock::now() + std::chrono::seconds(5));
  }
}

}  // namespace berth::nri
