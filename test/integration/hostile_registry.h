// A registry that misbehaves on purpose, for the pull robustness tests: an HTTP/1.1
// server on a loopback address, in the test's own process, serving manifests and
// blobs from memory. Each request goes to a handler the test sets, which writes the
// raw answer (or half of one, or nothing) and so can stall mid-body, close early,
// lie about lengths or digests, redirect anywhere; Serve is the well-behaved answer.
// One request per connection: every answer ends with the connection closed.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "test/integration/test_images.h"

namespace berth::testing {

class HostileRegistry {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // names lowercased
  };

  // One client connection, for a handler to answer on.
  class Connection {
   public:
    Connection(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd) {}
    // Writes bytes; false once the client is gone.
    bool Send(absl::string_view bytes);
    // Holds the connection open, sending nothing, until the client hangs up or the
    // registry stops.
    void StallUntilClosed();

   private:
    int fd_;
    int stop_fd_;
  };

  using Handler = std::function<void(const Request&, Connection&)>;

  // Listens on address (any of 127.0.0.0/8) at a free port.
  static StatusOr<std::unique_ptr<HostileRegistry>> Start(const std::string& address = "127.0.0.1");
  ~HostileRegistry();  // wakes stalled handlers, joins every thread
  HostileRegistry(const HostileRegistry&) = delete;
  HostileRegistry& operator=(const HostileRegistry&) = delete;

  // What Serve answers at path.
  void Put(const std::string& path, const std::string& content_type, const std::string& body);
  // The image's manifest (by tag and by digest), config and layers under repository.
  void PutImage(const std::string& repository, const std::string& tag, const Image& image);
  // Replaces the handler (Serve by default).
  void SetHandler(Handler handler);
  // The well-behaved answer: 200 with the content put at the path, 404 otherwise.
  void Serve(const Request& request, Connection& connection) const;

  std::string host_port() const;  // "127.0.0.1:PORT"
  std::vector<Request> requests() const;

  // A status line and headers, ready for a body.
  static std::string Head(int code, const std::vector<std::pair<std::string, std::string>>& headers);

 private:
  struct Content {
    std::string content_type;
    std::string body;
  };
  HostileRegistry() = default;
  void AcceptLoop();
  void Answer(UniqueFd fd);

  std::string address_;
  int port_ = 0;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;  // an eventfd, readable once the registry stops
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::map<std::string, Content> content_;
  Handler handler_;
  std::vector<Request> requests_;
  std::vector<std::thread> connections_;
};

}  // namespace berth::testing
