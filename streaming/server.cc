#include "streaming/server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "streaming/port_forward_session.h"

namespace berth::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// How long a client may take to send its request head.
constexpr std::chrono::seconds kRequestTimeout{30};

enum class Kind { kExec, kAttach, kPortForward };

// One HTTP request on a new connection: the token looked up, the upgrade
// negotiated, and the connection handed to its session.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(tcp::socket socket, RequestCache& cache, Backend* backend, asio::io_context& io,
           asio::thread_pool& blocking, const ServerOptions& options)
      : stream_(std::move(socket)), cache_(cache), backend_(backend), io_(io), blocking_(blocking),
        options_(options) {
    parser_.header_limit(16 * 1024);
    parser_.body_limit(0);
  }

  void Run() {
    stream_.expires_after(kRequestTimeout);
    http::async_read_header(stream_, buffer_, parser_,
                            [self = shared_from_this()](beast::error_code error, size_t) {
                              if (!error) self->Route();
                            });
  }

 private:
  void Route() {
    const auto& request = parser_.get();
    if (request.method() != http::verb::get && request.method() != http::verb::post) {
      return Reply(http::status::method_not_allowed, "streaming URLs take GET (WebSocket) or POST (SPDY)\n");
    }
    // The query string is kubelet's copy of the user's: the cached request decides.
    std::string path(request.target());
    path = path.substr(0, path.find('?'));
    std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
    std::optional<Request> cached;
    if (parts.size() == 2) cached = cache_.Consume(parts[1]);
    const bool kind_matches =
        cached && ((parts[0] == "exec" && std::holds_alternative<ExecRequest>(*cached)) ||
                   (parts[0] == "attach" && std::holds_alternative<AttachRequest>(*cached)) ||
                   (parts[0] == "portforward" && std::holds_alternative<PortForwardRequest>(*cached)));
    if (!kind_matches) return Reply(http::status::not_found, "unknown, used or expired streaming URL\n");
    if (beast::websocket::is_upgrade(request)) {
      return Reply(http::status::not_implemented,
                   "berth serves streaming over SPDY/3.1; WebSocket is not supported yet\n");
    }
    if (!absl::EqualsIgnoreCase(std::string(request[http::field::upgrade]), "SPDY/3.1") ||
        !absl::StrContains(absl::AsciiStrToLower(std::string(request[http::field::connection])), "upgrade")) {
      return Reply(http::status::bad_request, "an Upgrade: SPDY/3.1 request is required\n");
    }
    std::vector<std::string> offered;
    auto [first, last] = request.equal_range("X-Stream-Protocol-Version");
    for (auto field = first; field != last; ++field) {
      for (absl::string_view value : absl::StrSplit(std::string(field->value()), ',', absl::SkipWhitespace())) {
        offered.emplace_back(absl::StripAsciiWhitespace(value));
      }
    }
    if (offered.empty()) return Reply(http::status::bad_request, "X-Stream-Protocol-Version is missing\n");
    std::vector<std::string> supported;
    if (!std::holds_alternative<PortForwardRequest>(*cached)) {
      supported.assign(std::begin(kRemoteCommandProtocols), std::end(kRemoteCommandProtocols));
    } else if (std::holds_alternative<PortForwardRequest>(*cached)) {
      supported = {kPortForwardProtocol};
    }
    // The client's order decides, as Kubernetes' own servers have it.
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
      refusal.body() = absl::StrCat("none of the offered protocol versions is supported\n");
      return Send(std::move(refusal));
    }
    auto response = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols, 11);
    response->set(http::field::connection, "Upgrade");
    response->set(http::field::upgrade, "SPDY/3.1");
    response->set("X-Stream-Protocol-Version", chosen);
    stream_.expires_never();
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response, chosen, cached = std::move(*cached)](
                          beast::error_code error, size_t) mutable {
                        if (!error) self->StartSession(std::move(cached), chosen);
                      });
  }

  void StartSession(Request request, const std::string& protocol) {
    // Bytes the client sent after its request head belong to SPDY.
    std::string early = beast::buffers_to_string(buffer_.data());
    auto connection = std::make_shared<spdy::Connection>(stream_.release_socket(), std::move(early),
                                                         options_.idle_timeout);
    if (auto* forward = std::get_if<PortForwardRequest>(&request)) {
      auto session = std::make_shared<PortForwardSession>(io_, blocking_, connection, std::move(*forward), backend_,
                                                          options_.timeouts);
      connection->Start(session);
      return;
    }
    ExecRequest streams;
    RemoteCommandSession::Starter start;
    if (auto* exec = std::get_if<ExecRequest>(&request)) {
      streams = *exec;
      start = [backend = backend_, exec = *exec] { return backend->Exec(exec); };
    } else {
      const auto& attach = std::get<AttachRequest>(request);
      streams = {.container_id = attach.container_id, .cmd = {}, .tty = attach.tty, .stdin = attach.stdin,
                 .stdout = attach.stdout, .stderr = attach.stderr};
      start = [backend = backend_, attach] { return backend->Attach(attach); };
    }
    auto session = std::make_shared<RemoteCommandSession>(io_, blocking_, connection, std::move(streams), protocol,
                                                          std::move(start), options_.timeouts);
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
    http::async_write(stream_, *owned, [self = shared_from_this(), owned](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  RequestCache& cache_;
  Backend* backend_;
  asio::io_context& io_;
  asio::thread_pool& blocking_;
  const ServerOptions& options_;
};

}  // namespace

Server::Server(const ServerOptions& options, Backend* backend)
    : options_(options), backend_(backend), acceptor_(io_) {}

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Backend* backend) {
  std::unique_ptr<Server> server(new Server(options, backend));
  boost::system::error_code error;
  auto address = asio::ip::make_address(options.address, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat("streaming address \"", options.address, "\": ", error.message()));
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
  server->base_url_ = absl::StrCat("http://", host, ":", bound.port());
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
      std::make_shared<Exchange>(std::move(socket), cache_, backend_, io_, blocking_, options_)->Run();
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
