#include "streaming/port_forward_session.h"

#include <sys/socket.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace berth::streaming {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Client bytes held for pods that do not take them yet, across all pairs: past
// this the connection stops reading.
constexpr size_t kToPodsHighWater = 1 << 20;

}  // namespace

PortForwardSession::PortForwardSession(asio::io_context& io, asio::thread_pool& blocking,
                                       std::shared_ptr<StreamConnection> connection, PortForwardRequest request,
                                       Backend* backend, SessionTimeouts timeouts)
    : io_(io),
      blocking_(blocking),
      connection_(std::move(connection)),
      request_(std::move(request)),
      backend_(backend),
      timeouts_(timeouts) {}

PortForwardSession::~PortForwardSession() {
  for (auto& [id, pair] : pairs_) {
    boost::system::error_code ignored;
    if (pair->pod) pair->pod->close(ignored);
  }
}

bool PortForwardSession::OnStream(uint32_t id, const Headers& headers) {
  if (closed_) return false;
  int32_t port = 0;
  if (!absl::SimpleAtoi(HeaderValue(headers, "port"), &port) || port < 1 || port > 65535) return false;
  const std::string type = absl::AsciiStrToLower(HeaderValue(headers, "streamtype"));
  if (type != "error" && type != "data") return false;
  // Clients before request ids paired the streams by their ids: the error stream's
  // id is the request's, the data stream's is two more.
  std::string request_id = HeaderValue(headers, "requestid");
  if (request_id.empty()) request_id = std::to_string(type == "error" ? id : id - 2);
  auto& pair = pairs_[request_id];
  if (!pair) {
    pair = std::make_shared<Pair>();
    pair->request_id = request_id;
    pair->port = port;
    pair->timer = std::make_unique<asio::steady_timer>(io_, timeouts_.stream_creation);
    pair->timer->async_wait([self = shared_from_this(), pair](const boost::system::error_code& error) {
      if (error || pair->done || (pair->error_stream != 0 && pair->data_stream != 0)) return;
      self->Fail(pair, absl::StrCat("timed out waiting for the other stream of port-forward request ",
                                    pair->request_id));
    });
  }
  if (pair->port != port) return false;
  uint32_t& slot = type == "error" ? pair->error_stream : pair->data_stream;
  if (slot != 0) return false;
  slot = id;
  by_stream_[id] = pair;
  if (pair->error_stream != 0 && pair->data_stream != 0) {
    pair->timer->cancel();
    // After this call returns, so that the stream's SYN_REPLY is queued first.
    asio::post(io_, [self = shared_from_this(), pair] { self->Dial(pair); });
  }
  return true;
}

void PortForwardSession::Dial(const std::shared_ptr<Pair>& pair) {
  if (closed_ || pair->done) return;
  // Entering the pod's network namespace takes a thread of its own: not this one.
  asio::post(blocking_, [self = shared_from_this(), pair] {
    auto dialed = self->backend_->DialPod(self->request_.pod_id, pair->port);
    asio::post(self->io_, [self, pair, dialed = std::move(dialed)]() mutable {
      self->OnDialed(pair, std::move(dialed));
    });
  });
}

void PortForwardSession::OnDialed(const std::shared_ptr<Pair>& pair, StatusOr<UniqueFd> dialed) {
  if (closed_ || pair->done) return;  // the socket, if any, closes as dialed goes
  if (!dialed.ok()) {
    return Fail(pair, absl::StrCat("error forwarding port ", pair->port, " to pod ", request_.pod_id, ": ",
                                   dialed.status().message()));
  }
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  ::getsockname(dialed->get(), reinterpret_cast<sockaddr*>(&address), &length);
  const tcp protocol = address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
  pair->pod = std::make_unique<tcp::socket>(io_, protocol, dialed->Release());
  // What the client sends goes on at once (the client's own stack did any batching).
  boost::system::error_code ignored;
  pair->pod->set_option(tcp::no_delay(true), ignored);
  PumpToPod(pair);
  ReadFromPod(pair);
}

void PortForwardSession::OnData(uint32_t id, std::string data) {
  auto it = by_stream_.find(id);
  if (it == by_stream_.end()) return;
  const auto& pair = it->second;
  if (id != pair->data_stream || pair->client_fin || pair->done) return;  // the client writes no errors
  pair->to_pod += data;
  if (BufferedToPods() > kToPodsHighWater) connection_->PauseReading();
  PumpToPod(pair);
}

void PortForwardSession::OnFin(uint32_t id) {
  auto it = by_stream_.find(id);
  if (it == by_stream_.end()) return;
  const auto pair = it->second;
  // The client half-closes its error stream at once: nothing to do.
  if (id != pair->data_stream) return;
  pair->client_fin = true;
  PumpToPod(pair);
}

void PortForwardSession::OnReset(uint32_t id) {
  auto it = by_stream_.find(id);
  if (it == by_stream_.end()) return;
  const auto pair = it->second;
  // The client gave up on this connection (its local peer went away).
  Forget(pair);
}

void PortForwardSession::PumpToPod(const std::shared_ptr<Pair>& pair) {
  if (!pair->pod || pair->writing || pair->done) return;
  if (pair->to_pod.empty()) {
    if (pair->client_fin && !pair->shut_down) {
      // Half-close: the pod reads EOF and may still answer.
      pair->shut_down = true;
      boost::system::error_code ignored;
      pair->pod->shutdown(tcp::socket::shutdown_send, ignored);
      MaybeDone(pair);
    }
    return;
  }
  pair->writing = true;
  auto chunk = std::make_shared<std::string>(std::move(pair->to_pod));
  pair->to_pod.clear();
  asio::async_write(*pair->pod, asio::buffer(*chunk),
                    [self = shared_from_this(), pair, chunk](const boost::system::error_code& error, size_t) {
                      pair->writing = false;
                      if (self->closed_ || pair->done) return;
                      if (self->BufferedToPods() <= kToPodsHighWater) self->connection_->ResumeReading();
                      if (error) {
                        // The pod closed or reset its side: this connection ends,
                        // the session goes on.
                        return self->EndQuietly(pair);
                      }
                      self->PumpToPod(pair);
                    });
}

void PortForwardSession::ReadFromPod(const std::shared_ptr<Pair>& pair) {
  if (!pair->pod || pair->reading || pair->pod_eof || pair->done) return;
  if (connection_->queued() > StreamConnection::kHighWater) return;  // OnWritable resumes
  pair->reading = true;
  pair->pod->async_read_some(
      asio::buffer(pair->buffer), [self = shared_from_this(), pair](const boost::system::error_code& error, size_t n) {
        pair->reading = false;
        if (self->closed_ || pair->done) return;
        if (error == asio::error::eof) {
          pair->pod_eof = true;
          self->connection_->Send(pair->data_stream, "", /*fin=*/true);
          return self->MaybeDone(pair);
        }
        if (error) return self->EndQuietly(pair);
        self->connection_->Send(pair->data_stream, std::string(pair->buffer, n), /*fin=*/false);
        self->ReadFromPod(pair);
      });
}

void PortForwardSession::OnWritable() {
  for (auto& [id, pair] : pairs_) ReadFromPod(pair);
}

void PortForwardSession::Fail(const std::shared_ptr<Pair>& pair, const std::string& message) {
  BERTH_LOG(Info) << "port-forward failed" << Kv("pod", request_.pod_id) << Kv("reason", message);
  if (pair->error_stream != 0) connection_->Send(pair->error_stream, message, /*fin=*/true);
  if (pair->data_stream != 0) connection_->Send(pair->data_stream, "", /*fin=*/true);
  Forget(pair);
}

void PortForwardSession::EndQuietly(const std::shared_ptr<Pair>& pair) {
  // A reset by the pod is the pod's business: the data stream is reset, and the
  // error stream ends with nothing on it (a message would end the user's whole
  // session; no end at all would leave kubectl's side of the connection open, as
  // it waits for the error stream's end before closing it).
  connection_->Reset(pair->data_stream);
  connection_->Send(pair->error_stream, "", /*fin=*/true);
  Forget(pair);
}

void PortForwardSession::MaybeDone(const std::shared_ptr<Pair>& pair) {
  if (!pair->pod_eof || !pair->shut_down) return;
  // Both directions are over: the error stream ends with nothing on it.
  connection_->Send(pair->error_stream, "", /*fin=*/true);
  Forget(pair);
}

void PortForwardSession::Forget(const std::shared_ptr<Pair>& pair) {
  if (pair->done) return;
  pair->done = true;
  if (pair->timer) pair->timer->cancel();
  boost::system::error_code ignored;
  if (pair->pod) pair->pod->close(ignored);
  by_stream_.erase(pair->error_stream);
  by_stream_.erase(pair->data_stream);
  pairs_.erase(pair->request_id);
  if (BufferedToPods() <= kToPodsHighWater) connection_->ResumeReading();
}

size_t PortForwardSession::BufferedToPods() const {
  size_t total = 0;
  for (const auto& [id, pair] : pairs_) total += pair->to_pod.size();
  return total;
}

void PortForwardSession::OnClosed() {
  closed_ = true;
  for (auto& [id, pair] : pairs_) {
    pair->done = true;
    if (pair->timer) pair->timer->cancel();
    boost::system::error_code ignored;
    if (pair->pod) pair->pod->close(ignored);
  }
  pairs_.clear();
  by_stream_.clear();
}

}  // namespace berth::streaming
