#include "streaming/remote_command_session.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/log.h"

namespace berth::streaming {

namespace asio = boost::asio;

namespace {

// Client data for stdin held while the process does not take it: past this the
// connection stops reading (a slow process slows its client, nothing grows).
constexpr size_t kStdinHighWater = 1 << 20;

// The error stream's payload: a Kubernetes Status object (the client reads the exit
// code from its causes), or before v4 the failure's message alone.
std::string StatusPayload(Dialect dialect, const Status& failure, std::optional<int> exit_code) {
  if (!dialect.status_object) {
    if (!failure.ok()) return std::string(failure.message());
    if (exit_code && *exit_code != 0) return absl::StrCat("command terminated with non-zero exit code: ", *exit_code);
    return "";
  }
  nlohmann::json status = {{"metadata", nlohmann::json::object()}};
  if (!failure.ok()) {
    status["status"] = "Failure";
    status["reason"] = "InternalError";
    status["code"] = 500;
    status["message"] = absl::StrCat("Internal error occurred: ", failure.message());
    status["details"] = {{"causes", {{{"message", std::string(failure.message())}}}}};
  } else if (exit_code && *exit_code != 0) {
    status["status"] = "Failure";
    status["reason"] = "NonZeroExitCode";
    status["message"] = absl::StrCat("command terminated with non-zero exit code: exit status ", *exit_code);
    status["details"] = {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(*exit_code)}}}}};
  } else {
    status["status"] = "Success";
  }
  return status.dump();
}

}  // namespace

Dialect Dialect::OfSpdy(const std::string& protocol) {
  return {.status_object = protocol == "v4.channel.k8s.io",
          .resize = protocol == "v4.channel.k8s.io" || protocol == "v3.channel.k8s.io"};
}

RemoteCommandSession::RemoteCommandSession(asio::io_context& io, asio::thread_pool& blocking,
                                           std::shared_ptr<StreamConnection> connection, ExecRequest streams,
                                           Dialect dialect, Starter start, SessionTimeouts timeouts)
    : io_(io),
      blocking_(blocking),
      connection_(std::move(connection)),
      request_(std::move(streams)),
      dialect_(dialect),
      start_(std::move(start)),
      timeouts_(timeouts),
      timer_(io) {
  stdout_.done = !request_.stdout;
  stderr_.done = !request_.stderr || request_.tty;
}

RemoteCommandSession::~RemoteCommandSession() { EndProcess(); }

void RemoteCommandSession::Begin() {
  timer_.expires_after(timeouts_.stream_creation);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->starting_ || self->finished_) return;
    BERTH_LOG(Info) << "streaming session: the client did not open its streams in time"
                    << Kv("container", self->request_.container_id);
    self->finished_ = true;
    self->connection_->Close();
  });
}

bool RemoteCommandSession::AllStreamsOpen() const {
  return error_stream_ != 0 && (!request_.stdin || stdin_stream_ != 0) && (stdout_.done || stdout_.stream != 0) &&
         (stderr_.done || stderr_.stream != 0) && (!request_.tty || !dialect_.resize || resize_stream_ != 0);
}

bool RemoteCommandSession::OnStream(uint32_t id, const Headers& headers) {
  if (starting_ || finished_) return false;
  const std::string type = absl::AsciiStrToLower(HeaderValue(headers, "streamtype"));
  uint32_t* slot = nullptr;
  if (type == "error") {
    slot = &error_stream_;
  } else if (type == "stdin" && request_.stdin) {
    slot = &stdin_stream_;
  } else if (type == "stdout" && request_.stdout) {
    slot = &stdout_.stream;
  } else if (type == "stderr" && request_.stderr && !request_.tty) {
    slot = &stderr_.stream;
  } else if (type == "resize" && request_.tty && dialect_.resize) {
    slot = &resize_stream_;
  }
  if (slot == nullptr || *slot != 0) return false;  // not asked for, or a second one
  *slot = id;
  if (AllStreamsOpen()) {
    starting_ = true;
    timer_.cancel();
    // After this call returns, so that the stream's SYN_REPLY is queued first.
    asio::post(io_, [self = shared_from_this()] { self->StartProcess(); });
  }
  return true;
}

void RemoteCommandSession::StartProcess() {
  if (finished_) return;
  // Starting a process in a container runs the OCI runtime: not on the I/O thread.
  asio::post(blocking_, [self = shared_from_this()] {
    auto started = self->start_();
    asio::post(self->io_, [self, started = std::move(started)]() mutable {
      self->OnProcessStarted(std::move(started));
    });
  });
}

void RemoteCommandSession::OnProcessStarted(StatusOr<std::unique_ptr<SessionProcess>> started) {
  if (!started.ok()) return Finish(started.status(), std::nullopt);
  process_ = *std::move(started);
  if (finished_) return EndProcess();  // the client left while it started
  auto wrap = [&](UniqueFd& fd) {
    return fd ? std::make_unique<asio::posix::stream_descriptor>(io_, fd.Release()) : nullptr;
  };
  if (stdin_stream_ != 0) stdin_pipe_ = wrap(process_->stdin);
  stdout_.pipe = wrap(process_->stdout);
  stderr_.pipe = wrap(process_->stderr);
  if (!stdout_.pipe) stdout_.done = true;
  if (!stderr_.pipe) stderr_.done = true;
  exit_watch_ = wrap(process_->exit_fd);
  if (pending_size_) process_->Resize(pending_size_->width, pending_size_->height);
  if (exit_watch_) {
    exit_watch_->async_wait(asio::posix::stream_descriptor::wait_read,
                            [self = shared_from_this()](const boost::system::error_code& error) {
                              if (!error) self->OnExited();
                            });
  }
  PumpStdin();
  ReadOutput(stdout_);
  ReadOutput(stderr_);
}

void RemoteCommandSession::OnData(uint32_t id, std::string data) {
  if (id == stdin_stream_ && id != 0) {
    if (stdin_fin_ || finished_) return;
    stdin_buffer_ += data;
    if (stdin_buffer_.size() > kStdinHighWater) connection_->PauseReading();
    PumpStdin();
  } else if (id == resize_stream_ && id != 0) {
    for (const TerminalSize& size : resize_events_.Feed(data)) {
      // A size that comes before the terminal exists is applied when it does.
      if (process_) {
        process_->Resize(size.width, size.height);
      } else {
        pending_size_ = size;
      }
    }
  }
}

void RemoteCommandSession::OnFin(uint32_t id) {
  // stdin's end closes the process's stdin (what `echo x | kubectl exec -i` needs);
  // a terminal stays open.
  if (id != stdin_stream_ || id == 0 || request_.tty) return;
  stdin_fin_ = true;
  PumpStdin();
}

void RemoteCommandSession::OnReset(uint32_t id) { OnFin(id); }

void RemoteCommandSession::PumpStdin() {
  if (!stdin_pipe_ || !stdin_writing_.empty()) return;
  if (stdin_buffer_.empty()) {
    if (stdin_fin_) {
      boost::system::error_code ignored;
      stdin_pipe_->close(ignored);
      stdin_pipe_.reset();
    }
    return;
  }
  stdin_writing_ = std::move(stdin_buffer_);
  stdin_buffer_.clear();
  connection_->ResumeReading();
  asio::async_write(*stdin_pipe_, asio::buffer(stdin_writing_),
                    [self = shared_from_this()](const boost::system::error_code& error, size_t) {
                      self->stdin_writing_.clear();
                      if (error) {
                        // The process closed its stdin: what the client sends is dropped.
                        self->stdin_pipe_.reset();
                        self->stdin_buffer_.clear();
                        return;
                      }
                      self->PumpStdin();
                    });
}

void RemoteCommandSession::ReadOutput(Output& output) {
  if (output.done || output.reading || !output.pipe || finished_) return;
  if (connection_->queued() > StreamConnection::kHighWater) return;  // OnWritable resumes
  output.reading = true;
  output.pipe->async_read_some(
      asio::buffer(output.buffer), [self = shared_from_this(), &output](const boost::system::error_code& error,
                                                                         size_t bytes) {
        output.reading = false;
        if (self->finished_ || output.done) return;
        if (error) {
          // EOF (or, for a terminal, EIO once the process is gone): the stream ends.
          output.done = true;
          self->connection_->Send(output.stream, "", /*fin=*/true);
          return self->MaybeFinish();
        }
        self->connection_->Send(output.stream, std::string(output.buffer, bytes), /*fin=*/false);
        self->ReadOutput(output);
      });
}

void RemoteCommandSession::OnWritable() {
  ReadOutput(stdout_);
  ReadOutput(stderr_);
}

void RemoteCommandSession::OnExited() {
  exited_ = true;
  // The output may still be in the pipes; a background child may also hold them
  // open for good, so their end is waited for only so long.
  timer_.expires_after(timeouts_.drain);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->finished_) return;
    for (Output* output : {&self->stdout_, &self->stderr_}) {
      if (output->done) continue;
      output->done = true;
      self->connection_->Send(output->stream, "", /*fin=*/true);
    }
    self->MaybeFinish();
  });
  MaybeFinish();
}

void RemoteCommandSession::MaybeFinish() {
  if (finished_ || !exited_ || !stdout_.done || !stderr_.done) return;
  Finish(absl::OkStatus(), process_->ExitCode());
}

void RemoteCommandSession::Finish(const Status& failure, std::optional<int> exit_code) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  if (!failure.ok()) {
    BERTH_LOG(Warn) << "streaming session failed" << Kv("container", request_.container_id) << failure;
  }
  const std::string payload = StatusPayload(dialect_, failure, exit_code);
  // All output goes out before the status, and the status before the GOAWAY.
  connection_->Send(error_stream_, payload, /*fin=*/true);
  connection_->Close();
  EndProcess();
}

void RemoteCommandSession::OnClosed() {
  client_gone_ = true;
  finished_ = true;
  timer_.cancel();
  EndProcess();
}

void RemoteCommandSession::EndProcess() {
  boost::system::error_code ignored;
  for (Output* output : {&stdout_, &stderr_}) {
    if (output->pipe) output->pipe->close(ignored);
  }
  if (stdin_pipe_) stdin_pipe_->close(ignored);
  if (exit_watch_) exit_watch_->close(ignored);
  // No exec process outlives its session.
  if (process_ && !exited_) {
    process_->Kill();
    exited_ = true;
  }
}

}  // namespace berth::streaming
