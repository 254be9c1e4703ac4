// A port-forward session over SPDY (portforward.k8s.io): for each connection the
// client accepts locally it opens a pair of streams, error and data, naming the
// port and a request id; once both are there berth dials the port on the pod's
// loopback and pumps bytes both ways, half-closes included. The error stream
// carries a message only when the forward fails (a dial refused, a pod gone):
// kubectl ends the whole session on any byte there, so a pod that resets its side
// resets the data stream and nothing more.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <map>
#include <memory>
#include <string>

#include <boost/asio.hpp>

#include "streaming/session_metrics.h"
#include "streaming/backend.h"
#include "streaming/remote_command_session.h"
#include "streaming/stream_connection.h"

namespace berth::streaming {

inline constexpr char kPortForwardProtocol[] = "portforward.k8s.io";

class PortForwardSession : public StreamConnection::Session,
                           public std::enable_shared_from_this<PortForwardSession> {
 public:
  PortForwardSession(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
                     std::shared_ptr<StreamConnection> connection, PortForwardRequest request, Backend* backend,
                     SessionTimeouts timeouts);
  ~PortForwardSession() override;

  bool OnStream(uint32_t id, const Headers& headers) override;
  void OnData(uint32_t id, std::string data) override;
  void OnFin(uint32_t id) override;
  void OnReset(uint32_t id) override;
  void OnWritable() override;
  void OnClosed() override;

 private:
  // One forwarded connection: its two streams and the socket into the pod.
  struct Pair {
    std::string request_id;
    int32_t port = 0;
    uint32_t error_stream = 0;
    uint32_t data_stream = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;  // for the second stream
    std::unique_ptr<boost::asio::ip::tcp::socket> pod;
    std::string to_pod;  // from the client, not yet written
    bool writing = false;
    bool client_fin = false;
    bool shut_down = false;  // the pod was told the client's side ended
    bool reading = false;
    bool pod_eof = false;
    bool done = false;
    char buffer[32 * 1024];
  };

  void Dial(const std::shared_ptr<Pair>& pair);
  void OnDialed(const std::shared_ptr<Pair>& pair, StatusOr<UniqueFd> dialed);
  void PumpToPod(const std::shared_ptr<Pair>& pair);
  void ReadFromPod(const std::shared_ptr<Pair>& pair);
  void Fail(const std::shared_ptr<Pair>& pair, const std::string& message);
  // The pod reset or closed its side mid-write: this connection ends, the session
  // goes on.
  void EndQuietly(const std::shared_ptr<Pair>& pair);
  void MaybeDone(const std::shared_ptr<Pair>& pair);
  void Forget(const std::shared_ptr<Pair>& pair);
  size_t BufferedToPods() const;

  boost::asio::io_context& io_;
  boost::asio::thread_pool& blocking_;
  std::shared_ptr<StreamConnection> connection_;
  const PortForwardRequest request_;
  Backend* const backend_;
  const SessionTimeouts timeouts_;
  bool closed_ = false;
  std::map<std::string, std::shared_ptr<Pair>> pairs_;      // by request id
  std::map<uint32_t, std::shared_ptr<Pair>> by_stream_;     // by either stream
  SessionCount counted_{"port_forward"};
};

}  // namespace berth::streaming
