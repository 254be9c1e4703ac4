// What carries a streaming session's bytes, apart from what the bytes mean: a TCP
// socket, TLS over one, or a WebSocket. Sessions and the SPDY connection are
// written against these two small interfaces, so that one implementation of each
// protocol serves plain and TLS connections alike, and SPDY can also run tunnelled
// through WebSocket messages (kubectl port-forward's SPDY/3.1+portforward.k8s.io).
//
// Both are used from one thread (the server's I/O thread), with at most one read
// and one write in flight; their handlers run on that thread too.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace berth::streaming {

// An ordered stream of bytes both ways.
class ByteTransport {
 public:
  using Handler = std::function<void(const boost::system::error_code& error, size_t bytes)>;
  virtual ~ByteTransport() = default;

  // Reads at least one byte (an error at the end of the stream).
  virtual void ReadSome(boost::asio::mutable_buffer into, Handler done) = 0;
  // Writes all of from.
  virtual void Write(boost::asio::const_buffer from, Handler done) = 0;
  // Ends the connection, orderly where the transport has an order (TLS's
  // close_notify, WebSocket's close handshake) but never waiting long on the peer.
  // Operations in flight end with an error. Calling it again does nothing.
  virtual void Close() = 0;
};

// Whole messages both ways, each text or binary (a WebSocket).
class MessageTransport {
 public:
  using ReadHandler = std::function<void(const boost::system::error_code& error, std::string message, bool text)>;
  using WriteHandler = std::function<void(const boost::system::error_code& error)>;
  virtual ~MessageTransport() = default;

  virtual void Read(ReadHandler done) = 0;
  virtual void Write(std::string message, bool text, WriteHandler done) = 0;
  // Control messages the peer sent (WebSocket pings): traffic, though no message.
  virtual void OnControl(std::function<void()> seen) = 0;
  // As ByteTransport::Close: a normal close, then the socket closes.
  virtual void Close() = 0;
};

}  // namespace berth::streaming
