#include "http/h1_session.h"

#include <algorithm>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "common/log.h"
#include "http/dispatch.h"
#include "http/h1_writer.h"
#include "http/h2_session.h"
#include "http/relay.h"
#include "http/tls.h"
#include "http/wire.h"
#include "message/fault_reply.h"

namespace mgw::http {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using message::Decision;
using message::Outcome;
using std::chrono::seconds;

constexpr std::size_t kMaxDiscardBytes = 64 * 1024;  // a refused request's body read to keep alive

std::string peerAddress(const tcp::socket& socket) {
  error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "";
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

// Lingering close (nginx's lingering_close, lingering_time, lingering_timeout): after the last
// answer the gateway stops sending, then reads and drops what the client still sends, so the
// kernel does not reset the connection (and discard the answer in the client's receive buffer)
// while a client that reads only after sending its whole body is still sending. Bounded by time
// (kLingeringTime in all, kLingeringTimeout between reads; nginx: 30 s and 5 s) and bytes.
constexpr seconds kLingeringTime{5};
constexpr seconds kLingeringTimeout{2};
constexpr std::uint64_t kLingeringBytes = 64ull * 1024 * 1024;

// `pendingBody`: the last request's body was not read (an answer refused it): over TLS no
// close_notify is sent (the TLS shutdown would have to read, and decrypt, that body first); the
// answer carries its length. Otherwise a TLS connection gets its close_notify, within a second.
awaitable<void> closeGracefully(Connection& conn, bool quiet, bool pendingBody) {
  error_code ec;
  if (conn.tls && !quiet && !pendingBody) {
    conn.expiresAfter(seconds(1));
    co_await conn.tls->async_shutdown(kAwait);
  }
  conn.lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  if (!quiet) {
    const auto deadline = std::chrono::steady_clock::now() + kLingeringTime;
    std::uint64_t discarded = 0;
    auto sink = std::make_unique_for_overwrite<char[]>(16384);
    while (discarded < kLingeringBytes) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      conn.lowest().expires_after(
          std::min<std::chrono::steady_clock::duration>(kLingeringTimeout, left));
      auto [rec, n] =
          co_await conn.lowest().async_read_some(asio::buffer(sink.get(), 16384), kAwait);
      if (rec) break;
      discarded += n;
    }
  }
  conn.close();
}

// One request on a connection: what exchange() needs besides the buffers.
struct Exchange {
  ServerContext& ctx;
  IoThread& t;
  message::Handler& handler;
  Connection& conn;
  InputBuffer& in;
  H1Writer& writer;
  const std::string& peer;
  bool tls;
  bool gateway;  // on the HTTP or HTTPS listener
  int served;
  bool* pendingBody;  // out: the request's body (or what follows a bad head) was left unread
};

// A whole request body into *body (at most maxBytes); 100 Continue first when the client waits
// for it.
awaitable<Failure> readBody(const ServerOptions& options, Connection& conn, InputBuffer& in,
                            DownstreamWriter& writer, const RequestHead& head, std::size_t maxBytes,
                            std::string* body) {
  if (head.framing == Framing::kNone) co_return Failure::kNone;
  if (head.framing == Framing::kLength && head.contentLength > maxBytes)
    co_return Failure::kPayloadTooLarge;
  if (head.expectContinue) {
    const int status = 100;
    const std::string_view reason = "Continue";
    const std::span<const FieldView> none;
    if (co_await writer.writeInterim(status, reason, none)) co_return Failure::kRequestTimeout;
  }
  ChunkedDecoder decoder(maxBytes);
  for (;;) {
    if (head.framing == Framing::kLength) {
      const std::size_t want = head.contentLength - body->size();
      const std::size_t take = std::min(want, in.size());
      body->append(in.view().substr(0, take));
      in.consume(take);
      if (body->size() == head.contentLength) co_return Failure::kNone;
    } else {
      WireError error;
      const std::size_t used = decoder.feed(in.view(), body, &error);
      in.consume(used);
      if (error) co_return error.failure;
      if (decoder.done()) co_return Failure::kNone;
    }
    conn.expiresAfter(seconds(options.bodyTimeoutSeconds));
    if (co_await in.readMore(conn)) co_return Failure::kRequestTimeout;
  }
}

// The body of a request answered without it: read and dropped when small, so the connection
// can serve the next request; otherwise the connection closes after the answer.
awaitable<bool> discardBody(const ServerOptions& options, Connection& conn, InputBuffer& in,
                            DownstreamWriter& writer, const RequestHead& head) {
  if (head.framing == Framing::kNone) co_return true;
  if (head.framing == Framing::kLength && head.contentLength > kMaxDiscardBytes) co_return false;
  if (head.expectContinue) co_return false;  // the client has not sent it: do not ask for it
  std::string sink;
  const std::size_t limit = kMaxDiscardBytes;
  const Failure f = co_await readBody(options, conn, in, writer, head, limit, &sink);
  co_return f == Failure::kNone;
}

// Reads one request, answers it. Returns whether the connection may serve another.
awaitable<bool> exchange(Exchange x) {
  const ServerOptions& options = x.ctx.options;
  Connection& conn = x.conn;
  InputBuffer& in = x.in;
  const std::uint64_t consumedBefore = in.consumedTotal;
  const std::uint64_t writtenBefore = conn.written;
  // 1. The head: idle wait up to keepAliveTimeoutSeconds for its first byte (the first
  // request gets headerTimeoutSeconds), then headerTimeoutSeconds for the whole head.
  std::size_t scanned = 0;
  WireError error;
  std::size_t headSize = findHeadEnd(in.view(), options.maxHeaderBytes, &scanned, &error);
  bool started = !in.empty();
  if (started) conn.expiresAfter(seconds(options.headerTimeoutSeconds));
  while (headSize == 0 && !error) {
    if (!started) {
      conn.expiresAfter(
          seconds(x.served == 0 ? options.headerTimeoutSeconds : options.keepAliveTimeoutSeconds));
      in.release();
      x.t.markIdle(&conn, x.gateway);
    }
    const std::size_t room =
        options.maxHeaderBytes + 2 - std::min(in.size(), options.maxHeaderBytes);
    const std::size_t step = headReadStep(started, in.size(), room);
    const error_code ec = co_await in.readMore(conn, step);
    x.t.markBusy(&conn);
    if (ec) {
      // Nothing of a request yet: a quiet close. Part of a head: 408, then close.
      if (started && ec == beast::error::timeout && x.served == 0) {
        const auto timeoutReply = message::faultReply(
            Failure::kRequestTimeout,
            "the request head did not arrive within [listenerConfig] headerTimeoutSeconds");
        x.writer.begin(false, false);
        const bool keepAlive = false;
        co_await writeReply(x.writer, timeoutReply, keepAlive);
      }
      conn.close();
      co_return false;
    }
    if (!started) {
      started = true;
      conn.expiresAfter(seconds(options.headerTimeoutSeconds));
    }
    headSize = findHeadEnd(in.view(), options.maxHeaderBytes, &scanned, &error);
  }
  message::HttpRequest request;
  request.clientAddress = x.peer;
  request.tls = x.tls;
  request.clientCertSubject = x.conn.clientCertSubject;
  request.clientCertSha256 = x.conn.clientCertSha256;
  Outcome outcome;
  RequestHead head;
  if (!error)
    error = parseRequestHead(in.view().substr(0, headSize),
                             RequestLimits{options.maxHeaderCount, options.maxRequestBytes}, &head);
  if (error) {
    // A framing error: answer and close; nothing after it is read as a request.
    log::warn("request refused", {{"client", x.peer},
                                  {"reason", failureName(error.failure)},
                                  {"detail", error.description}});
    const auto refusal = message::faultReply(error.failure, error.description);
    x.writer.begin(false, false);
    const bool keepAlive = false;
    *x.pendingBody = true;  // the client may still be sending what it framed (a 413's body)
    co_await writeReply(x.writer, refusal, keepAlive);
    co_return false;
  }
  in.consume(headSize);
  const bool headRequest = head.method == "HEAD";
  H1Writer& writer = x.writer;
  writer.begin(head.versionMinor == 0, headRequest);
  request.method = head.method;
  request.target = head.target;
  request.headers = std::move(head.fields);  // lent back to the head for the relay
  request.hasBody = head.hasBody();
  bool keepAlive = head.keepAlive && !x.ctx.draining;

  Decision decision;
  if (std::string why = message::parseTarget(head.target, &request); !why.empty()) {
    decision = Decision::reply(message::faultReply(Failure::kBadFraming, why));
    keepAlive = false;
  } else {
    decision = x.handler.decide(request);
  }
  // A deferred decision settles first (no coroutine frame for the common, immediate one).
  if (std::holds_alternative<message::Defer>(decision.action))
    co_await settle(x.ctx, x.t, &decision);

  bool bodyRead = head.framing == Framing::kNone;
  if (auto* reply = std::get_if<message::Reply>(&decision.action)) {
    if (keepAlive) keepAlive = co_await discardBody(options, conn, in, writer, head);
    bodyRead = bodyRead || keepAlive;
    outcome.status = reply->response.status;
    if (co_await writeReply(writer, reply->response, keepAlive)) keepAlive = false;
  } else if (auto* local = std::get_if<message::Local>(&decision.action)) {
    message::HttpResponse answer;
    const std::size_t maxBody = local->maxBodyBytes;
    Failure bodyFailure =
        co_await readBody(options, conn, in, writer, head, maxBody, &request.body);
    bodyRead = bodyFailure == Failure::kNone;
    if (bodyFailure != Failure::kNone) {
      keepAlive = false;
      if (bodyFailure == Failure::kRequestTimeout) {
        conn.close();
        outcome.failure = bodyFailure;
      } else {
        answer = message::faultReply(
            bodyFailure, bodyFailure == Failure::kPayloadTooLarge
                             ? "the request body exceeds " + std::to_string(maxBody) + " bytes"
                             : "the request body is not valid chunked encoding");
      }
    } else if (local->blocking) {
      // Runs on the worker pool; the coroutine resumes on this I/O thread afterwards.
      answer = co_await runLocalOnWorkers(x.ctx, *local, request);
    } else {
      answer = runLocal(*local, request);
    }
    if (outcome.failure != Failure::kRequestTimeout) {
      outcome.status = answer.status;
      if (co_await writeReply(writer, answer, keepAlive)) keepAlive = false;
    }
  } else if (auto* forward = std::get_if<message::Forward>(&decision.action)) {
    H1RequestBody body(conn, in, head, options.maxRequestBytes, seconds(options.bodyTimeoutSeconds),
                       options.minBodyBytesPerSecond);
    FieldsLentToHead lent(request.headers, head);
    keepAlive = co_await relay(x.ctx, x.t, writer, head, body, *forward->plan, keepAlive, &outcome);
    // A backend or body failure may come before the whole body was read.
    bodyRead = bodyRead || outcome.failure == Failure::kNone;
  }
  if (!keepAlive && !bodyRead) *x.pendingBody = true;
  if (decision.done) {
    outcome.bytesIn = in.consumedTotal - consumedBefore;
    outcome.bytesOut = conn.written - writtenBefore;
    decision.done(request, outcome);
  }
  co_return keepAlive;
}

}  // namespace

std::size_t headReadStep(bool started, std::size_t buffered, std::size_t room) {
  std::size_t step = 16384;  // a head larger than the head buffer
  if (!started)
    step = kIdleReadBytes;
  else if (buffered + kIdleReadBytes <= kHeadBufferBytes)
    step = kHeadBufferBytes - buffered;
  return std::min(room, step);
}

awaitable<void> h1Session(ServerContext& ctx, IoThread& t, tcp::socket socket,
                          observability::Listener listener) {
  const bool tls = listener == observability::Listener::kHttps;
  message::Handler& handler =
      listener == observability::Listener::kMetrics ? *ctx.options.metricsHandler : ctx.handler;
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const std::string peer = peerAddress(socket);
  Connection conn;
  if (tls) {
    conn.tls = std::make_unique<asio::ssl::stream<beast::tcp_stream>>(
        beast::tcp_stream(std::move(socket)), ctx.serverTls);
    conn.expiresAfter(seconds(ctx.options.headerTimeoutSeconds));
    auto [ec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::server, kAwait);
    if (ec) {
      // A client certificate refused (mutual TLS): said, with the certificate it names.
      const RefusedCertificate refused = refusedCertificate(conn.tls->native_handle());
      if (!refused.reason.empty())
        log::warn("client certificate refused", {{"client", peer},
                                                 {"subject", refused.subject},
                                                 {"issuer", refused.issuer},
                                                 {"reason", refused.reason}});
      conn.close();
      co_return;
    }
    PeerCertificate client = verifiedPeerCertificate(conn.tls->native_handle());
    conn.clientCertSubject = std::move(client.subject);
    conn.clientCertSha256 = std::move(client.sha256);
  } else {
    conn.plain = std::make_unique<beast::tcp_stream>(std::move(socket));
  }

  InputBuffer in;
  if (tls) {
    // ALPN chose h2 (the TLS context offers it before http/1.1).
    const unsigned char* alpn = nullptr;
    unsigned int alpnLength = 0;
    SSL_get0_alpn_selected(conn.tls->native_handle(), &alpn, &alpnLength);
    if (alpnLength == 2 && std::memcmp(alpn, "h2", 2) == 0) {
      co_await h2Session(ctx, t, conn, in, peer, tls, handler);
      co_return;
    }
  } else if (listener == observability::Listener::kHttp && ctx.options.http2.cleartext) {
    // h2c with prior knowledge (RFC 9113 section 3.3): the connection opens with the preface.
    // An HTTP/1.1 request line differs from it by its first bytes.
    PrefaceMatch match = PrefaceMatch::kMore;
    conn.expiresAfter(seconds(ctx.options.headerTimeoutSeconds));
    while (match == PrefaceMatch::kMore) {
      t.markIdle(&conn, true);
      const error_code ec = co_await in.readMore(conn, kIdleReadBytes);
      t.markBusy(&conn);
      if (ec) {
        conn.close();  // nothing of a request: a quiet close
        co_return;
      }
      match = matchPreface(in.view());
    }
    if (match == PrefaceMatch::kHttp2) {
      co_await h2Session(ctx, t, conn, in, peer, tls, handler);
      co_return;
    }
  }
  H1Writer writer(conn, seconds(ctx.options.writeTimeoutSeconds));
  // RFC 6797 section 7.2: sent over secure transport only, never on the plain listener.
  if (tls && ctx.options.hstsMaxAge > 0)
    writer.setOwnedField("Strict-Transport-Security", ctx.options.hstsValue());
  int served = 0;
  bool keepAlive = true;
  bool pendingBody = false;
  const bool gateway = listener != observability::Listener::kMetrics;
  while (keepAlive && !ctx.draining) {
    const Exchange x{ctx, t, handler, conn, in, writer, peer, tls, gateway, served, &pendingBody};
    keepAlive = co_await exchange(x);
    ++served;
    if (served >= ctx.options.keepAliveMaxRequests) keepAlive = false;
  }
  co_await closeGracefully(conn, keepAlive, pendingBody);
}

}  // namespace mgw::http
