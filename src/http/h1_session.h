// One HTTP/1.1 client connection (RFC 9112): the TLS handshake, then requests one after another
// (keep-alive, pipelining): the head read within its limits and deadline, turned into a plain
// message::HttpRequest, the Handler asked, its Decision carried out, the answer written through an
// H1Writer. Trusts nothing the client sends.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/server_context.h"
#include "observability/metrics.h"

namespace mgw::http {

// The head of a request in progress is read into a buffer of this size at most, until the head
// outgrows it (nginx's client_header_buffer_size): a slow client costs little memory.
inline constexpr std::size_t kHeadBufferBytes = 10 * 1024;
// An idle keep-alive connection waits for the next request with this much (most heads fit).
inline constexpr std::size_t kIdleReadBytes = 1024;

// How much to read next while a head is incomplete: `buffered` bytes of it so far, at most `room`
// more allowed (maxHeaderBytes).
std::size_t headReadStep(bool started, std::size_t buffered, std::size_t room);

// Serves the connection until it closes; the caller counts it.
asio::awaitable<void> h1Session(ServerContext& ctx, IoThread& t, asio::ip::tcp::socket socket,
                                observability::Listener listener);

}  // namespace mgw::http
