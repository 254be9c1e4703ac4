#include "streaming/server.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "streaming/channel_connection.h"
#include "streaming/port_forward_session.h"
#include "streaming/socket_transports.h"
#include "streaming/spdy/connection.h"

namespace berth::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// How long a client may take to send its request head (and, with TLS, to shake hands).
constexpr std::chrono::seconds kRequestTimeout{30};

// WebSocket subprotocols, best first. Exec and attach: Kubernetes' channel
// protocols, v5 (client-go's WebSocket executor, kubectl) adding stdin's close.
constexpr const char* kRemoteCommandWebSocketProtocols[] = {
    "v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"};
// Port-forward: SPDY tunnelled in binary messages (kubectl), or a data and an error
// channel per port of the request (older WebSocket clients).
constexpr char kTunnelledPortForward[] = "SPDY/3.1+portforward.k8s.io";
constexpr const char* kPortForwardWebSocketProtocols[] = {kTunnelledPortForward, "v4.channel.k8s.io",
                                                          "v4.base64.channel.k8s.io"};

// The channel numbers of the remotecommand protocols.
enum RemoteCommandChannel : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4 };

std::vector<std::string> ListedValues(const UpgradeRequest& request, beast::string_view name) {
  std::vector<std::string> values;
  auto [first, last] = request.equal_range(name);
  for (auto field = first; field != last; ++field) {
    for (absl::string_view value : absl::StrSplit(std::string(field->value()), ',', absl::SkipWhitespace())) {
      values.emplace_back(absl::StripAsciiWhitespace(value));
    }
  }
  return values;
}

// The first of offered (the client's order decides, as Kubernetes' servers have it)
// that is in supported; "" when none is.
template <size_t N>
std::string Negotiate(const std::vector<std::string>& offered, const char* const (&supported)[N]) {
  for (const auto& protocol : offered) {
    if (std::find(std::begin(supported), std::end(supported), protocol) != std::end(supported)) return protocol;
  }
  return "";
}

ChannelLayout RemoteCommandLayout(const ExecRequest& streams, const std::string& protocol) {
  ChannelLayout layout;
  auto add = [&](uint8_t number, const char* type, bool readable) {
    layout.channels.push_back({.number = number, .headers = {{"streamtype", type}}, .readable = readable});
  };
  add(kError, "error", false);
  if (streams.stdin) add(kStdin, "stdin", true);
  if (streams.stdout) add(kStdout, "stdout", false);
  if (streams.stderr && !streams.tty) add(kStderr, "stderr", false);
  if (streams.tty) add(kResize, "resize", true);
  // An empty message on the first channel the client reads tells it the session is
  // up (Kubernetes' clients wait for nothing, older web terminals do).
  layout.opening.push_back({streams.stdout ? kStdout : streams.stderr ? kStderr : kError, ""});
  layout.base64 = absl::StrContains(protocol, "base64");
  layout.close_signal = protocol == "v5.channel.k8s.io";
  return layout;
}

ChannelLayout PortForwardLayout(const PortForwardRequest& request, const std::string& protocol) {
  ChannelLayout layout;
  for (size_t i = 0; i < request.ports.size(); ++i) {
    const auto data = static_cast<uint8_t>(2 * i), error = static_cast<uint8_t>(2 * i + 1);
    const std::string port = std::to_string(request.ports[i]), id = std::to_string(i);
    layout.channels.push_back(
        {.number = error, .headers = {{"streamtype", "error"}, {"port", port}, {"requestid", id}}, .readable = false});
    layout.channels.push_back(
        {.number = data, .headers = {{"streamtype", "data"}, {"port", port}, {"requestid", id}}, .readable = true});
    // Each channel first carries its port, two bytes little-endian.
    const std::string port_bytes{static_cast<char>(request.ports[i] & 0xff),
                                 static_cast<char>((request.ports[i] >> 8) & 0xff)};
    layout.opening.push_back({data, port_bytes});
    layout.opening.push_back({error, port_bytes});
    layout.close_after.push_back(data);
  }
  layout.base64 = absl::StrContains(protocol, "base64");
  return layout;
}

// What every connection's exchange needs from the server.
struct Context {
  RequestCache& cache;
  Backend* backend;
  asio::io_context& io;
  asio::thread_pool& blocking;
  const ServerOptions& options;
};

// One HTTP request on a new connection: the token looked up, the upgrade
// negotiated, and the connection handed to its session. Stream: beast's tcp_stream,
// or TlsStream.
template <class Stream>
class Exchange : public std::enable_shared_from_this<Exchange<Stream>> {
 public:
  Exchange(Stream stream, const Context& context) : stream_(std::move(stream)), context_(context) {
    parser_.header_limit(16 * 1024);
    parser_.body_limit(0);
  }

  void Run() {
    beast::get_lowest_layer(stream_).expires_after(kRequestTimeout);
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](const beast::error_code& error) {
                                if (error) {
                                  BERTH_LOG(Info) << "streaming server: TLS handshake failed"
                                                  << Kv("error", error.message());
                                  return;
                                }
                                self->ReadHead();
                              });
    } else {
      ReadHead();
    }
  }

 private:
  void ReadHead() {
    http::async_read_header(stream_, buffer_, parser_,
                            [self = this->shared_from_this()](beast::error_code error, size_t) {
                              if (!error) self->Route();
                            });
  }

  void Route() {
    const UpgradeRequest& request = parser_.get();
    if (request.method() != http::verb::get && request.method() != http::verb::post) {
      return Reply(http::status::method_not_allowed, "streaming URLs take GET (WebSocket) or POST (SPDY)\n");
    }
    // The query string is kubelet's copy of the user's: the cached request decides.
    std::string path(request.target());
    path = path.substr(0, path.find('?'));
    std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
    std::optional<Request> cached;
    if (parts.size() == 2) cached = context_.cache.Consume(parts[1]);
    const bool kind_matches =
        cached && ((parts[0] == "exec" && std::holds_alternative<ExecRequest>(*cached)) ||
                   (parts[0] == "attach" && std::holds_alternative<AttachRequest>(*cached)) ||
                   (parts[0] == "portforward" && std::holds_alternative<PortForwardRequest>(*cached)));
    if (!kind_matches) return Reply(http::status::not_found, "unknown, used or expired streaming URL\n");
    if (beast::websocket::is_upgrade(request)) return UpgradeToWebSocket(std::move(*cached));
    UpgradeToSpdy(std::move(*cached));
  }

  void UpgradeToSpdy(Request cached) {
    const UpgradeRequest& request = parser_.get();
    if (!absl::EqualsIgnoreCase(std::string(request[http::field::upgrade]), "SPDY/3.1") ||
        !absl::StrContains(absl::AsciiStrToLower(std::string(request[http::field::connection])), "upgrade")) {
      return Reply(http::status::bad_request, "an Upgrade: SPDY/3.1 (or WebSocket) request is required\n");
    }
    std::vector<std::string> offered = ListedValues(request, "X-Stream-Protocol-Version");
    if (offered.empty()) return Reply(http::status::bad_request, "X-Stream-Protocol-Version is missing\n");
    const bool forward = std::holds_alternative<PortForwardRequest>(cached);
    std::vector<std::string> supported;
    if (forward) {
      supported = {kPortForwardProtocol};
    } else {
      supported.assign(std::begin(kRemoteCommandProtocols), std::end(kRemoteCommandProtocols));
    }
    std::string chosen;
    for (const auto& protocol : offered) {
      if (std::find(supported.begin(), supported.end(), protocol) != supported.end()) {
        chosen = protocol;
        break;
      }
    }
    if (chosen.empty()) {
      http::response<http::string_body> refusal{http::status::forbidden, 11};
      for (const auto& protocol : supported) refusal.insert("X-Accepted-Stream-Protocol-Versions", protocol);
      refusal.body() = "none of the offered protocol versions is supported\n";
      return Send(std::move(refusal));
    }
    auto response = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols, 11);
    response->set(http::field::connection, "Upgrade");
    response->set(http::field::upgrade, "SPDY/3.1");
    response->set("X-Stream-Protocol-Version", chosen);
    beast::get_lowest_layer(stream_).expires_never();
    http::async_write(stream_, *response,
                      [self = this->shared_from_this(), response, chosen, cached = std::move(cached)](
                          beast::error_code error, size_t) mutable {
                        if (error) return;
                        // Bytes the client sent after its request head belong to SPDY.
                        std::string early = beast::buffers_to_string(self->buffer_.data());
                        std::shared_ptr<ByteTransport> transport;
                        if constexpr (std::is_same_v<Stream, TlsStream>) {
                          transport = TlsTransport(std::move(self->stream_));
                        } else {
                          transport = TcpTransport(std::move(self->stream_));
                        }
                        self->StartSpdy(std::move(transport), std::move(early), std::move(cached), chosen);
                      });
  }

  void UpgradeToWebSocket(Request cached) {
    const UpgradeRequest& request = parser_.get();
    std::vector<std::string> offered = ListedValues(request, "Sec-WebSocket-Protocol");
    const bool no_protocol = offered.empty();
    auto* forward = std::get_if<PortForwardRequest>(&cached);
    std::string chosen = forward ? Negotiate(offered, kPortForwardWebSocketProtocols)
                                 : Negotiate(offered, kRemoteCommandWebSocketProtocols);
    // A client that names no subprotocol gets the oldest binary channels.
    if (chosen.empty() && !no_protocol) {
      const std::string supported = forward ? absl::StrJoin(kPortForwardWebSocketProtocols, ", ")
                                            : absl::StrJoin(kRemoteCommandWebSocketProtocols, ", ");
      return Reply(http::status::forbidden,
                   absl::StrCat("none of the offered WebSocket subprotocols is supported; berth supports ",
                                supported, "\n"));
    }
    if (forward && chosen != kTunnelledPortForward && forward->ports.empty()) {
      return Reply(http::status::bad_request,
                   "a port-forward over WebSocket channels needs the ports in the PortForward request\n");
    }
    AcceptWebSocket(std::move(stream_), request, chosen,
                    [self = this->shared_from_this(), cached = std::move(cached), chosen](
                        const beast::error_code& error, std::shared_ptr<MessageTransport> messages) mutable {
                      if (error) {
                        BERTH_LOG(Info) << "streaming server: WebSocket handshake failed"
                                        << Kv("error", error.message());
                        return;
                      }
                      self->StartWebSocket(std::move(messages), std::move(cached), chosen);
                    });
  }

  void StartSpdy(std::shared_ptr<ByteTransport> transport, std::string early, Request request,
                 const std::string& protocol) {
    auto connection = std::make_shared<spdy::Connection>(context_.io, std::move(transport), std::move(early),
                                                         context_.options.idle_timeout);
    if (auto* forward = std::get_if<PortForwardRequest>(&request)) {
      return StartPortForward(connection, std::move(*forward));
    }
    StartRemoteCommand(connection, std::move(request), Dialect::OfSpdy(protocol));
  }

  void StartWebSocket(std::shared_ptr<MessageTransport> messages, Request request, const std::string& protocol) {
    const auto idle = context_.options.idle_timeout;
    if (auto* forward = std::get_if<PortForwardRequest>(&request)) {
      if (protocol == kTunnelledPortForward) {
        auto connection = std::make_shared<spdy::Connection>(context_.io, TunnelTransport(std::move(messages)), "",
                                                             idle);
        return StartPortForward(connection, std::move(*forward));
      }
      ChannelLayout layout = PortForwardLayout(*forward, protocol);
      return StartPortForward(
          std::make_shared<ChannelConnection>(context_.io, std::move(messages), std::move(layout), idle),
          std::move(*forward));
    }
    ExecRequest streams = Streams(request);
    ChannelLayout layout = RemoteCommandLayout(streams, protocol);
    const bool status_object = protocol.rfind("v4.", 0) == 0 || protocol.rfind("v5.", 0) == 0;
    StartRemoteCommand(std::make_shared<ChannelConnection>(context_.io, std::move(messages), std::move(layout), idle),
                       std::move(request), Dialect{.status_object = status_object, .resize = true});
  }

  void StartPortForward(const std::shared_ptr<StreamConnection>& connection, PortForwardRequest request) {
    auto session = std::make_shared<PortForwardSession>(context_.io, context_.blocking, connection, std::move(request),
                                                        context_.backend, context_.options.timeouts);
    connection->Start(session);
  }

  // What an exec or attach request asks of the session's streams.
  static ExecRequest Streams(const Request& request) {
    if (auto* exec = std::get_if<ExecRequest>(&request)) return *exec;
    const auto& attach = std::get<AttachRequest>(request);
    return {.container_id = attach.container_id, .cmd = {}, .tty = attach.tty, .stdin = attach.stdin,
            .stdout = attach.stdout, .stderr = attach.stderr};
  }

  void StartRemoteCommand(const std::shared_ptr<StreamConnection>& connection, Request request, Dialect dialect) {
    RemoteCommandSession::Starter start;
    if (auto* exec = std::get_if<ExecRequest>(&request)) {
      start = [backend = context_.backend, exec = *exec] { return backend->Exec(exec); };
    } else {
      start = [backend = context_.backend, attach = std::get<AttachRequest>(request)] {
        return backend->Attach(attach);
      };
    }
    auto session = std::make_shared<RemoteCommandSession>(context_.io, context_.blocking, connection, Streams(request),
                                                          dialect, std::move(start), context_.options.timeouts);
    connection->Start(session);
    session->Begin();
  }

  void Reply(http::status status, const std::string& text) {
    http::response<http::string_body> response{status, 11};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = text;
    Send(std::move(response));
  }

  void Send(http::response<http::string_body> response) {
    response.keep_alive(false);
    response.prepare_payload();
    auto owned = std::make_shared<http::response<http::string_body>>(std::move(response));
    http::async_write(stream_, *owned, [self = this->shared_from_this(), owned](beast::error_code, size_t) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  const Context context_;
};

StatusOr<std::unique_ptr<asio::ssl::context>> LoadTls(const TlsFiles& files) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code error;
  auto load = [&](const char* key, const std::string& file, auto&& action) -> Status {
    action();
    if (error) {
      return absl::InvalidArgumentError(
          absl::StrCat("streaming TLS: ", key, " \"", file, "\": ", error.message()));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(load("tls_cert_file", files.cert_file,
                       [&] { context->use_certificate_chain_file(files.cert_file, error); }));
  RETURN_IF_ERROR(load("tls_key_file", files.key_file,
                       [&] { context->use_private_key_file(files.key_file, asio::ssl::context::pem, error); }));
  if (!files.client_ca_file.empty()) {
    RETURN_IF_ERROR(load("tls_client_ca_file", files.client_ca_file,
                         [&] { context->load_verify_file(files.client_ca_file, error); }));
    context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

}  // namespace

Server::Server(const ServerOptions& options, Backend* backend)
    : options_(options), backend_(backend), acceptor_(io_) {}

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Backend* backend) {
  std::unique_ptr<Server> server(new Server(options, backend));
  if (options.tls) {
    ASSIGN_OR_RETURN(server->tls_, LoadTls(*options.tls));
  }
  boost::system::error_code error;
  auto address = asio::ip::make_address(options.address, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat("streaming address \"", options.address, "\": ", error.message()));
  }
  tcp::endpoint endpoint(address, options.port);
  server->acceptor_.open(endpoint.protocol(), error);
  if (!error) server->acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) server->acceptor_.bind(endpoint, error);
  if (!error) server->acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("listen for streaming on ", options.address, ":", options.port, ": ",
                                               error.message()));
  }
  auto bound = server->acceptor_.local_endpoint();
  const std::string host = bound.address().is_v6() ? absl::StrCat("[", bound.address().to_string(), "]")
                                                   : bound.address().to_string();
  server->base_url_ = absl::StrCat(server->tls_ ? "https://" : "http://", host, ":", bound.port());
  server->Accept();
  server->thread_ = std::thread([raw = server.get()] { raw->io_.run(); });
  BERTH_LOG(Info) << "streaming server listening" << Kv("url", server->base_url_);
  return server;
}

Server::~Server() {
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  // Processes still starting finish first; then the I/O thread stops, and the
  // sessions it held end (and with them their processes) as they are destroyed.
  blocking_.join();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void Server::Accept() {
  acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
    if (error) {
      if (error == asio::error::operation_aborted) return;
      BERTH_LOG(Warn) << "streaming server: accept failed" << Kv("error", error.message());
    } else {
      // The server outlives every exchange: its I/O thread is joined before its
      // members go.
      // Sessions write as the process or pod produces, often little at a time:
      // Nagle's wait for an ACK would add a delayed ACK's 40 ms to each answer.
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const Context context{cache_, backend_, io_, blocking_, options_};
      if (tls_) {
        std::make_shared<Exchange<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), *tls_), context)->Run();
      } else {
        std::make_shared<Exchange<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), context)->Run();
      }
    }
    Accept();
  });
}

StatusOr<std::string> Server::Url(Request request) {
  const char* kind = std::holds_alternative<ExecRequest>(request)     ? "exec"
                     : std::holds_alternative<AttachRequest>(request) ? "attach"
                                                                      : "portforward";
  ASSIGN_OR_RETURN(std::string token, cache_.Insert(std::move(request)));
  return absl::StrCat(base_url_, "/", kind, "/", token);
}

}  // namespace berth::streaming
