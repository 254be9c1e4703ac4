// The transports over real connections: TCP, TLS over TCP, WebSocket over either,
// and a byte stream tunnelled through a WebSocket's binary messages.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "streaming/transport.h"

namespace berth::streaming {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using UpgradeRequest = boost::beast::http::request<boost::beast::http::empty_body>;

std::shared_ptr<ByteTransport> TcpTransport(boost::beast::tcp_stream stream);
std::shared_ptr<ByteTransport> TlsTransport(TlsStream stream);

// Completes the WebSocket handshake for request on stream, answering with protocol
// (the subprotocol chosen; "" for none), and hands over the connection as messages.
using WebSocketAccepted = std::function<void(const boost::system::error_code& error,
                                             std::shared_ptr<MessageTransport> messages)>;
void AcceptWebSocket(boost::beast::tcp_stream stream, const UpgradeRequest& request, const std::string& protocol,
                     WebSocketAccepted done);
void AcceptWebSocket(TlsStream stream, const UpgradeRequest& request, const std::string& protocol,
                     WebSocketAccepted done);

// The bytes carried in messages' binary messages, in order (message boundaries
// mean nothing); a text message is a protocol error.
std::shared_ptr<ByteTransport> TunnelTransport(std::shared_ptr<MessageTransport> messages);

}  // namespace berth::streaming
