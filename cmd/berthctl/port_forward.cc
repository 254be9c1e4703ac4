// berthctl port-forward POD [LOCAL:]REMOTE...: listens on the host's loopback and
// carries each connection to its port on the pod's, over WebSocket (the
// v4.channel.k8s.io framing: a data and an error channel per port, each opened by
// the port's two bytes). Each connection asks for a URL of its own, as the
// framing carries one connection per port and URL.
#include <csignal>
#include <deque>
#include <iostream>
#include <memory>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "cmd/berthctl/command.h"
#include "cmd/berthctl/output.h"
#include "cmd/berthctl/stream_session.h"
#include "cri/client.h"

namespace berth::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace po = boost::program_options;
using tcp = asio::ip::tcp;

namespace {

constexpr char kProtocol[] = "v4.channel.k8s.io";

struct PortPair {
  uint16_t local = 0;
  int32_t remote = 0;
};

bool ParsePort(absl::string_view text, int min, int* port) {
  return absl::SimpleAtoi(text, port) && *port >= min && *port <= 65535;
}

// "[LOCAL:]REMOTE"; LOCAL 0 picks a free port.
bool ParsePortPair(const std::string& text, PortPair* pair) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  int local = 0, remote = 0;
  if (parts.size() == 1 && ParsePort(parts[0], 1, &remote)) {
    local = remote;
  } else if (parts.size() != 2 || !ParsePort(parts[0], 0, &local) || !ParsePort(parts[1], 1, &remote)) {
    return false;
  }
  *pair = {static_cast<uint16_t>(local), remote};
  return true;
}

// The URL for a forward to port of pod: from PortForward, each time anew.
bool ForwardUrl(const GlobalOptions& global, const std::string& pod, int32_t port, std::string* url) {
  ::runtime::v1::PortForwardRequest request;
  request.set_pod_sandbox_id(pod);
  request.add_port(port);
  ::runtime::v1::PortForwardResponse response;
  cri::CriClient client(global.endpoint);
  auto ctx = cri::CriClient::Context(global.timeout);
  grpc::Status status = client.runtime().PortForward(ctx.get(), request, &response);
  if (!status.ok()) {
    ReportRpcError("PortForward", status);
    return false;
  }
  *url = response.url();
  return true;
}

// One local connection and its WebSocket, bytes pumped both ways until either ends.
class Forward : public std::enable_shared_from_this<Forward> {
 public:
  Forward(tcp::socket local, int32_t remote)
      : local_(std::move(local)), socket_(local_.get_executor()), remote_(remote) {}

  void Start(const std::string& url) {
    std::string host, port, target;
    if (!SplitStreamingUrl(url, &host, &port, &target)) return;
    beast::error_code error;
    socket_.next_layer().connect({asio::ip::make_address(host, error), static_cast<uint16_t>(std::stoi(port))}, error);
    socket_.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::sec_websocket_protocol, kProtocol);
    }));
    if (!error) socket_.handshake(host + ":" + port, target, error);
    if (error) {
      std::cerr << "berthctl: forwarding to port " << remote_ << ": " << error.message() << "\n";
      return;
    }
    socket_.binary(true);
    ReadRemote();
    ReadLocal();
  }

 private:
  void ReadRemote() {
    socket_.async_read(remote_buffer_, [self = shared_from_this()](const beast::error_code& error, size_t) {
      if (error) return self->End();
      std::string message = beast::buffers_to_string(self->remote_buffer_.data());
      self->remote_buffer_.consume(self->remote_buffer_.size());
      if (message.empty()) return self->ReadRemote();
      const uint8_t channel = static_cast<uint8_t>(message[0]);
      message.erase(0, 1);
      // Each channel's first message is its port.
      bool& opened = channel == 0 ? self->data_opened_ : self->error_opened_;
      if (!opened) {
        opened = true;
        return self->ReadRemote();
      }
      if (channel == 1) {
        std::cerr << "berthctl: " << message << "\n";
        return self->End();
      }
      auto owned = std::make_shared<std::string>(std::move(message));
      asio::async_write(self->local_, asio::buffer(*owned), [self, owned](const beast::error_code& error, size_t) {
        if (error) return self->End();
        self->ReadRemote();
      });
    });
  }

  void ReadLocal() {
    local_.async_read_some(asio::buffer(local_buffer_ + 1, sizeof local_buffer_ - 1),
                           [self = shared_from_this()](const beast::error_code& error, size_t n) {
                             // The v4 framing has no half-close: after the local end,
                             // what the pod still sends comes back until it closes.
                             if (error) return;
                             self->local_buffer_[0] = 0;
                             self->socket_.async_write(asio::buffer(self->local_buffer_, n + 1),
                                                       [self](const beast::error_code& error, size_t) {
                                                         if (error) return self->End();
                                                         self->ReadLocal();
                                                       });
                           });
  }

  void End() {
    beast::error_code ignored;
    local_.shutdown(tcp::socket::shutdown_both, ignored);
    local_.close(ignored);
    socket_.next_layer().close(ignored);
  }

  tcp::socket local_;
  websocket::stream<tcp::socket> socket_;
  const int32_t remote_;
  beast::flat_buffer remote_buffer_;
  char local_buffer_[32 * 1024 + 1];
  bool data_opened_ = false;
  bool error_opened_ = false;
};

class Listener {
 public:
  Listener(asio::io_context& io, const GlobalOptions& global, std::string pod, PortPair pair)
      : acceptor_(io), global_(global), pod_(std::move(pod)), pair_(pair) {}

  bool Listen() {
    beast::error_code error;
    tcp::endpoint endpoint(asio::ip::address_v4::loopback(), pair_.local);
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      std::cerr << "berthctl: listening on 127.0.0.1:" << pair_.local << ": " << error.message() << "\n";
      return false;
    }
    std::cout << "Forwarding from 127.0.0.1:" << acceptor_.local_endpoint().port() << " -> " << pair_.remote
              << std::endl;
    Accept();
    return true;
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](const beast::error_code& error, tcp::socket local) {
      if (error) return;
      std::string url;
      if (ForwardUrl(global_, pod_, pair_.remote, &url)) {
        std::make_shared<Forward>(std::move(local), pair_.remote)->Start(url);
      }
      Accept();
    });
  }

  tcp::acceptor acceptor_;
  const GlobalOptions& global_;
  const std::string pod_;
  const PortPair pair_;
};

}  // namespace

int RunPortForward(const GlobalOptions& global, const std::vector<std::string>& args) {
  CommandLine line;
  po::options_description flags("Flags");
  if (int rc = ParseCommand({"port-forward", "port-forward POD_ID [LOCAL:]REMOTE...",
                             "Forwards connections to the host's loopback (LOCAL, 0 for a free port; REMOTE when "
                             "not given) to REMOTE on the pod's, until interrupted",
                             2},
                            args, flags, &line);
      rc >= 0) {
    return rc;
  }
  const std::string& pod = line.positional[0];
  std::vector<PortPair> pairs;
  for (size_t i = 1; i < line.positional.size(); ++i) {
    PortPair pair;
    if (!ParsePortPair(line.positional[i], &pair)) {
      std::cerr << "berthctl port-forward: \"" << line.positional[i] << "\" is not [LOCAL:]REMOTE\n";
      return 2;
    }
    pairs.push_back(pair);
  }
  // The pod is there and ready, or berthd says why not, before anything listens.
  std::string url;
  if (!ForwardUrl(global, pod, pairs[0].remote, &url)) return 1;
  asio::io_context io;
  std::vector<std::unique_ptr<Listener>> listeners;
  for (const auto& pair : pairs) {
    listeners.push_back(std::make_unique<Listener>(io, global, pod, pair));
    if (!listeners.back()->Listen()) return 1;
  }
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&io](const beast::error_code&, int) { io.stop(); });
  io.run();
  return 0;
}

}  // namespace berth::ctl
