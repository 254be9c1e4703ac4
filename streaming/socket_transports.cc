#include "streaming/socket_transports.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace berth::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

// A WebSocket message larger than this ends the connection: far above what
// Kubernetes' clients send (32 KiB of stdin at a time), far below what would hurt.
constexpr size_t kMaxMessage = 16 << 20;
// How long a WebSocket handshake, or a closing one, may take.
constexpr std::chrono::seconds kHandshakeTimeout{30};
constexpr std::chrono::seconds kCloseTimeout{5};

void CloseSocket(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

// Bytes over a stream, plain or TLS. TLS ends without close_notify: the peer may be
// mid-read, and asio cannot run a TLS shutdown beside a read; Kubernetes' clients
// take a TCP end on a record boundary as the end of the stream.
template <class Stream>
class StreamBytes : public ByteTransport, public std::enable_shared_from_this<StreamBytes<Stream>> {
 public:
  explicit StreamBytes(Stream stream) : stream_(std::move(stream)) {}

  void ReadSome(asio::mutable_buffer into, Handler done) override {
    stream_.async_read_some(into, [self = this->shared_from_this(), done = std::move(done)](
                                      const boost::system::error_code& error, size_t bytes) { done(error, bytes); });
  }

  void Write(asio::const_buffer from, Handler done) override {
    asio::async_write(stream_, from,
                      [self = this->shared_from_this(), done = std::move(done)](
                          const boost::system::error_code& error, size_t bytes) { done(error, bytes); });
  }

  void Close() override { CloseSocket(beast::get_lowest_layer(stream_)); }

 private:
  Stream stream_;
};

template <class Next>
class WebSocketMessages : public MessageTransport, public std::enable_shared_from_this<WebSocketMessages<Next>> {
 public:
  explicit WebSocketMessages(std::shared_ptr<websocket::stream<Next>> socket) : socket_(std::move(socket)) {}

  void Read(ReadHandler done) override {
    socket_->async_read(buffer_, [self = this->shared_from_this(), done = std::move(done)](
                                     const boost::system::error_code& error, size_t) {
      std::string message = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      done(error, std::move(message), self->socket_->got_text());
    });
  }

  void Write(std::string message, bool text, WriteHandler done) override {
    auto owned = std::make_shared<std::string>(std::move(message));
    socket_->text(text);
    socket_->async_write(asio::buffer(*owned), [self = this->shared_from_this(), owned, done = std::move(done)](
                                                   const boost::system::error_code& error, size_t) { done(error); });
  }

  void OnControl(std::function<void()> seen) override {
    socket_->control_callback([seen = std::move(seen)](websocket::frame_type, beast::string_view) { seen(); });
  }

  void Close() override {
    if (closing_) return;
    closing_ = true;
    if (!socket_->is_open()) return CloseSocket(beast::get_lowest_layer(*socket_));
    websocket::stream_base::timeout timeouts{kCloseTimeout, websocket::stream_base::none(), false};
    socket_->set_option(timeouts);
    socket_->async_close(websocket::close_code::normal, [self = this->shared_from_this()](
                                                            const boost::system::error_code&) {
      CloseSocket(beast::get_lowest_layer(*self->socket_));
    });
  }

 private:
  std::shared_ptr<websocket::stream<Next>> socket_;
  beast::flat_buffer buffer_;
  bool closing_ = false;
};

template <class Next>
void Accept(Next stream, const UpgradeRequest& request, const std::string& protocol, WebSocketAccepted done) {
  beast::get_lowest_layer(stream).expires_never();
  auto socket = std::make_shared<websocket::stream<Next>>(std::move(stream));
  // Idle connections are the server's business (its own timer), not Beast's.
  socket->set_option(websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
  socket->set_option(websocket::stream_base::decorator([protocol](websocket::response_type& response) {
    if (!protocol.empty()) response.set(beast::http::field::sec_websocket_protocol, protocol);
  }));
  socket->read_message_max(kMaxMessage);
  socket->binary(true);
  socket->async_accept(request, [socket, done = std::move(done)](const boost::system::error_code& error) {
    if (error) return done(error, nullptr);
    done(error, std::make_shared<WebSocketMessages<Next>>(socket));
  });
}

class TunnelBytes : public ByteTransport, public std::enable_shared_from_this<TunnelBytes> {
 public:
  explicit TunnelBytes(std::shared_ptr<MessageTransport> messages) : messages_(std::move(messages)) {}

  void ReadSome(asio::mutable_buffer into, Handler done) override {
    if (offset_ < pending_.size()) {
      size_t bytes = asio::buffer_copy(into, asio::buffer(pending_) + offset_);
      offset_ += bytes;
      return done({}, bytes);
    }
    messages_->Read([self = shared_from_this(), into, done = std::move(done)](
                        const boost::system::error_code& error, std::string message, bool text) mutable {
      if (error) return done(error, 0);
      if (text) return done(asio::error::make_error_code(asio::error::invalid_argument), 0);
      self->pending_ = std::move(message);
      self->offset_ = 0;
      self->ReadSome(into, std::move(done));  // an empty message: the next one
    });
  }

  void Write(asio::const_buffer from, Handler done) override {
    const size_t size = from.size();
    messages_->Write(std::string(static_cast<const char*>(from.data()), size), /*text=*/false,
                     [done = std::move(done), size](const boost::system::error_code& error) {
                       done(error, error ? 0 : size);
                     });
  }

  void Close() override { messages_->Close(); }

 private:
  std::shared_ptr<MessageTransport> messages_;
  std::string pending_;
  size_t offset_ = 0;
};

}  // namespace

std::shared_ptr<ByteTransport> TcpTransport(beast::tcp_stream stream) {
  stream.expires_never();
  return std::make_shared<StreamBytes<beast::tcp_stream>>(std::move(stream));
}

std::shared_ptr<ByteTransport> TlsTransport(TlsStream stream) {
  beast::get_lowest_layer(stream).expires_never();
  return std::make_shared<StreamBytes<TlsStream>>(std::move(stream));
}

void AcceptWebSocket(beast::tcp_stream stream, const UpgradeRequest& request, const std::string& protocol,
                     WebSocketAccepted done) {
  Accept(std::move(stream), request, protocol, std::move(done));
}

void AcceptWebSocket(TlsStream stream, const UpgradeRequest& request, const std::string& protocol,
                     WebSocketAccepted done) {
  Accept(std::move(stream), request, protocol, std::move(done));
}

std::shared_ptr<ByteTransport> TunnelTransport(std::shared_ptr<MessageTransport> messages) {
  return std::make_shared<TunnelBytes>(std::move(messages));
}

}  // namespace berth::streaming
