#include "http/relay.h"

#include <array>
#include <chrono>
#include <cstdio>

#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "http/body_validation.h"
#include "http/buffered_body.h"
#include "http/h2_relay.h"
#include "http/upstream_client.h"
#include "message/fault_reply.h"
#include "message/hop_by_hop.h"
#include "observability/metrics.h"

namespace mgw::http {
namespace {

using message::Outcome;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr std::size_t kMaxResponseHeadBytes = 65536;
constexpr std::size_t kChunk = 65536;  // relay buffer: bounded memory per exchange
// How long an exchange waits for a slot of a backend at maxConnectionsPerBackend before 503.
constexpr std::chrono::seconds kBackendSlotWait{1};

std::string hex(std::uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(n));
  return buf;
}

// How much to read of a body: what is left of a Content-Length body (a small answer does not
// take a 64 KiB buffer; bytes past it are the pool's MSG_PEEK check's business), else kChunk.
std::size_t readStep(Framing framing, std::uint64_t remaining) {
  if (framing == Framing::kLength && remaining > 0 && remaining < kChunk)
    return static_cast<std::size_t>(remaining);
  return kChunk;
}

BodyKind bodyKind(Framing framing) {
  switch (framing) {
    case Framing::kNone:
      return BodyKind::kNone;
    case Framing::kLength:
      return BodyKind::kLength;
    case Framing::kChunked:
      return BodyKind::kStreamed;
    case Framing::kUntilClose:
      return BodyKind::kUntilClose;
  }
  return BodyKind::kUntilClose;
}

// The client's body broke a limit or stalled (before any answer byte): 413, 400 or 408, then close.
asio::awaitable<bool> refuseBody(DownstreamWriter& writer, const message::ForwardPlan& plan,
                                 Outcome* outcome, Failure failure) {
  std::string description;
  if (failure == Failure::kPayloadTooLarge)
    description = "the request body exceeds [listenerConfig] maxRequestBytes";
  else if (failure == Failure::kRequestTimeout)
    description =
        "the request body stalled: no bytes within [listenerConfig] bodyTimeoutSeconds, or "
        "fewer than minBodyBytesPerSecond on average";
  else
    description = "the request body is not valid chunked encoding";
  std::string reason = "client body refused: " + std::string(failureName(failure));
  co_return co_await failExchange(writer, plan, outcome, failure, description, reason);
}

// A slot among a backend origin's maxConnectionsPerBackend, held for the exchange.
struct BackendSlot {
  SlotTable& table;
  std::string origin;
  bool held = false;
  // Waits up to kBackendSlotWait for a slot; false when none came free.
  asio::awaitable<bool> take(IoThread& t, int cap) {
    const auto deadline = steady_clock::now() + kBackendSlotWait;
    while (!table.take(origin, cap)) {
      if (steady_clock::now() >= deadline) co_return false;
      asio::steady_timer timer(t.io, std::chrono::milliseconds(10));
      co_await timer.async_wait(kAwait);
    }
    held = true;
    co_return true;
  }
  ~BackendSlot() {
    if (held) table.give(origin);
  }
};

// Streams the rest of the request body to the backend (after `first`, sent with the head):
// Content-Length bytes as they come, or chunked re-framed by us.
asio::awaitable<Failure> sendBody(RequestBody& body, BodyPiece first, Connection& up,
                                  seconds upTimeout, error_code* upError) {
  if (body.framing() == Framing::kNone || first.last) co_return Failure::kNone;
  const bool chunked = body.framing() != Framing::kLength;
  std::string framed;
  for (;;) {
    const BodyPiece piece = co_await body.next();
    if (piece.failure != Failure::kNone) co_return piece.failure;
    if (!piece.bytes.empty() || (chunked && piece.last)) {
      up.expiresAfter(upTimeout);
      if (chunked) {
        framed.clear();
        if (!piece.bytes.empty()) {
          framed += hex(piece.bytes.size());
          framed += "\r\n";
          framed.append(piece.bytes);
          framed += "\r\n";
        }
        if (piece.last) framed += "0\r\n\r\n";
        *upError = co_await up.write(framed);
      } else {
        *upError = co_await up.write(piece.bytes);
      }
      if (*upError) co_return Failure::kNone;
    }
    if (piece.last) co_return Failure::kNone;
  }
}

// Streams the rest of the backend's answer (after its head and the bytes sent with it) to the
// writer. True when the whole answer went through; response.keepAlive turns false when the
// backend ended it by closing.
asio::awaitable<bool> streamBody(DownstreamWriter& writer, Connection& up, InputBuffer& upIn,
                                 ResponseHead& response, std::uint64_t remaining, seconds upTimeout,
                                 Outcome* outcome) {
  bool complete = false;
  std::string payload;
  ChunkedDecoder decoder(UINT64_MAX);
  for (;;) {
    if (response.framing == Framing::kNone) {
      complete = true;
      break;
    }
    error_code wec;
    if (response.framing == Framing::kLength) {
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, upIn.size()));
      if (take > 0) {
        const std::string_view piece = upIn.view().substr(0, take);
        const bool last = take == remaining;
        wec = co_await writer.writeBody(piece, last);
        upIn.consume(take);
        remaining -= take;
      }
      if (remaining == 0) {
        complete = true;
        break;
      }
    } else if (response.framing == Framing::kChunked) {
      WireError error;
      payload.clear();
      const std::size_t used = decoder.feed(upIn.view(), &payload, &error);
      upIn.consume(used);
      if (error) {
        outcome->reason = "malformed chunked answer: " + error.description;
        break;
      }
      if (!payload.empty() || decoder.done()) {
        const std::string_view piece = payload;
        const bool last = decoder.done();
        wec = co_await writer.writeBody(piece, last);
      }
      if (decoder.done()) {
        complete = true;
        break;
      }
    } else if (!upIn.empty()) {  // kUntilClose
      const std::string_view piece = upIn.view();
      const bool last = false;
      wec = co_await writer.writeBody(piece, last);
      upIn.consume(upIn.size());
    }
    if (wec) break;  // the client went away
    up.expiresAfter(upTimeout);
    const std::size_t step = readStep(response.framing, remaining);
    const error_code rec = co_await upIn.readMore(up, step);
    if (rec) {
      if (rec == asio::error::eof && response.framing == Framing::kUntilClose) {
        const std::string_view piece = upIn.view();
        const bool last = true;
        co_await writer.writeBody(piece, last);
        complete = true;
        response.keepAlive = false;
      } else {
        outcome->reason = "the backend's answer broke off: " + rec.message();
      }
      break;
    }
  }
  co_return complete;
}

// A connection for the plan: pooled, or new; the next endpoint after a connect failure when the
// plan fails over. Null *up: why, per endpoint, in *reasons, and the failure returned.
asio::awaitable<Failure> acquire(ServerContext& ctx, IoThread& t, const message::ForwardPlan& plan,
                                 std::unique_ptr<Connection>* up,
                                 const mgw::UpstreamTarget** target, bool* reused,
                                 std::string* reasons) {
  Failure connectFailure = Failure::kBackendUnreachable;
  const int connectTimeout = plan.connectTimeoutSeconds;
  const std::size_t tries = plan.failover ? plan.targets.size() : 1;
  for (std::size_t i = 0; i < tries && !*up; ++i) {
    *target = &plan.targets[i];
    *up = t.pool.take((*target)->origin);
    *reused = *up != nullptr;
    if (!*up) {
      std::string reason;
      const mgw::UpstreamTarget& endpoint = **target;
      *up = co_await connectUpstream(t.io, ctx.clientTls, endpoint, connectTimeout, &reason,
                                     &connectFailure);
      if (!*up) {
        if (!reasons->empty()) *reasons += "; ";
        *reasons += endpoint.origin + ": " + reason;
      }
    }
  }
  co_return connectFailure;
}

}  // namespace

asio::awaitable<bool> failExchange(DownstreamWriter& writer, const message::ForwardPlan& plan,
                                   Outcome* outcome, Failure failure,
                                   const std::string& description, const std::string& reason,
                                   int retryAfterSeconds) {
  auto reply =
      message::faultReply(failure, description, message::Challenge::kApiKey, plan.faultFormat);
  if (retryAfterSeconds > 0) reply.setHeader("Retry-After", std::to_string(retryAfterSeconds));
  for (const auto& [name, value] : plan.addResponseHeaders) reply.headers.emplace(name, value);
  outcome->status = reply.status;
  outcome->failure = failure;
  outcome->reason = reason;
  log::warn("backend failure", {{"api", plan.api}, {"reason", reason}, {"trace_id", plan.traceId}});
  for (const auto& [name, value] : plan.responseHeaders) reply.setHeader(name, value);
  const bool keepAlive = false;
  co_await writeReply(writer, reply, keepAlive);
  co_return false;
}

void responseFields(const ResponseHead& r, bool headRequest,
                    const std::vector<std::pair<std::string, std::string>>& added,
                    const message::ForwardPlan& plan, std::vector<FieldView>* out) {
  out->clear();
  out->reserve(r.fields.size() + added.size() + plan.addResponseHeaders.size());
  const auto options = connectionOptions(r.fields);
  const bool keepLength = headRequest || r.status == 304;
  for (const Field& f : r.fields) {
    if (keepLength && equalsIgnoreCase(f.name, "Content-Length")) {
      out->push_back(FieldView{f.name, f.value});
      continue;
    }
    if (message::isHopByHopHeader(f.name) || listed(options, f.name)) continue;
    if (r.status >= 200 && hasField(added, f.name)) continue;
    if (listed(plan.dropResponseHeaders, f.name)) continue;
    out->push_back(FieldView{f.name, f.value});
  }
  if (r.status >= 200) {
    for (const auto& [name, value] : added) out->push_back(FieldView{name, value});
    for (const auto& [name, value] : plan.addResponseHeaders)
      out->push_back(FieldView{name, value});
  }
}

asio::awaitable<bool> relay(ServerContext& ctx, IoThread& t, DownstreamWriter& writer,
                            const RequestHead& received, RequestBody& clientBody,
                            const message::ForwardPlan& plan, bool keepAlive, Outcome* outcome) {
  // GCC 12 destroys temporaries in a co_await expression twice in some cases (a conditional
  // with std::string operands): every argument of a co_await call below is a named local.
  // 00. Schema validation (issue 27, body_validation.h): the body read whole and checked before
  // anything reaches a backend, then sent from what was held, byte for byte.
  bool continued = false;
  BufferedRequestBody checked(clientBody);
  RequestBody* input = &clientBody;
  const RequestHead* headIn = &received;
  RequestHead answeredExpect;
  if (plan.bodyCheck && plan.bodyCheck->requestBodyLimit > 0) {
    auto answered =
        co_await checkRequestBody(writer, received, checked, plan, keepAlive, outcome, &continued);
    if (answered) co_return *answered;
    input = &checked;
    if (continued) {  // 100 Continue is sent: not again below
      answeredExpect = received;
      answeredExpect.expectContinue = false;
      headIn = &answeredExpect;
    }
  }
  const RequestHead& head = *headIn;
  RequestBody& body = *input;
  // An h2c:// or h2:// endpoint: a stream on a multiplexed connection (h2_relay.h).
  if (plan.targets.front().http2) {
    if (plan.bodyCheck && plan.bodyCheck->checksResponse)  // said, never a silent pass
      log::warn("response not validated", {{"api", plan.api},
                                           {"reason",
                                            "answers of an HTTP/2 backend are relayed "
                                            "unvalidated"},
                                           {"trace_id", plan.traceId}});
    co_return co_await relayH2(ctx, t, writer, head, body, plan, keepAlive, outcome);
  }

  const ServerOptions& options = ctx.options;

  // 0. Request buffering: a body of at most requestBufferBytes (a chunked one: up to that much)
  // is read before a backend connection is taken, so a slow client never holds one.
  BufferedRequestBody buffered(body);
  const bool buffering =
      options.requestBuffering && body.framing() != Framing::kNone &&
      (body.framing() != Framing::kLength || body.contentLength() <= options.requestBufferBytes);
  RequestBody& source = buffering ? static_cast<RequestBody&>(buffered) : body;
  if (buffering) {
    if (head.expectContinue) {
      const int status = 100;
      const std::string_view reason = "Continue";
      const std::span<const FieldView> none;
      if (co_await writer.writeInterim(status, reason, none)) co_return false;
      continued = true;
    }
    const std::uint64_t limit = options.requestBufferBytes;
    const Failure bodyFailure = co_await buffered.fill(limit);
    if (bodyFailure != Failure::kNone)
      co_return co_await refuseBody(writer, plan, outcome, bodyFailure);
  }

  // The upstream latency runs from here to the backend's response head.
  const auto upstreamStarted = steady_clock::now();
  UpstreamBusy busy{plan.metricsApi};

  // 1. A slot among the backend's maxConnectionsPerBackend (waited for briefly), then a
  // connection: pooled, or new (failover to the next endpoint on a connect failure only).
  BackendSlot slot{ctx.backendSlots, plan.targets.front().origin};
  if (!co_await slot.take(t, options.maxConnectionsPerBackend)) {
    std::string description = "the backend has [listenerConfig] maxConnectionsPerBackend (" +
                              std::to_string(options.maxConnectionsPerBackend) +
                              ") connections in use; retry in a second";
    std::string reason = plan.targets.front().origin + ": maxConnectionsPerBackend reached";
    const int retryAfter = 1;
    co_return co_await failExchange(writer, plan, outcome, Failure::kOverloaded, description,
                                    reason, retryAfter);
  }

  // 1. A connection: pooled, or new (failover to the next endpoint on a connect failure only).
  std::unique_ptr<Connection> up;
  const mgw::UpstreamTarget* target = nullptr;
  bool reused = false;
  std::string reasons;
  const int connectTimeout = plan.connectTimeoutSeconds;
  Failure connectFailure = Failure::kBackendUnreachable;
  // The common case, a pooled connection to the first endpoint, without a coroutine frame.
  up = t.pool.take(plan.targets.front().origin);
  if (up) {
    target = &plan.targets.front();
    reused = true;
  } else {
    connectFailure = co_await acquire(ctx, t, plan, &up, &target, &reused, &reasons);
  }
  if (!up) {
    std::string description = "the backend is unreachable";
    co_return co_await failExchange(writer, plan, outcome, connectFailure, description, reasons);
  }
  busy.set();

  // 2. The request head, then the body as it arrives (no more than kChunk buffered).
  // A body on a method whose content has no defined meaning (RFC 9110 section 9.3) may be left
  // unread by the backend and parsed as a second request that never passed the gateway: the
  // backend is told to close after its answer, and the connection is never pooled.
  const bool lastOnConnection = bodyMayBeIgnored(head);
  const std::string upHead = upstreamHead(head, *target, plan, lastOnConnection);
  const seconds upTimeout(plan.timeoutSeconds);
  if (head.expectContinue && head.framing != Framing::kNone && !continued) {
    const int status = 100;
    const std::string_view reason = "Continue";
    const std::span<const FieldView> none;
    if (co_await writer.writeInterim(status, reason, none)) co_return false;
  }
  // A pooled connection the backend closed meanwhile fails on first use: a request without a
  // body is sent again on a new connection (RFC 9112 section 9.3.1), once.
  const bool retriable =
      head.framing == Framing::kNone &&
      (head.method == "GET" || head.method == "HEAD" || head.method == "OPTIONS" ||
       head.method == "PUT" || head.method == "DELETE");
  InputBuffer upIn;
  ResponseHead response;
  std::vector<FieldView> fields;
  std::size_t responseHeadSize = 0;
  for (int round = 0;; ++round) {
    up->expiresAfter(upTimeout);
    // The head and the body bytes already read go out in one system call (a retried request
    // has no body).
    BodyPiece first;
    if (source.framing() == Framing::kLength) first = source.atHand();
    const std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(upHead), asio::buffer(first.bytes.data(), first.bytes.size())};
    error_code ec = co_await up->writeAll(buffers);
    if (!ec) {
      Failure bodyFailure = co_await sendBody(source, first, *up, upTimeout, &ec);
      if (bodyFailure != Failure::kNone) {
        up->close();
        co_return co_await refuseBody(writer, plan, outcome, bodyFailure);
      }
    }
    // 3. The response head (1xx interim answers relayed; the writer drops them for a client
    // that cannot take them).
    std::size_t scanned = 0;
    WireError error;
    bool any = false;
    while (!ec) {
      responseHeadSize = findHeadEnd(upIn.view(), kMaxResponseHeadBytes, &scanned, &error);
      if (error) break;
      if (responseHeadSize > 0) {
        error = parseResponseHead(upIn.view().substr(0, responseHeadSize), head.method, &response);
        if (error) break;
        if (response.status >= 200) break;
        upIn.consume(responseHeadSize);
        scanned = 0;
        if (response.status == 101) {
          error = WireError{Failure::kBadFraming, "the backend switched protocols (101)"};
          break;
        }
        if (response.status != 100) {  // the gateway answered Expect itself
          responseFields(response, false, {}, plan, &fields);
          const int status = response.status;
          const std::string_view reason = response.reason;
          const std::span<const FieldView> interim = fields;
          if (co_await writer.writeInterim(status, reason, interim)) co_return false;
        }
        continue;
      }
      const std::size_t step = 16384;
      ec = co_await upIn.readMore(*up, step);
      any = any || !upIn.empty();
    }
    if (!ec && !error) break;
    up->close();
    if (ec && ec != beast::error::timeout && reused && retriable && round == 0 && !any) {
      std::string reason;
      up = co_await connectUpstream(t.io, ctx.clientTls, *target, connectTimeout, &reason,
                                    &connectFailure);
      if (!up) {
        std::string description = "the backend is unreachable";
        std::string why = target->origin + ": " + reason;
        co_return co_await failExchange(writer, plan, outcome, connectFailure, description, why);
      }
      reused = false;
      upIn = InputBuffer{};
      continue;
    }
    std::string description;
    std::string why = target->origin + ": ";
    Failure failure = Failure::kBackendUnreachable;
    if (ec == beast::error::timeout) {
      failure = Failure::kBackendTimeout;
      description = "the backend did not answer in time";
      why += "no answer within " + std::to_string(plan.timeoutSeconds) + " s";
    } else {
      description = "the backend sent no valid answer";
      if (error) {
        failure = Failure::kBackendBadResponse;
        why += "malformed answer: " + error.description;
      } else if (ec == asio::error::eof || ec == asio::error::connection_reset) {
        failure = Failure::kBackendReset;
        why += ec == asio::error::eof ? "closed the connection without an answer"
                                      : "reset the connection";
      } else {
        why += "connection error: " + ec.message();
      }
    }
    co_return co_await failExchange(writer, plan, outcome, failure, description, why);
  }
  upIn.consume(responseHeadSize);
  if (plan.bodyCheck && plan.bodyCheck->checksResponse) {
    // Response validation (issue 27): a bad answer is replaced by 500, its body never sent.
    std::string description;
    const Failure bad = co_await checkResponse(plan, head, response, *up, upIn, &description);
    if (bad != Failure::kNone) {
      up->close();
      std::string why = bad == Failure::kResponseSchemaViolation
                            ? "invalid response: " + description
                            : target->origin + ": " + description;
      co_return co_await failExchange(writer, plan, outcome, bad, description, why);
    }
  }
  {
    const auto upstreamTime = steady_clock::now() - upstreamStarted;
    outcome->upstreamNanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(upstreamTime).count();
    observability::metrics().observeUpstream(plan.metricsApi, upstreamTime);
  }

  // 4. The response: head (with the body bytes already read), then the body streamed with
  // bounded buffers.
  const bool headRequest = head.method == "HEAD";
  outcome->status = response.status;
  responseFields(response, headRequest, plan.responseHeaders, plan, &fields);
  ResponseStart start;
  start.status = response.status;
  start.reason = response.reason;
  start.fields = fields;
  start.body = bodyKind(response.framing);
  start.contentLength = response.contentLength;
  start.keepAlive = keepAlive;
  std::uint64_t remaining = response.contentLength;
  std::size_t withHead = 0;
  if (response.framing == Framing::kLength)
    withHead = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, upIn.size()));
  const std::string_view firstBody = upIn.view().substr(0, withHead);
  const bool firstIsLast = response.framing == Framing::kNone ||
                           (response.framing == Framing::kLength && withHead == remaining);
  if (co_await writer.writeHead(start, firstBody, firstIsLast)) {
    up->close();
    co_return false;
  }
  keepAlive = writer.keepAlive();
  upIn.consume(withHead);
  remaining -= withHead;
  bool complete = response.framing == Framing::kNone ||
                  (response.framing == Framing::kLength && remaining == 0);
  if (!complete)
    complete = co_await streamBody(writer, *up, upIn, response, remaining, upTimeout, outcome);
  if (complete && response.keepAlive && upIn.empty() && !lastOnConnection)
    t.pool.put(target->origin, std::move(up), plan.metricsApi);
  else
    up->close();
  if (!complete) co_return false;  // the client saw a cut answer: close, never reuse
  co_return keepAlive;
}

}  // namespace mgw::http
