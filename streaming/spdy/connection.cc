#include "streaming/spdy/connection.h"

#include "base/log.h"

namespace berth::streaming::spdy {

namespace asio = boost::asio;

Connection::Connection(asio::io_context& io, std::shared_ptr<ByteTransport> transport, std::string already_read,
                       std::chrono::seconds idle_timeout)
    : transport_(std::move(transport)),
      idle_timer_(io),
      idle_timeout_(idle_timeout),
      pending_input_(std::move(already_read)) {}

void Connection::Start(std::shared_ptr<Session> session) {
  session_ = std::move(session);
  ArmIdleTimer();
  if (!pending_input_.empty()) {
    reader_.Feed(pending_input_);
    pending_input_.clear();
    Status handled = HandleFrames();
    if (!handled.ok()) return Fail(std::string(handled.message()));
  }
  Read();
}

void Connection::Read() {
  if (reading_ || paused_ || closed_) return;
  reading_ = true;
  transport_->ReadSome(asio::buffer(read_buffer_),
                       [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
                         self->OnRead(error, bytes);
                       });
}

void Connection::OnRead(const boost::system::error_code& error, size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (error) {
    // The client closed the connection (or it broke): nothing more can be said.
    return Finish();
  }
  ArmIdleTimer();
  reader_.Feed(absl::string_view(read_buffer_, bytes));
  Status handled = HandleFrames();
  if (!handled.ok()) return Fail(std::string(handled.message()));
  Read();
}

Status Connection::HandleFrames() {
  while (!paused_ && !closed_ && !closing_) {
    ASSIGN_OR_RETURN(std::optional<Frame> next, reader_.Next());
    if (!next) return absl::OkStatus();
    if (auto* syn = std::get_if<SynStream>(&*next)) {
      // Client streams are odd and increasing.
      if (syn->stream_id % 2 == 0 || syn->stream_id <= last_client_stream_) {
        Enqueue(writer_.RstStream(syn->stream_id, RstStatus::kProtocolError), /*urgent=*/true);
        continue;
      }
      last_client_stream_ = syn->stream_id;
      if (!session_->OnStream(syn->stream_id, syn->headers)) {
        Enqueue(writer_.RstStream(syn->stream_id, RstStatus::kRefusedStream), /*urgent=*/true);
        continue;
      }
      streams_.insert(syn->stream_id);
      ASSIGN_OR_RETURN(std::string reply, writer_.SynReply(syn->stream_id, {}, false));
      Enqueue(std::move(reply), /*urgent=*/true);
      if (syn->fin && !closed_) session_->OnFin(syn->stream_id);
    } else if (auto* data = std::get_if<DataFrame>(&*next)) {
      if (!streams_.count(data->stream_id)) continue;  // reset already, or never opened
      if (!data->data.empty()) session_->OnData(data->stream_id, std::move(data->data));
      if (data->fin && !closed_) session_->OnFin(data->stream_id);
    } else if (auto* reset = std::get_if<RstStream>(&*next)) {
      if (streams_.erase(reset->stream_id)) {
        finished_.insert(reset->stream_id);
        session_->OnReset(reset->stream_id);
      }
    } else if (auto* ping = std::get_if<Ping>(&*next)) {
      // Odd ids are the client's: echo them. An even id would answer a PING of
      // ours, and this side sends none.
      if (ping->id % 2 == 1) Enqueue(writer_.Ping(ping->id), /*urgent=*/true);
    }
    // GOAWAY: the client opens no more streams and closes the socket next; SYN_REPLY
    // and the ignored types need nothing.
  }
  return absl::OkStatus();
}

void Connection::Send(uint32_t id, std::string data, bool fin) {
  if (closed_ || finished_.count(id)) return;
  size_t offset = 0;
  do {
    size_t length = std::min(kMaxDataPayload, data.size() - offset);
    bool last = offset + length == data.size();
    Enqueue(writer_.Data(id, absl::string_view(data).substr(offset, length), fin && last), /*urgent=*/false);
    offset += length;
  } while (offset < data.size());
  if (fin) finished_.insert(id);
}

void Connection::Reset(uint32_t id) {
  if (closed_ || finished_.count(id)) return;
  finished_.insert(id);
  streams_.erase(id);
  Enqueue(writer_.RstStream(id, RstStatus::kCancel), /*urgent=*/false);
}

void Connection::Close() {
  if (closing_ || closed_) return;
  for (uint32_t id : streams_) {
    if (!finished_.count(id)) Enqueue(writer_.RstStream(id, RstStatus::kCancel), /*urgent=*/false);
  }
  Enqueue(writer_.GoAway(last_client_stream_, GoAwayStatus::kOk), /*urgent=*/false);
  closing_ = true;
  Write();
}

void Connection::PauseReading() { paused_ = true; }

void Connection::ResumeReading() {
  if (!paused_ || closed_) return;
  paused_ = false;
  // Frames already received come first.
  Status handled = HandleFrames();
  if (!handled.ok()) return Fail(std::string(handled.message()));
  Read();
}

void Connection::Enqueue(std::string bytes, bool urgent) {
  if (closed_) return;
  if (urgent) {
    urgent_.push_back(std::move(bytes));
  } else {
    queued_bytes_ += bytes.size();
    if (queued_bytes_ > kHighWater) above_high_water_ = true;
    out_.push_back(std::move(bytes));
  }
  Write();
}

void Connection::Write() {
  if (writing_ || closed_) return;
  if (urgent_.empty() && out_.empty()) {
    if (closing_) Finish();
    return;
  }
  in_flight_counted_ = urgent_.empty();
  auto& queue = urgent_.empty() ? out_ : urgent_;
  in_flight_ = std::move(queue.front());
  queue.pop_front();
  writing_ = true;
  transport_->Write(asio::buffer(in_flight_),
                    [self = shared_from_this()](const boost::system::error_code& error, size_t) {
                      self->writing_ = false;
                      if (self->closed_) return;
                      if (error) return self->Finish();
                      if (self->in_flight_counted_) self->queued_bytes_ -= self->in_flight_.size();
                      self->in_flight_.clear();
                      self->ArmIdleTimer();
                      if (self->above_high_water_ && self->queued_bytes_ < kHighWater / 2) {
                        self->above_high_water_ = false;
                        if (self->session_) self->session_->OnWritable();
                      }
                      self->Write();
                    });
}

void Connection::ArmIdleTimer() {
  if (closed_) return;
  // Any frame read or written counts as activity, PINGs included (as containerd has
  // it: kubelet's and kubectl's clients ping every 5 s while a session is open).
  idle_timer_.expires_after(idle_timeout_);
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error) self->Fail("idle timeout");
  });
}

void Connection::Fail(const std::string& why) {
  BERTH_LOG(Info) << "streaming connection ends" << Kv("reason", why);
  Finish();
}

void Connection::Finish() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  transport_->Close();
  urgent_.clear();
  out_.clear();
  std::shared_ptr<Session> session = std::move(session_);
  if (session) session->OnClosed();
}

}  // namespace berth::streaming::spdy
