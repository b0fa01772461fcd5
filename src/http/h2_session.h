// HTTP/2 to clients (RFC 9113) with libnghttp2: one session per connection (TLS with ALPN h2, or
// cleartext with prior knowledge), each stream turned into the same message::HttpRequest, asked
// of the same Handler, its Decision carried out as for HTTP/1.1 (the relay writes through an
// H2 stream's DownstreamWriter and reads an H2 stream's RequestBody). Streams run concurrently,
// each a coroutine on the connection's I/O thread. Trusts nothing the client sends: a malformed
// request is a stream error PROTOCOL_ERROR (RFC 9113 section 8.1.1), the connection's cost is
// bounded by [listenerConfig] http2* (windows, streams, resets, control frames, CONTINUATION).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "http/connection.h"
#include "http/server_context.h"
#include "http/wire.h"
#include "message/handler.h"

namespace mgw::http {

// RFC 9113 section 3.4: what a client sends first.
inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class PrefaceMatch { kMore, kHttp2, kHttp1 };

// Whether the first bytes of a cleartext connection are the HTTP/2 preface (kMore: a prefix of
// it so far).
PrefaceMatch matchPreface(std::string_view first);

// A request's decoded fields (pseudo-header fields first, as received; names as received) checked
// against RFC 9113 section 8.2-8.3 and turned into the head the gateway and the relay read:
// method, target (:path), Host (from :authority), the other fields (cookie fields joined,
// section 8.2.3), and the framing (content-length, else a body unless `endStream`). Returns "" or
// why the request is malformed (a stream error of type PROTOCOL_ERROR).
std::string h2RequestHead(message::HeaderMap fields, bool endStream, RequestHead* head);

// Serves an HTTP/2 connection until it closes: `in` holds what was read of it already (the
// preface, or part of it). Waits for every stream's work before it returns.
asio::awaitable<void> h2Session(ServerContext& ctx, IoThread& t, Connection& conn, InputBuffer& in,
                                const std::string& peer, bool tls, message::Handler& handler);

// Graceful shutdown: GOAWAY (NO_ERROR) on every HTTP/2 connection of the thread; streams in
// flight finish. Called on the connection's thread.
void drainHttp2(IoThread& t);

}  // namespace mgw::http
