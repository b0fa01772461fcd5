#include "http/h2_relay.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <chrono>

#include "common/log.h"
#include "http/h2_upstream.h"
#include "http/relay.h"
#include "http/upstream_client.h"
#include "message/fault_reply.h"
#include "message/hop_by_hop.h"
#include "observability/metrics.h"

namespace mgw::http {
namespace {

using message::Outcome;
using std::chrono::seconds;
using std::chrono::steady_clock;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool listsTrailers(std::string_view te) {
  for (std::string_view part : splitList(te)) {
    const std::size_t semi = part.find(';');
    if (equalsIgnoreCase(part.substr(0, semi), "trailers")) return true;
  }
  return false;
}

// The request body, from the client to the stream, while the answer comes back: bounded by the
// stream's send buffer (H2UpstreamStream::writable). Runs beside the relay; the relay waits for it.
struct Pump {
  explicit Pump(asio::io_context& io) : signal(io) {
    signal.expires_at(steady_clock::time_point::max());
  }
  asio::steady_timer signal;
  bool done = false;
  bool complete = false;  // the whole body was read from the client
};

asio::awaitable<void> pumpBody(RequestBody& body, std::shared_ptr<H2UpstreamStream> stream,
                               seconds timeout, Pump& pump) {
  BodyPiece piece = body.atHand();
  for (;;) {
    if (piece.failure != Failure::kNone) {
      const std::string why = piece.failure == Failure::kRequestTimeout
                                  ? "the client's body stalled"
                                  : "the client's body was refused";
      stream->fail(piece.failure, why);
      break;
    }
    if (!stream->send(piece.bytes, piece.last)) break;  // the backend is done with the stream
    if (piece.last) {
      pump.complete = true;
      break;
    }
    const auto deadline = steady_clock::now() + timeout;
    if (!co_await stream->writable(deadline)) {
      if (stream->open()) stream->fail(Failure::kBackendTimeout, "the backend took no body");
      break;
    }
    piece = co_await body.next();
  }
  pump.done = true;
  pump.signal.cancel();
}

// The trailer or answer fields a client may get (no pseudo-header, nothing hop-by-hop).
void endToEnd(const std::vector<Field>& fields, std::vector<FieldView>* out) {
  out->clear();
  for (const Field& f : fields)
    if (!message::isHopByHopHeader(f.name)) out->push_back(FieldView{f.name, f.value});
}

}  // namespace

std::vector<Field> h2RequestFields(const RequestHead& head, Framing bodyFraming,
                                   std::uint64_t contentLength, const mgw::UpstreamTarget& target,
                                   const message::ForwardPlan& plan) {
  std::vector<Field> out;
  out.reserve(head.fields.size() + plan.setHeaders.size() + 8);
  out.push_back(Field{":method", head.method});
  out.push_back(Field{":scheme", target.tls ? "https" : "http"});
  out.push_back(Field{":authority", target.hostHeader});
  out.push_back(Field{":path", message::upstreamRequestTarget(target, plan)});
  const auto options = connectionOptions(head.fields);
  bool trailers = false;
  for (const auto& [name, value] : head.fields) {
    if (!name.empty() && name.front() == ':') continue;
    if (equalsIgnoreCase(name, "TE")) {
      trailers = trailers || listsTrailers(value);
      continue;
    }
    if (!forwardedToBackend(name, options, plan)) continue;
    out.push_back(Field{lower(name), value});
  }
  if (trailers) out.push_back(Field{"te", "trailers"});
  for (const auto& [name, value] : plan.setHeaders) out.push_back(Field{lower(name), value});
  if (!plan.forwardedFor.empty()) out.push_back(Field{"x-forwarded-for", plan.forwardedFor});
  out.push_back(Field{"x-forwarded-proto", plan.tls ? "https" : "http"});
  if (!plan.forwardedHost.empty()) out.push_back(Field{"x-forwarded-host", plan.forwardedHost});
  if (bodyFraming == Framing::kLength)
    out.push_back(Field{"content-length", std::to_string(contentLength)});
  return out;
}

asio::awaitable<bool> relayH2(ServerContext& ctx, IoThread& t, DownstreamWriter& writer,
                              const RequestHead& head, RequestBody& body,
                              const message::ForwardPlan& plan, bool keepAlive, Outcome* outcome) {
  // Every argument of a co_await call below is a named local (GCC 12's coroutine temporaries).
  const auto upstreamStarted = steady_clock::now();
  UpstreamBusy busy{plan.metricsApi};
  const bool hasBody = body.framing() != Framing::kNone;
  const bool grpc = plan.faultFormat == message::FaultFormat::kGrpc;

  // 1. A stream: on a pooled connection with room, or a new one; the next endpoint after a
  // connect failure when the plan fails over.
  std::shared_ptr<H2UpstreamConnection> connection;
  std::shared_ptr<H2UpstreamStream> stream;
  const mgw::UpstreamTarget* target = nullptr;
  std::string reasons;
  Failure failure = Failure::kBackendUnreachable;
  const std::size_t tries = plan.failover ? plan.targets.size() : 1;
  for (std::size_t i = 0; i < tries && !stream; ++i) {
    target = &plan.targets[i];
    std::string reason;
    if (!target->http2) {
      reason = "not an HTTP/2 endpoint (h2c:// or h2://)";
    } else {
      // A connection that turned out closed or shut (GOAWAY) when the stream was opened is
      // replaced once.
      for (int round = 0; round < 2 && !stream; ++round) {
        const int connectTimeout = plan.connectTimeoutSeconds;
        connection =
            co_await t.h2pool.acquire(ctx.clientTls, *target, connectTimeout, &reason, &failure);
        if (!connection) break;
        const std::vector<Field> fields =
            h2RequestFields(head, body.framing(), body.contentLength(), *target, plan);
        stream = connection->submit(fields, hasBody, &reason);
        if (!stream) {
          connection->release();
          connection.reset();
          failure = Failure::kBackendReset;
        }
      }
    }
    if (!stream) {
      if (!reasons.empty()) reasons += "; ";
      reasons += target->origin + ": " + reason;
    }
  }
  if (!stream) {
    std::string description = "the backend is unreachable";
    co_return co_await failExchange(writer, plan, outcome, failure, description, reasons);
  }
  busy.set();

  // 2. The body beside the answer.
  const seconds upTimeout(plan.timeoutSeconds);
  Pump pump(t.io);
  if (hasBody) {
    asio::co_spawn(t.io, pumpBody(body, stream, upTimeout, pump), asio::detached);
  } else {
    pump.done = pump.complete = true;
  }

  // 3. The answer: head, DATA, trailers, end.
  const bool headRequest = head.method == "HEAD";
  bool headSent = false;
  bool complete = false;
  std::vector<FieldView> fields;
  ResponseHead response;
  for (;;) {
    const auto deadline = steady_clock::now() + upTimeout;
    H2UpstreamEvent event = co_await stream->next(deadline);
    if (event.kind == H2UpstreamEvent::Kind::kFailed) {
      outcome->failure = event.failure;
      const bool clientSide = event.failure == Failure::kRequestTimeout ||
                              event.failure == Failure::kPayloadTooLarge ||
                              event.failure == Failure::kBadFraming;
      std::string description = event.failure == Failure::kBackendTimeout
                                    ? "the backend did not answer in time"
                                    : "the backend sent no valid answer";
      if (event.failure == Failure::kPayloadTooLarge)
        description = "the request body exceeds [listenerConfig] maxRequestBytes";
      else if (event.failure == Failure::kBadFraming)
        description = "the request body is not valid chunked encoding";
      std::string why = target->origin + ": " + event.reason;
      if (!headSent) {
        if (event.failure == Failure::kRequestTimeout) {
          keepAlive = false;
          outcome->reason = why;
          break;
        }
        keepAlive = co_await failExchange(writer, plan, outcome, event.failure, description, why);
        break;
      }
      outcome->reason = why;
      log::warn("backend failure",
                {{"api", plan.api}, {"reason", why}, {"trace_id", plan.traceId}});
      if (grpc && !clientSide) {
        // A gRPC client reads the end of its call from trailers: the same fault, as grpc-status.
        const auto fault = message::faultReply(event.failure, description,
                                               message::Challenge::kApiKey, plan.faultFormat);
        std::vector<FieldView> trailer;
        for (const auto& [name, value] : fault.headers)
          if (!equalsIgnoreCase(name, "Content-Type")) trailer.push_back(FieldView{name, value});
        const std::span<const FieldView> view = trailer;
        complete = !co_await writer.writeTrailers(view);
      }
      break;
    }
    if (event.kind == H2UpstreamEvent::Kind::kHead) {
      const auto upstreamTime = steady_clock::now() - upstreamStarted;
      outcome->upstreamNanos =
          std::chrono::duration_cast<std::chrono::nanoseconds>(upstreamTime).count();
      observability::metrics().observeUpstream(plan.metricsApi, upstreamTime);
      response.status = event.status;
      response.fields = std::move(event.fields);
      response.framing = Framing::kChunked;
      outcome->status = response.status;
      responseFields(response, headRequest, plan.responseHeaders, plan, &fields);
      ResponseStart start;
      start.status = response.status;
      start.fields = fields;
      start.keepAlive = keepAlive;
      const bool ended = stream->takeEnd();  // a head alone (gRPC's trailers-only answer)
      start.body = ended || headRequest ? BodyKind::kNone : BodyKind::kStreamed;
      for (const Field& f : response.fields) {
        if (!ended && !headRequest && equalsIgnoreCase(f.name, "content-length")) {
          // nghttp2 checked that DATA agrees with it.
          start.body = BodyKind::kLength;
          start.contentLength = std::strtoull(f.value.c_str(), nullptr, 10);
          if (start.contentLength == 0) start.body = BodyKind::kNone;
        }
      }
      const std::string_view none;
      const bool last = start.body == BodyKind::kNone;
      if (co_await writer.writeHead(start, none, last)) {
        keepAlive = false;
        break;
      }
      headSent = true;
      keepAlive = writer.keepAlive();
      if (last) {
        complete = true;
        break;
      }
      continue;
    }
    if (event.kind == H2UpstreamEvent::Kind::kData) {
      const bool last = stream->takeEnd();
      const std::string_view piece = event.bytes;
      if (co_await writer.writeBody(piece, last)) break;  // the client went away
      stream->consumed(event.bytes.size());
      if (last) {
        complete = true;
        break;
      }
      continue;
    }
    if (event.kind == H2UpstreamEvent::Kind::kTrailers) {
      endToEnd(event.fields, &fields);
      const std::span<const FieldView> view = fields;
      if (co_await writer.writeTrailers(view)) break;
      stream->takeEnd();
      complete = true;
      break;
    }
    // kEnd
    if (co_await writer.end()) break;
    complete = true;
    break;
  }

  // 4. The stream is done; the pump stops at its next step (the stream takes no more) or when
  // the client's body ends.
  stream->finish();
  while (!pump.done) co_await pump.signal.async_wait(kAwait);
  if (!pump.complete) keepAlive = false;  // the client's body was not read to its end
  if (!complete) co_return false;         // the client saw a cut answer: close
  co_return keepAlive;
}

}  // namespace mgw::http
