#include "test/integration/hostile_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::testing {
namespace {

// Longest request head read; registry clients send a few hundred bytes.
constexpr size_t kMaxHead = 64 << 10;

const char* Reason(int code) {
  switch (code) {
    case 200: return "OK";
    case 307: return "Temporary Redirect";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    default: return "Status";
  }
}

}  // namespace

bool HostileRegistry::Connection::Send(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void HostileRegistry::Connection::StallUntilClosed() {
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN | POLLRDHUP, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) return;
    if (fds[0].revents & POLLIN) {
      char buf[512];
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return;
    }
  }
}

StatusOr<std::unique_ptr<HostileRegistry>> HostileRegistry::Start(const std::string& address) {
  std::unique_ptr<HostileRegistry> registry(new HostileRegistry());
  registry->address_ = address;
  registry->listen_fd_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!registry->listen_fd_) return ErrnoError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError("not an IPv4 address: " + address);
  }
  if (::bind(registry->listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoError("bind " + address);
  }
  if (::listen(registry->listen_fd_.get(), 64) != 0) return ErrnoError("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(registry->listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return ErrnoError("getsockname");
  }
  registry->port_ = ntohs(addr.sin_port);
  registry->stop_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!registry->stop_fd_) return ErrnoError("eventfd");
  registry->handler_ = [r = registry.get()](const Request& request, Connection& connection) {
    r->Serve(request, connection);
  };
  registry->acceptor_ = std::thread([r = registry.get()] { r->AcceptLoop(); });
  return registry;
}

HostileRegistry::~HostileRegistry() {
  uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections.swap(connections_);
  }
  for (auto& thread : connections) thread.join();
}

void HostileRegistry::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (!(fds[0].revents & POLLIN)) continue;
    UniqueFd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace_back([this, fd = std::make_shared<UniqueFd>(std::move(client))]() mutable {
      Answer(std::move(*fd));
    });
  }
}

void HostileRegistry::Answer(UniqueFd fd) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxHead) {
    pollfd fds[2] = {{fd.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  Request request;
  std::vector<std::string> lines = absl::StrSplit(head.substr(0, head.find("\r\n\r\n")), "\r\n");
  if (lines.empty()) return;
  std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
  if (first.size() < 2) return;
  request.method = first[0];
  request.path = first[1];
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    handler = handler_;
  }
  Connection connection(fd.get(), stop_fd_.get());
  handler(request, connection);
  ::shutdown(fd.get(), SHUT_RDWR);
}

void HostileRegistry::Put(const std::string& path, const std::string& content_type, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  content_[path] = {content_type, body};
}

void HostileRegistry::PutImage(const std::string& repository, const std::string& tag, const Image& image) {
  const std::string base = "/v2/" + repository;
  Put(base + "/manifests/" + tag, image.manifest.media_type, image.manifest.data);
  Put(base + "/manifests/" + image.manifest.digest, image.manifest.media_type, image.manifest.data);
  Put(base + "/blobs/" + image.config.digest, "application/octet-stream", image.config.data);
  for (const auto& layer : image.layers) Put(base + "/blobs/" + layer.digest, "application/octet-stream", layer.data);
}

void HostileRegistry::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void HostileRegistry::Serve(const Request& request, Connection& connection) const {
  Content content;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = content_.find(request.path);
    if (it != content_.end()) {
      content = it->second;
      found = true;
    }
  }
  if (!found) {
    const std::string body = R"({"errors":[{"code":"NOT_FOUND","message":"not here"}]})";
    connection.Send(Head(404, {{"Content-Type", "application/json"}, {"Content-Length", std::to_string(body.size())}}) +
                    body);
    return;
  }
  connection.Send(Head(200, {{"Content-Type", content.content_type},
                             {"Content-Length", std::to_string(content.body.size())}}));
  if (request.method != "HEAD") connection.Send(content.body);
}

std::string HostileRegistry::host_port() const { return absl::StrCat(address_, ":", port_); }

std::vector<HostileRegistry::Request> HostileRegistry::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string HostileRegistry::Head(int code, const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string head = absl::StrCat("HTTP/1.1 ", code, " ", Reason(code), "\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&head, name, ": ", value, "\r\n");
  head += "Connection: close\r\n\r\n";
  return head;
}

}  // namespace berth::testing
