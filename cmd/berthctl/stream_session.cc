#include "cmd/berthctl/stream_session.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/json_field.h"

namespace berth::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr char kProtocol[] = "v5.channel.k8s.io";
enum Channel : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4, kClose = 255 };

// The terminal on stdin in raw mode for the session's life: keys go to the
// container as typed, and the container's terminal does the echoing.
class RawTerminal {
 public:
  RawTerminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// The exit code in a v4/v5 status object: 0 for Success, the ExitCode cause for a
// non-zero exit; anything else is a failure of the session, said on stderr.
int ExitCodeOf(const std::string& status_text) {
  if (status_text.empty()) return 0;
  auto status = nlohmann::json::parse(status_text, nullptr, false);
  if (status.is_discarded() || !status.is_object()) {
    std::cerr << "berthctl: " << status_text << "\n";
    return 1;
  }
  if (JsonString(status, "status") == "Success") return 0;
  if (JsonString(status, "reason") == "NonZeroExitCode") {
    const nlohmann::json* details = JsonMember(status, "details");
    const nlohmann::json* causes = details ? JsonMember(*details, "causes") : nullptr;
    if (causes && causes->is_array()) {
      for (const auto& cause : *causes) {
        int code = 0;
        if (JsonString(cause, "reason") == "ExitCode" && absl::SimpleAtoi(JsonString(cause, "message"), &code)) {
          return code;
        }
      }
    }
  }
  std::cerr << "berthctl: " << JsonString(status, "message", status_text) << "\n";
  return 1;
}

// One session: a single I/O thread does the WebSocket; a thread of its own reads
// stdin (which may be a file or a terminal, neither pollable alike) and hands each
// chunk over.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, bool tty) : io_(io), socket_(io), signals_(io), tty_(tty) {}

  bool Connect(const std::string& host, const std::string& port, const std::string& target) {
    beast::error_code error;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host, port, error);
    if (!error) asio::connect(socket_.next_layer(), endpoints, error);
    if (error) {
      std::cerr << "berthctl: connecting to the streaming server " << host << ":" << port << ": " << error.message()
                << "\n";
      return false;
    }
    socket_.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::sec_websocket_protocol, kProtocol);
    }));
    websocket::response_type response;
    socket_.handshake(response, host + ":" + port, target, error);
    if (error) {
      std::cerr << "berthctl: the streaming server refused the session: " << error.message() << " (HTTP "
                << response.result_int() << ")\n";
      return false;
    }
    if (response[beast::http::field::sec_websocket_protocol] != kProtocol) {
      std::cerr << "berthctl: the streaming server does not speak " << kProtocol << "\n";
      return false;
    }
    socket_.binary(true);
    return true;
  }

  void Start(bool stdin) {
    if (tty_) {
      SendSize();
      signals_.add(SIGWINCH);
      WatchSize();
    }
    if (stdin) StartStdinThread();
    Read();
  }

  int exit_code() const { return ExitCodeOf(status_); }

  // Called when the session is over: the stdin thread posts nothing more.
  void End() {
    std::lock_guard lock(shared_->mutex);
    shared_->over = true;
  }

 private:
  // What the stdin thread and the session share, outliving either.
  struct Shared {
    std::mutex mutex;
    bool over = false;
  };

  void StartStdinThread() {
    std::thread([shared = shared_, self = weak_from_this(), &io = io_] {
      char buffer[32 * 1024];
      for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        std::string message;
        if (n > 0) {
          message.push_back(static_cast<char>(kStdin));
          message.append(buffer, static_cast<size_t>(n));
        } else {
          message = {static_cast<char>(kClose), static_cast<char>(kStdin)};  // v5: stdin's end
        }
        std::lock_guard lock(shared->mutex);
        if (shared->over) return;
        asio::post(io, [self, message] {
          if (auto session = self.lock()) session->Send(message);
        });
        if (n <= 0) return;
      }
    }).detach();
  }

  void SendSize() {
    winsize size{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) != 0) return;
    if (size.ws_col == 0 || size.ws_row == 0) return;
    nlohmann::json resize = {{"Width", size.ws_col}, {"Height", size.ws_row}};
    Send(std::string(1, static_cast<char>(kResize)) + resize.dump());
  }

  void WatchSize() {
    signals_.async_wait([self = shared_from_this()](const beast::error_code& error, int) {
      if (error) return;
      self->SendSize();
      self->WatchSize();
    });
  }

  void Send(std::string message) {
    if (done_) return;
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) WriteNext();
  }

  void WriteNext() {
    socket_.async_write(asio::buffer(queue_.front()), [self = shared_from_this()](const beast::error_code& error,
                                                                                   size_t) {
      if (error) return;  // the read side notices the end
      self->queue_.pop_front();
      if (!self->queue_.empty()) self->WriteNext();
    });
  }

  void Read() {
    socket_.async_read(buffer_, [self = shared_from_this()](const beast::error_code& error, size_t) {
      if (error) return self->Finish(error);
      std::string message = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->OnMessage(message);
      self->Read();
    });
  }

  void OnMessage(const std::string& message) {
    if (message.empty()) return;
    const char* data = message.data() + 1;
    const size_t size = message.size() - 1;
    switch (static_cast<uint8_t>(message[0])) {
      case kStdout:
        WriteAll(STDOUT_FILENO, data, size);
        break;
      case kStderr:
        WriteAll(STDERR_FILENO, data, size);
        break;
      case kError:
        status_.append(data, size);
        break;
      default:
        break;
    }
  }

  static void WriteAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      data += n;
      size -= static_cast<size_t>(n);
    }
  }

  void Finish(const beast::error_code& error) {
    done_ = true;
    if (error != websocket::error::closed && status_.empty()) {
      status_ = nlohmann::json({{"status", "Failure"}, {"message", "the session broke: " + error.message()}}).dump();
    }
    beast::error_code ignored;
    signals_.cancel(ignored);
    socket_.next_layer().close(ignored);
  }

  asio::io_context& io_;
  websocket::stream<tcp::socket> socket_;
  asio::signal_set signals_;
  const bool tty_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::string status_;
  bool done_ = false;
};

}  // namespace

bool SplitStreamingUrl(const std::string& url, std::string* host, std::string* port, std::string* target) {
  absl::string_view rest = url;
  if (absl::StartsWith(rest, "https://")) {
    std::cerr << "berthctl: the streaming server uses TLS (" << url
              << "); berthctl streams over plain http only: use crictl, or kubectl through kubelet\n";
    return false;
  }
  if (!absl::ConsumePrefix(&rest, "http://")) {
    std::cerr << "berthctl: not an http URL: " << url << "\n";
    return false;
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  *target = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  const size_t colon = authority.rfind(':');
  if (colon == absl::string_view::npos) {
    *host = std::string(authority);
    *port = "80";
  } else {
    *host = std::string(absl::StripPrefix(absl::StripSuffix(authority.substr(0, colon), "]"), "["));
    *port = std::string(authority.substr(colon + 1));
  }
  return true;
}

int RunStreamSession(const std::string& url, bool stdin, bool tty) {
  std::string host, port, target;
  if (!SplitStreamingUrl(url, &host, &port, &target)) return 1;
  asio::io_context io;
  auto session = std::make_shared<Session>(io, tty);
  if (!session->Connect(host, port, target)) return 1;
  std::unique_ptr<RawTerminal> raw;
  if (tty && stdin && ::isatty(STDIN_FILENO)) raw = std::make_unique<RawTerminal>();
  session->Start(stdin);
  io.run();
  session->End();
  raw.reset();
  return session->exit_code();
}

}  // namespace berth::ctl
