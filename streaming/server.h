// The CRI streaming server: the HTTP/1.1 endpoint (or HTTPS) whose URLs Exec, Attach
// and PortForward return. A URL names a request kept under a one-time token; the
// client (kubelet, crictl, critest, kubectl through them) connects to it and
// upgrades the connection to SPDY/3.1 or to a WebSocket, on which the session runs.
// One I/O thread serves every connection; what may block (starting a process in a
// container, dialling into a pod) runs on a small pool beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>

#include "base/status.h"
#include "streaming/backend.h"
#include "streaming/remote_command_session.h"
#include "streaming/request_cache.h"

namespace berth::streaming {

// TLS for the streaming server: a certificate and its key (PEM), and when
// client_ca_file is set, clients must present a certificate that CA signed.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
};

struct ServerOptions {
  // Loopback by default, as containerd has it: kubelet, on the same node, proxies
  // every client's connection here.
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: one the kernel picks
  std::optional<TlsFiles> tls;  // none: plain HTTP
  // A connection with no frame either way for this long is closed (PINGs count).
  std::chrono::seconds idle_timeout{4 * 3600};
  SessionTimeouts timeouts;
};

class Server {
 public:
  static StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options, Backend* backend);
  // Stops accepting, ends every session (and its processes) and joins the threads.
  ~Server();

  // The full URL for request: http://ADDRESS:PORT/exec/TOKEN (attach, portforward;
  // https with TLS).
  // RESOURCE_EXHAUSTED when too many wait for their clients.
  StatusOr<std::string> Url(Request request);
  const std::string& base_url() const { return base_url_; }

 private:
  Server(const ServerOptions& options, Backend* backend);
  void Accept();

  const ServerOptions options_;
  Backend* const backend_;
  boost::asio::io_context io_;
  boost::asio::thread_pool blocking_{2};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  RequestCache cache_;
  std::string base_url_;
  std::thread thread_;
};

}  // namespace berth::streaming
