#include "http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstring>
#include <ctime>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log.h"
#include "http/connection.h"
#include "http/tls.h"
#include "http/wire.h"
#include "message/fault_reply.h"
#include "message/hop_by_hop.h"
#include "observability/metrics.h"

namespace mgw::http {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using message::Decision;
using message::Handler;
using message::Outcome;
using observability::Listener;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr std::size_t kMaxResponseHeadBytes = 65536;
constexpr std::size_t kMaxDiscardBytes = 64 * 1024;  // a refused request's body read to keep alive
constexpr std::size_t kMaxIdlePerOrigin = 64;
constexpr auto kUpstreamIdleTimeout = seconds(30);
constexpr std::size_t kChunk = 65536;         // relay buffer: bounded memory per exchange
constexpr std::size_t kIdleReadBytes = 1024;  // the first read of a request head

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

// RFC 9110 section 6.6.1: an origin server with a clock sends Date. Formatted once a second.
std::string httpDate() {
  thread_local std::time_t cachedAt = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cachedAt) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cachedAt = now;
  }
  return cached;
}

// A micro-gw reply (handler or fault) on the wire.
// `http10` answers an HTTP/1.0 client, which closes unless told to keep the connection.
std::string serializeReply(const message::HttpResponse& reply, bool headRequest, bool keepAlive,
                           bool http10) {
  std::string out;
  out.reserve(256 + reply.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(reply.status);
  out += ' ';
  out += reasonPhrase(reply.status);
  out += "\r\n";
  for (const auto& [name, value] : reply.headers) {
    if (message::isHopByHopHeader(name)) continue;  // framing is written here, once
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Date: " + httpDate() + "\r\n";
  // RFC 9110 section 8.6: no Content-Length in a 204 (a CORS preflight's answer).
  if (reply.status != 204) out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  if (!keepAlive) out += "Connection: close\r\n";
  if (keepAlive && http10) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!headRequest) out += reply.body;
  return out;
}

// Names listed in Connection (RFC 9110 section 7.6.1) are hop-by-hop too.
std::vector<std::string> connectionOptions(const std::vector<Field>& fields) {
  std::vector<std::string> names;
  for (const Field& f : fields)
    if (equalsIgnoreCase(f.name, "Connection")) message::collectConnectionOptions(f.value, &names);
  return names;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names)
    if (equalsIgnoreCase(n, name)) return true;
  return false;
}

bool owned(const std::vector<std::pair<std::string, std::string>>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (equalsIgnoreCase(f.first, name)) return true;
  return false;
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out += ": ";
  out.append(value);
  out += "\r\n";
}

std::string hex(std::uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(n));
  return buf;
}

// Whether a backend may leave the request's body unread: only POST, PUT and PATCH give content a
// meaning every server reads (RFC 9110 section 9.3); cpp-httplib, Python's http.server and many
// small servers ignore a GET, HEAD, OPTIONS or DELETE body and read it as the next request. A
// chunked body counts even when empty (its last chunk is bytes on the wire).
bool bodyMayBeIgnored(const RequestHead& head) {
  const bool body = head.framing == Framing::kChunked ||
                    (head.framing == Framing::kLength && head.contentLength > 0);
  return body && head.method != "POST" && head.method != "PUT" && head.method != "PATCH";
}

// Idle keep-alive connections to backends, per I/O thread (no lock: one thread uses it).
class UpstreamPool {
 public:
  std::unique_ptr<Connection> take(const std::string& origin) {
    auto it = idle_.find(origin);
    if (it == idle_.end()) return nullptr;
    auto& stack = it->second;
    const auto now = steady_clock::now();
    while (!stack.empty()) {
      Idle idle = std::move(stack.back());
      stack.pop_back();
      observability::metrics().upstreamIdle(idle.api, -1);
      // Every connection is checked before reuse, however briefly it was idle: bytes the backend
      // sent since its last answer (a late second answer, a body on a 204, 304 or HEAD answer)
      // would be read as the next exchange's answer, so they cost the connection. A connection
      // closed after the check fails on first use: a request without a body is then sent again.
      if (now - idle.since < kUpstreamIdleTimeout && alive(*idle.conn)) return std::move(idle.conn);
      idle.conn->close();
    }
    return nullptr;
  }

  // `api`: the API whose exchange left it here (the idle gauge's label).
  void put(const std::string& origin, std::unique_ptr<Connection> conn, observability::ApiId api) {
    auto& stack = idle_[origin];
    if (stack.size() >= kMaxIdlePerOrigin) {
      conn->close();
      return;
    }
    conn->noDeadline();
    stack.push_back(Idle{std::move(conn), steady_clock::now(), api});
    observability::metrics().upstreamIdle(api, 1);
  }

  // Closes connections idle for too long (called from a timer).
  void sweep() {
    const auto now = steady_clock::now();
    for (auto& [origin, stack] : idle_) {
      std::erase_if(stack, [&](Idle& idle) {
        if (now - idle.since < kUpstreamIdleTimeout && alive(*idle.conn)) return false;
        idle.conn->close();
        observability::metrics().upstreamIdle(idle.api, -1);
        return true;
      });
    }
  }

  void clear() {
    for (auto& [origin, stack] : idle_)
      for (auto& idle : stack) {
        idle.conn->close();
        observability::metrics().upstreamIdle(idle.api, -1);
      }
    idle_.clear();
  }

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    steady_clock::time_point since;
    observability::ApiId api = observability::kNoApiId;
  };

  // A backend that closed an idle connection (or sent bytes nobody asked for) makes it unusable.
  static bool alive(Connection& c) {
    char byte;
    const ssize_t n =
        ::recv(c.lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  std::unordered_map<std::string, std::vector<Idle>> idle_;
};

struct Acceptor {
  std::unique_ptr<tcp::acceptor> socket;
  Listener listener;
};

struct IoThread {
  asio::io_context io{1};
  std::vector<Acceptor> acceptors;  // http, https, metrics as configured
  UpstreamPool pool;
  std::unordered_set<Connection*> idle;  // client connections waiting for a next request
  std::thread thread;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler& handler;
  asio::ssl::context serverTls{asio::ssl::context::tls_server};
  asio::ssl::context clientTls{asio::ssl::context::tls_client};
  std::unique_ptr<asio::thread_pool> workers;
  std::vector<std::unique_ptr<IoThread>> threads;
  std::atomic<int> connections{0};
  std::atomic<bool> draining{false};
  int httpPort = -1;
  int httpsPort = -1;
  int metricsPort = -1;
  std::atomic<bool> accepting{false};

  Impl(ServerOptions o, Handler& h) : options(std::move(o)), handler(h) {}

  // ---- listeners ---------------------------------------------------------------------------

  bool bindAll(std::string* error) {
    for (Listener listener : {Listener::kHttp, Listener::kHttps, Listener::kMetrics}) {
      int& port = listener == Listener::kHttp    ? httpPort
                  : listener == Listener::kHttps ? httpsPort
                                                 : metricsPort;
      const int configured = listener == Listener::kHttp    ? options.httpPort
                             : listener == Listener::kHttps ? options.httpsPort
                                                            : options.metricsPort;
      if (configured == -1) continue;
      if (listener == Listener::kMetrics && !options.metricsHandler) continue;
      const std::string& host = listener == Listener::kMetrics ? options.metricsHost : options.host;
      int bound = configured;
      for (auto& t : threads) {
        error_code ec;
        auto acceptor = std::make_unique<tcp::acceptor>(t->io);
        const auto address = asio::ip::make_address(host, ec);
        if (ec) {
          *error = "cannot listen on " + host + ": not an IP address";
          return false;
        }
        const tcp::endpoint endpoint(address, static_cast<unsigned short>(bound));
        acceptor->open(endpoint.protocol(), ec);
        if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) {
          // Every I/O thread accepts on the same port; the kernel spreads the connections.
          const int one = 1;
          if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) !=
              0)
            ec = error_code(errno, boost::system::system_category());
        }
        if (!ec) acceptor->bind(endpoint, ec);
        if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
          *error =
              "cannot listen on " + host + ":" + std::to_string(configured) + ": " + ec.message();
          return false;
        }
        bound = acceptor->local_endpoint().port();
        t->acceptors.push_back(Acceptor{std::move(acceptor), listener});
      }
      port = bound;
    }
    return true;
  }

  awaitable<void> acceptLoop(IoThread& t, tcp::acceptor& acceptor, Listener listener) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec) {
        if (!acceptor.is_open() || draining) co_return;
        // Out of file descriptors or a transient error: back off briefly, never spin.
        asio::steady_timer timer(t.io, std::chrono::milliseconds(50));
        co_await timer.async_wait(kAwait);
        continue;
      }
      if (connections.load(std::memory_order_relaxed) >= options.maxConnections) {
        error_code ignored;
        socket.close(ignored);  // over maxConnections: refused at once, like a full backlog
        continue;
      }
      connections.fetch_add(1, std::memory_order_relaxed);
      observability::metrics().connectionOpened(listener);
      asio::co_spawn(t.io, session(t, std::move(socket), listener),
                     [this, listener](std::exception_ptr e) {
                       connections.fetch_sub(1, std::memory_order_relaxed);
                       observability::metrics().connectionClosed(listener);
                       if (e) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::exception& ex) {
                           log::error("connection aborted by an exception", {{"error", ex.what()}});
                         } catch (...) {
                           log::error("connection aborted by an exception");
                         }
                       }
                     });
    }
  }

  awaitable<void> sweepLoop(IoThread& t) {
    asio::steady_timer timer(t.io);
    while (!draining) {
      timer.expires_after(seconds(5));
      co_await timer.async_wait(kAwait);
      t.pool.sweep();
    }
  }

  // ---- one client connection ----------------------------------------------------------------

  static std::string peerAddress(const tcp::socket& socket) {
    error_code ec;
    auto endpoint = socket.remote_endpoint(ec);
    if (ec) return "";
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
    return address.to_string();
  }

  awaitable<void> session(IoThread& t, tcp::socket socket, Listener listener) {
    const bool tls = listener == Listener::kHttps;
    Handler& handler = listener == Listener::kMetrics ? *options.metricsHandler : this->handler;
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const std::string peer = peerAddress(socket);
    Connection conn;
    if (tls) {
      conn.tls = std::make_unique<asio::ssl::stream<beast::tcp_stream>>(
          beast::tcp_stream(std::move(socket)), serverTls);
      conn.expiresAfter(seconds(options.headerTimeoutSeconds));
      auto [ec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::server, kAwait);
      if (ec) {
        conn.close();
        co_return;
      }
    } else {
      conn.plain = std::make_unique<beast::tcp_stream>(std::move(socket));
    }

    InputBuffer in;
    int served = 0;
    bool keepAlive = true;
    while (keepAlive && !draining) {
      keepAlive = co_await exchange(t, handler, conn, in, peer, tls, served);
      ++served;
      if (served >= options.keepAliveMaxRequests) keepAlive = false;
    }
    co_await closeGracefully(conn, keepAlive);
  }

  // After the last answer: stop sending, then read (and drop) what the client still sends for a
  // moment, so the kernel does not reset the connection before the answer is read (nginx's
  // lingering close).
  awaitable<void> closeGracefully(Connection& conn, bool quiet) {
    error_code ec;
    if (conn.tls && !quiet) {
      conn.expiresAfter(seconds(1));
      co_await conn.tls->async_shutdown(kAwait);
    }
    conn.lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (!quiet) {
      conn.expiresAfter(seconds(2));
      char sink[4096];
      for (int i = 0; i < 16; ++i) {
        auto [rec, n] = co_await conn.lowest().async_read_some(asio::buffer(sink), kAwait);
        if (rec) break;
      }
    }
    conn.close();
  }

  awaitable<bool> writeReply(Connection& conn, const message::HttpResponse& reply, bool headRequest,
                             bool keepAlive) {
    const std::string bytes = serializeReply(reply, headRequest, keepAlive, conn.http10);
    conn.expiresAfter(seconds(options.writeTimeoutSeconds));
    const error_code ec = co_await conn.write(bytes);
    co_return !ec;
  }

  // Reads one request, answers it. Returns whether the connection may serve another.
  awaitable<bool> exchange(IoThread& t, Handler& handler, Connection& conn, InputBuffer& in,
                           const std::string& peer, bool tls, int served) {
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
            seconds(served == 0 ? options.headerTimeoutSeconds : options.keepAliveTimeoutSeconds));
        in.release();
        t.idle.insert(&conn);
      }
      const std::size_t room =
          options.maxHeaderBytes + 2 - std::min(in.size(), options.maxHeaderBytes);
      // An idle connection waits with a small buffer (most heads fit in it): 10,000 idle
      // keep-alive connections must not hold 16 KiB each.
      const std::size_t step = started ? 16384 : kIdleReadBytes;
      const error_code ec = co_await in.readMore(conn, std::min(room, step));
      t.idle.erase(&conn);
      if (ec) {
        // Nothing of a request yet: a quiet close. Part of a head: 408, then close.
        if (started && ec == beast::error::timeout && served == 0) {
          const auto timeoutReply = message::faultReply(
              Failure::kRequestTimeout,
              "the request head did not arrive within [listenerConfig] headerTimeoutSeconds");
          co_await writeReply(conn, timeoutReply, false, false);
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
    request.clientAddress = peer;
    request.tls = tls;
    Outcome outcome;
    RequestHead head;
    if (!error)
      error =
          parseRequestHead(in.view().substr(0, headSize),
                           RequestLimits{options.maxHeaderCount, options.maxRequestBytes}, &head);
    if (error) {
      // A framing error: answer and close; nothing after it is read as a request.
      log::warn("request refused", {{"client", peer},
                                    {"reason", failureName(error.failure)},
                                    {"detail", error.description}});
      const auto refusal = message::faultReply(error.failure, error.description);
      co_await writeReply(conn, refusal, false, false);
      co_return false;
    }
    in.consume(headSize);
    conn.http10 = head.versionMinor == 0;
    request.method = head.method;
    request.target = head.target;
    for (const Field& f : head.fields) request.headers.emplace(f.name, f.value);
    const bool headRequest = head.method == "HEAD";
    bool keepAlive = head.keepAlive && !draining;

    Decision decision;
    if (std::string why = message::parseTarget(head.target, &request); !why.empty()) {
      decision = Decision::reply(message::faultReply(Failure::kBadFraming, why));
      keepAlive = false;
    } else {
      decision = handler.decide(request);
    }
    // A decision that completes later (Defer): the coroutine waits on this I/O thread's executor
    // and is resumed there; the thread serves other connections meanwhile.
    while (auto* deferred = std::get_if<message::Defer>(&decision.action)) {
      auto start = std::move(deferred->start);
      auto done = std::move(decision.done);
      if (deferred->blocking) start = onWorkers(std::move(start));
      // start is a named local passed by reference: a by-value std::function argument of a
      // co_await call is destroyed twice by GCC 12 (the coroutine temporaries bug; seen as a
      // double free once a store answered later, the Redis counters).
      decision = co_await awaitDecision(t, start);
      if (!decision.done) decision.done = std::move(done);
    }

    if (auto* reply = std::get_if<message::Reply>(&decision.action)) {
      if (keepAlive) keepAlive = co_await discardBody(conn, in, head);
      outcome.status = reply->response.status;
      if (!co_await writeReply(conn, reply->response, headRequest, keepAlive)) keepAlive = false;
    } else if (auto* local = std::get_if<message::Local>(&decision.action)) {
      message::HttpResponse answer;
      Failure bodyFailure = co_await readBody(conn, in, head, local->maxBodyBytes, &request.body);
      if (bodyFailure != Failure::kNone) {
        keepAlive = false;
        if (bodyFailure == Failure::kRequestTimeout) {
          conn.close();
          outcome.failure = bodyFailure;
        } else {
          answer = message::faultReply(
              bodyFailure,
              bodyFailure == Failure::kPayloadTooLarge
                  ? "the request body exceeds " + std::to_string(local->maxBodyBytes) + " bytes"
                  : "the request body is not valid chunked encoding");
        }
      } else if (local->blocking) {
        // Runs on the worker pool; the coroutine resumes on this I/O thread afterwards.
        const auto queued = steady_clock::now();
        const int queueLimit = options.workerQueueSeconds;
        answer = co_await asio::co_spawn(
            workers->get_executor(),
            [local, &request, queued, queueLimit]() -> awaitable<message::HttpResponse> {
              if (steady_clock::now() - queued > seconds(queueLimit)) co_return busyReply();
              co_return runLocal(*local, request);
            },
            asio::use_awaitable);
      } else {
        answer = runLocal(*local, request);
      }
      if (outcome.failure != Failure::kRequestTimeout) {
        outcome.status = answer.status;
        if (!co_await writeReply(conn, answer, headRequest, keepAlive)) keepAlive = false;
      }
    } else if (auto* forward = std::get_if<message::Forward>(&decision.action)) {
      keepAlive = co_await relay(t, conn, in, head, *forward->plan, keepAlive, &outcome);
    }
    if (decision.done) {
      outcome.bytesIn = in.consumedTotal - consumedBefore;
      outcome.bytesOut = conn.written - writtenBefore;
      decision.done(request, outcome);
    }
    co_return keepAlive;
  }

  // kDefer: start(resume) once; resume(decision) may be called inline or later from any thread,
  // exactly once; the coroutine continues on t's executor. (Handlers that decide at once never
  // return kDefer, so this costs a request nothing unless it waits on something.)
  static awaitable<Decision> awaitDecision(IoThread& t,
                                           std::function<void(message::Resume)>& start) {
    // The initiation captures references only (start lives in the caller's frame until resumed):
    // GCC 12 may destroy a co_await call's temporaries twice, harmless for references only.
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Decision)>(
        [&t, &start](auto handler) {
          using Handler = decltype(handler);
          auto shared = std::make_shared<Handler>(std::move(handler));
          auto work =
              std::make_shared<decltype(asio::make_work_guard(t.io))>(asio::make_work_guard(t.io));
          start([&t, shared, work](Decision d) mutable {
            asio::post(t.io, [shared, work, d = std::move(d)]() mutable {
              (*shared)(std::move(d));
              work->reset();
            });
          });
        },
        asio::use_awaitable);
  }

  // A blocking kDefer: start runs on the worker pool (argon2id for basic auth on a resource), with
  // the queue limit of kLocal. resume is guarded so that it runs exactly once, even when start
  // throws after calling it.
  std::function<void(message::Resume)> onWorkers(std::function<void(message::Resume)> start) {
    return [this, start = std::move(start)](message::Resume resume) mutable {
      const auto queued = steady_clock::now();
      const int queueLimit = options.workerQueueSeconds;
      asio::post(workers->get_executor(), [start = std::move(start), resume = std::move(resume),
                                           queued, queueLimit]() mutable {
        auto once = std::make_shared<std::atomic<bool>>(false);
        message::Resume guarded = [once, resume](Decision d) {
          if (!once->exchange(true)) resume(std::move(d));
        };
        auto answer = [&guarded](message::HttpResponse reply) {
          guarded(Decision::reply(std::move(reply)));
        };
        if (steady_clock::now() - queued > seconds(queueLimit)) {
          answer(busyReply());
          return;
        }
        try {
          start(guarded);
        } catch (const std::exception& e) {
          log::error("unhandled exception in a deferred decision", {{"error", e.what()}});
          answer(
              message::faultReply(Failure::kInternalError, "the request could not be processed"));
        } catch (...) {
          log::error("unhandled exception in a deferred decision");
          answer(
              message::faultReply(Failure::kInternalError, "the request could not be processed"));
        }
      });
    };
  }

  // A blocking task that waited in the worker queue longer than workerQueueSeconds: the client is
  // told to come back rather than kept waiting behind a backlog (a login flood, a slow store).
  static message::HttpResponse busyReply() {
    auto busy =
        message::faultReply(Failure::kOverloaded, "the server is busy; retry in a few seconds");
    busy.setHeader("Retry-After", "5");
    return busy;
  }

  static message::HttpResponse runLocal(const message::Local& local,
                                        message::HttpRequest& request) {
    try {
      return local.run(request);
    } catch (const std::exception& e) {
      log::error("unhandled exception in a request handler",
                 {{"path", request.path}, {"error", e.what()}});
    } catch (...) {
      log::error("unhandled exception in a request handler", {{"path", request.path}});
    }
    return message::faultReply(Failure::kInternalError, "the request could not be processed");
  }

  // The body of a request answered without it: read and dropped when small, so the connection
  // can serve the next request; otherwise the connection closes after the answer.
  awaitable<bool> discardBody(Connection& conn, InputBuffer& in, const RequestHead& head) {
    if (head.framing == Framing::kNone) co_return true;
    if (head.framing == Framing::kLength && head.contentLength > kMaxDiscardBytes) co_return false;
    if (head.expectContinue) co_return false;  // the client has not sent it: do not ask for it
    std::string sink;
    const Failure f = co_await readBody(conn, in, head, kMaxDiscardBytes, &sink);
    co_return f == Failure::kNone;
  }

  // Reads a whole request body into *body (at most maxBytes).
  awaitable<Failure> readBody(Connection& conn, InputBuffer& in, const RequestHead& head,
                              std::size_t maxBytes, std::string* body) {
    if (head.framing == Framing::kNone) co_return Failure::kNone;
    if (head.framing == Framing::kLength && head.contentLength > maxBytes)
      co_return Failure::kPayloadTooLarge;
    if (head.expectContinue) {
      conn.expiresAfter(seconds(options.writeTimeoutSeconds));
      if (co_await conn.write("HTTP/1.1 100 Continue\r\n\r\n")) co_return Failure::kRequestTimeout;
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

  // ---- the relay ----------------------------------------------------------------------------

  awaitable<std::unique_ptr<Connection>> connect(IoThread& t, const mgw::UpstreamTarget& target,
                                                 int timeoutSeconds, std::string* reason,
                                                 Failure* failure) {
    *failure = Failure::kBackendUnreachable;
    auto conn = std::make_unique<Connection>();
    beast::tcp_stream stream(t.io);
    stream.expires_after(seconds(timeoutSeconds));
    error_code ec;
    auto address = asio::ip::make_address(target.host, ec);
    if (!ec) {
      auto [cec] = co_await stream.async_connect(
          tcp::endpoint(address, static_cast<unsigned short>(target.port)), kAwait);
      ec = cec;
    } else {
      tcp::resolver resolver(t.io);
      auto [rec, results] =
          co_await resolver.async_resolve(target.host, std::to_string(target.port), kAwait);
      if (rec) {
        *reason = "cannot resolve " + target.host + ": " + rec.message();
        co_return nullptr;
      }
      auto [cec, endpoint] = co_await stream.async_connect(results, kAwait);
      ec = cec;
    }
    if (ec) {
      *reason = ec == beast::error::timeout
                    ? "connect timed out after " + std::to_string(timeoutSeconds) + " s"
                    : "connect failed: " + ec.message();
      if (ec == asio::error::connection_refused) *failure = Failure::kBackendRefused;
      co_return nullptr;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    if (!target.tls) {
      conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
      co_return conn;
    }
    conn->tls =
        std::make_unique<asio::ssl::stream<beast::tcp_stream>>(std::move(stream), clientTls);
    if (!prepareClientSsl(conn->tls->native_handle(), target)) {
      *reason = "cannot set up TLS verification for " + target.host;
      co_return nullptr;
    }
    auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::client, kAwait);
    if (hec) {
      *failure = Failure::kBackendTlsFailed;
      *reason = "TLS handshake failed: " +
                handshakeFailure(conn->tls->native_handle(),
                                 hec == beast::error::timeout ? "timed out" : hec.message());
      co_return nullptr;
    }
    co_return conn;
  }

  std::string upstreamHead(const RequestHead& head, const mgw::UpstreamTarget& target,
                           const message::ForwardPlan& plan, bool lastOnConnection) {
    std::string out;
    out.reserve(512);
    out += head.method;
    out += ' ';
    out += message::upstreamRequestTarget(target, plan);
    out += " HTTP/1.1\r\n";
    const auto options = connectionOptions(head.fields);
    for (const Field& f : head.fields) {
      const std::string& n = f.name;
      if (message::isHopByHopHeader(n) || listed(options, n) || equalsIgnoreCase(n, "Host") ||
          equalsIgnoreCase(n, "X-Forwarded-For") || equalsIgnoreCase(n, "X-Forwarded-Proto") ||
          equalsIgnoreCase(n, "X-Forwarded-Host") || equalsIgnoreCase(n, "Expect") ||
          listed(plan.dropHeaders, n) || owned(plan.setHeaders, n))
        continue;
      appendField(out, f.name, f.value);
    }
    for (const auto& [name, value] : plan.setHeaders) appendField(out, name, value);
    appendField(out, "Host", target.hostHeader);
    if (!plan.forwardedFor.empty()) appendField(out, "X-Forwarded-For", plan.forwardedFor);
    appendField(out, "X-Forwarded-Proto", plan.tls ? "https" : "http");
    if (!plan.forwardedHost.empty()) appendField(out, "X-Forwarded-Host", plan.forwardedHost);
    if (head.framing == Framing::kLength)
      appendField(out, "Content-Length", std::to_string(head.contentLength));
    else if (head.framing == Framing::kChunked)
      appendField(out, "Transfer-Encoding", "chunked");
    if (lastOnConnection) appendField(out, "Connection", "close");
    out += "\r\n";
    return out;
  }

  // The backend's head as the client gets it: hop-by-hop fields out, framing set here.
  // `added`: the gateway's own fields (X-Request-Id), replacing the backend's of that name; `plan`
  // (when set): the CORS fields to drop from the backend's answer and to append (SPEC section 15).
  static std::string clientHead(const ResponseHead& r, bool headRequest, bool chunkedToClient,
                                bool keepAlive, bool http10,
                                const std::vector<std::pair<std::string, std::string>>& added,
                                const message::ForwardPlan* plan = nullptr) {
    std::string out;
    out.reserve(512);
    out += "HTTP/1.1 ";
    out += std::to_string(r.status);
    out += ' ';
    out += r.reason;
    out += "\r\n";
    const auto options = connectionOptions(r.fields);
    // HEAD and 304 keep the backend's Content-Length: it describes the representation
    // (RFC 9110 sections 8.6 and 15.4.5).
    const bool keepLength = headRequest || r.status == 304;
    for (const Field& f : r.fields) {
      if (keepLength && equalsIgnoreCase(f.name, "Content-Length")) {
        appendField(out, f.name, f.value);
        continue;
      }
      if (message::isHopByHopHeader(f.name) || listed(options, f.name)) continue;
      if (r.status >= 200 && owned(added, f.name)) continue;
      if (plan && listed(plan->dropResponseHeaders, f.name)) continue;
      appendField(out, f.name, f.value);
    }
    if (r.status >= 200) {
      for (const auto& [name, value] : added) appendField(out, name, value);
      if (plan)
        for (const auto& [name, value] : plan->addResponseHeaders) appendField(out, name, value);
      if (r.framing == Framing::kLength)
        appendField(out, "Content-Length", std::to_string(r.contentLength));
      else if (r.framing == Framing::kChunked && chunkedToClient)
        appendField(out, "Transfer-Encoding", "chunked");
      else if (r.framing == Framing::kNone && !keepLength && r.status != 204)
        appendField(out, "Content-Length", "0");
      if (!keepAlive) appendField(out, "Connection", "close");
      if (keepAlive && http10) appendField(out, "Connection", "keep-alive");
    }
    out += "\r\n";
    return out;
  }

  // A backend fault before any byte of the answer reached the client: the fault reply, then close.
  awaitable<bool> failExchange(Connection& client, const RequestHead& head,
                               const message::ForwardPlan& plan, Outcome* outcome, Failure failure,
                               const std::string& description, const std::string& reason) {
    auto reply = message::faultReply(failure, description);
    for (const auto& [name, value] : plan.addResponseHeaders) reply.headers.emplace(name, value);
    outcome->status = reply.status;
    outcome->failure = failure;
    outcome->reason = reason;
    log::warn("backend failure",
              {{"api", plan.api}, {"reason", reason}, {"trace_id", plan.traceId}});
    auto answer = reply;
    for (const auto& [name, value] : plan.responseHeaders) answer.setHeader(name, value);
    co_await writeReply(client, answer, head.method == "HEAD", false);
    co_return false;
  }

  awaitable<bool> relay(IoThread& t, Connection& client, InputBuffer& in, const RequestHead& head,
                        const message::ForwardPlan& plan, bool keepAlive, Outcome* outcome) {
    // GCC 12 destroys temporaries in a co_await expression twice in some cases (a conditional
    // with std::string operands): every argument of a co_await call below is a named local.

    // The upstream latency runs from here to the backend's response head; while this exchange
    // holds a backend connection it counts as busy for its API.
    const auto upstreamStarted = steady_clock::now();
    struct Busy {
      observability::ApiId api;
      bool on = false;
      void set() {
        if (!on) observability::metrics().upstreamBusy(api, 1);
        on = true;
      }
      ~Busy() {
        if (on) observability::metrics().upstreamBusy(api, -1);
      }
    } busy{plan.metricsApi};

    // 1. A connection: pooled, or new (failover to the next endpoint on a connect failure only).
    std::unique_ptr<Connection> up;
    const mgw::UpstreamTarget* target = nullptr;
    bool reused = false;
    std::string reasons;
    Failure connectFailure = Failure::kBackendUnreachable;
    const std::size_t tries = plan.failover ? plan.targets.size() : 1;
    for (std::size_t i = 0; i < tries && !up; ++i) {
      target = &plan.targets[i];
      up = t.pool.take(target->origin);
      reused = up != nullptr;
      if (!up) {
        std::string reason;
        up = co_await connect(t, *target, plan.connectTimeoutSeconds, &reason, &connectFailure);
        if (!up) {
          if (!reasons.empty()) reasons += "; ";
          reasons += target->origin + ": " + reason;
        }
      }
    }
    if (!up) {
      std::string description = "the backend is unreachable";
      co_return co_await failExchange(client, head, plan, outcome, connectFailure, description,
                                      reasons);
    }
    busy.set();

    // 2. The request head, then the body as it arrives (no more than kChunk buffered).
    // A body on a method whose content has no defined meaning (RFC 9110 section 9.3) may be left
    // unread by the backend and parsed as a second request that never passed the gateway: the
    // backend is told to close after its answer, and the connection is never pooled.
    const bool lastOnConnection = bodyMayBeIgnored(head);
    const std::string upHead = upstreamHead(head, *target, plan, lastOnConnection);
    const seconds upTimeout(plan.timeoutSeconds);
    if (head.expectContinue && head.framing != Framing::kNone) {
      client.expiresAfter(seconds(options.writeTimeoutSeconds));
      if (co_await client.write("HTTP/1.1 100 Continue\r\n\r\n")) co_return false;
    }
    // A pooled connection the backend closed meanwhile fails on first use: a request without a
    // body is sent again on a new connection (RFC 9112 section 9.3.1), once.
    const bool retriable =
        head.framing == Framing::kNone &&
        (head.method == "GET" || head.method == "HEAD" || head.method == "OPTIONS" ||
         head.method == "PUT" || head.method == "DELETE");
    InputBuffer upIn;
    ResponseHead response;
    std::size_t responseHeadSize = 0;
    for (int round = 0;; ++round) {
      up->expiresAfter(upTimeout);
      // The head and the body bytes already read go out in one system call.
      std::uint64_t sent = 0;
      if (head.framing == Framing::kLength)
        sent = std::min<std::uint64_t>(head.contentLength, in.size());
      const std::array<asio::const_buffer, 2> first = {
          asio::buffer(upHead), asio::buffer(in.view().data(), static_cast<std::size_t>(sent))};
      error_code ec = co_await up->writeAll(first);
      in.consume(static_cast<std::size_t>(sent));
      if (!ec) {
        Failure bodyFailure = co_await sendBody(client, in, head, sent, *up, upTimeout, &ec);
        if (bodyFailure != Failure::kNone) {
          up->close();
          if (bodyFailure == Failure::kRequestTimeout) {
            client.close();
            outcome->failure = bodyFailure;
            co_return false;
          }
          std::string description =
              bodyFailure == Failure::kPayloadTooLarge
                  ? "the request body exceeds [listenerConfig] maxRequestBytes"
                  : "the request body is not valid chunked encoding";
          std::string reason = "client body refused";
          co_return co_await failExchange(client, head, plan, outcome, bodyFailure, description,
                                          reason);
        }
      }
      // 3. The response head (1xx interim answers relayed to HTTP/1.1 clients).
      std::size_t scanned = 0;
      WireError error;
      bool any = false;
      while (!ec) {
        responseHeadSize = findHeadEnd(upIn.view(), kMaxResponseHeadBytes, &scanned, &error);
        if (error) break;
        if (responseHeadSize > 0) {
          error =
              parseResponseHead(upIn.view().substr(0, responseHeadSize), head.method, &response);
          if (error) break;
          if (response.status >= 200) break;
          upIn.consume(responseHeadSize);
          scanned = 0;
          if (response.status == 101) {
            error = WireError{Failure::kBadFraming, "the backend switched protocols (101)"};
            break;
          }
          if (response.status != 100 && head.versionMinor >= 1) {
            client.expiresAfter(seconds(options.writeTimeoutSeconds));
            const std::string interim = clientHead(response, false, false, true, false, {}, &plan);
            if (co_await client.write(interim)) co_return false;
          }
          continue;
        }
        ec = co_await upIn.readMore(*up, 16384);
        any = any || !upIn.empty();
      }
      if (!ec && !error) break;
      up->close();
      if (ec && ec != beast::error::timeout && reused && retriable && round == 0 && !any) {
        std::string reason;
        up = co_await connect(t, *target, plan.connectTimeoutSeconds, &reason, &connectFailure);
        if (!up) {
          std::string description = "the backend is unreachable";
          std::string why = target->origin + ": " + reason;
          co_return co_await failExchange(client, head, plan, outcome, connectFailure, description,
                                          why);
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
      co_return co_await failExchange(client, head, plan, outcome, failure, description, why);
    }
    upIn.consume(responseHeadSize);
    {
      const auto upstreamTime = steady_clock::now() - upstreamStarted;
      outcome->upstreamNanos =
          std::chrono::duration_cast<std::chrono::nanoseconds>(upstreamTime).count();
      observability::metrics().observeUpstream(plan.metricsApi, upstreamTime);
    }

    // 4. The response: head, then the body streamed with bounded buffers.
    const bool headRequest = head.method == "HEAD";
    const bool chunkedToClient = response.framing == Framing::kChunked && head.versionMinor >= 1;
    if (response.framing == Framing::kUntilClose ||
        (response.framing == Framing::kChunked && !chunkedToClient))
      keepAlive = false;
    outcome->status = response.status;
    client.expiresAfter(seconds(options.writeTimeoutSeconds));
    const std::string responseHead = clientHead(response, headRequest, chunkedToClient, keepAlive,
                                                client.http10, plan.responseHeaders, &plan);
    // The head and the body bytes already read go out in one system call.
    std::uint64_t remaining = response.contentLength;
    std::size_t withHead = 0;
    if (response.framing == Framing::kLength)
      withHead = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, upIn.size()));
    const std::array<asio::const_buffer, 2> headAndBody = {
        asio::buffer(responseHead), asio::buffer(upIn.view().data(), withHead)};
    if (co_await client.writeAll(headAndBody)) {
      up->close();
      co_return false;
    }
    upIn.consume(withHead);
    remaining -= withHead;
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
          client.expiresAfter(seconds(options.writeTimeoutSeconds));
          wec = co_await client.write(upIn.view().substr(0, take));
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
          std::string framed;
          if (chunkedToClient && !payload.empty()) framed = hex(payload.size()) + "\r\n";
          framed += payload;
          if (chunkedToClient && !payload.empty()) framed += "\r\n";
          if (chunkedToClient && decoder.done()) framed += "0\r\n\r\n";
          client.expiresAfter(seconds(options.writeTimeoutSeconds));
          wec = co_await client.write(framed);
        }
        if (decoder.done()) {
          complete = true;
          break;
        }
      } else {  // kUntilClose
        if (!upIn.empty()) {
          client.expiresAfter(seconds(options.writeTimeoutSeconds));
          wec = co_await client.write(upIn.view());
          upIn.consume(upIn.size());
        }
      }
      if (wec) break;  // the client went away
      up->expiresAfter(upTimeout);
      const error_code rec = co_await upIn.readMore(*up, kChunk);
      if (rec) {
        if (rec == asio::error::eof && response.framing == Framing::kUntilClose) {
          if (!upIn.empty()) {
            client.expiresAfter(seconds(options.writeTimeoutSeconds));
            co_await client.write(upIn.view());
          }
          complete = true;
          response.keepAlive = false;
        } else {
          outcome->reason = "the backend's answer broke off: " + rec.message();
        }
        break;
      }
    }
    if (complete && response.keepAlive && upIn.empty() && !lastOnConnection)
      t.pool.put(target->origin, std::move(up), plan.metricsApi);
    else
      up->close();
    if (!complete) co_return false;  // the client saw a cut answer: close, never reuse
    co_return keepAlive;
  }

  // Streams the request body to the backend: Content-Length bytes, or chunked re-framed by us.
  awaitable<Failure> sendBody(Connection& client, InputBuffer& in, const RequestHead& head,
                              std::uint64_t alreadySent, Connection& up, seconds upTimeout,
                              error_code* upError) {
    if (head.framing == Framing::kNone) co_return Failure::kNone;
    std::uint64_t remaining = head.contentLength - alreadySent;
    ChunkedDecoder decoder(options.maxRequestBytes);
    std::string payload;
    for (;;) {
      if (head.framing == Framing::kLength) {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in.size()));
        if (take > 0) {
          up.expiresAfter(upTimeout);
          *upError = co_await up.write(in.view().substr(0, take));
          in.consume(take);
          remaining -= take;
          if (*upError) co_return Failure::kNone;
        }
        if (remaining == 0) co_return Failure::kNone;
      } else {
        WireError error;
        payload.clear();
        const std::size_t used = decoder.feed(in.view(), &payload, &error);
        in.consume(used);
        if (error) co_return error.failure;
        if (!payload.empty() || decoder.done()) {
          std::string framed;
          if (!payload.empty()) framed = hex(payload.size()) + "\r\n" + payload + "\r\n";
          if (decoder.done()) framed += "0\r\n\r\n";
          up.expiresAfter(upTimeout);
          *upError = co_await up.write(framed);
          if (*upError) co_return Failure::kNone;
        }
        if (decoder.done()) co_return Failure::kNone;
      }
      client.expiresAfter(seconds(options.bodyTimeoutSeconds));
      if (co_await in.readMore(client, kChunk)) co_return Failure::kRequestTimeout;
    }
  }
};

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() {
  if (!impl_->threads.empty() && impl_->threads.front()->thread.joinable()) stop(seconds(0));
}

bool Server::start(std::string* error) {
  auto& o = impl_->options;
  // Every connection costs a descriptor, a proxied one two: raise the soft limit to fit.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    const rlim_t wanted = static_cast<rlim_t>(o.maxConnections) * 2 + 256;
    if (limit.rlim_cur < wanted) {
      rlimit raised = limit;
      raised.rlim_cur = std::min(wanted, limit.rlim_max);
      if (setrlimit(RLIMIT_NOFILE, &raised) != 0 || raised.rlim_cur < wanted)
        log::warn("the open-file limit is below what maxConnections needs",
                  {{"limit", static_cast<long long>(raised.rlim_cur)},
                   {"needed", static_cast<long long>(wanted)},
                   {"fix", "raise the hard limit (ulimit -Hn, LimitNOFILE=, --ulimit nofile=)"}});
    }
  }
  if (o.httpsPort != -1) {
    if (!o.tlsKey || !o.tlsCertificate) {
      *error = "the HTTPS listener needs a TLS key and certificate";
      return false;
    }
    if (!configureServerContext(impl_->serverTls, o.tlsKey, o.tlsCertificate, error)) return false;
  }
  std::string note;
  configureClientContext(impl_->clientTls, o.trustStorePath, &note);
  log::info("upstream TLS trust", {{"detail", note}});

  impl_->workers = std::make_unique<asio::thread_pool>(std::max(1, o.workerThreads));
  for (int i = 0; i < std::max(1, o.ioThreads); ++i)
    impl_->threads.push_back(std::make_unique<IoThread>());
  if (!impl_->bindAll(error)) {
    impl_->threads.clear();
    return false;
  }
  for (auto& t : impl_->threads) {
    IoThread& thread = *t;
    for (auto& acceptor : thread.acceptors)
      asio::co_spawn(thread.io, impl_->acceptLoop(thread, *acceptor.socket, acceptor.listener),
                     asio::detached);
    asio::co_spawn(thread.io, impl_->sweepLoop(thread), asio::detached);
    thread.thread = std::thread([&thread] {
      for (;;) {
        try {
          thread.io.run();
          return;
        } catch (const std::exception& e) {
          log::error("I/O thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
  impl_->accepting = true;
  return true;
}

int Server::httpPort() const { return impl_->httpPort; }
int Server::httpsPort() const { return impl_->httpsPort; }
int Server::metricsPort() const { return impl_->metricsPort; }
bool Server::accepting() const { return impl_->accepting && !impl_->draining; }

void Server::stop(seconds drain) {
  impl_->draining = true;
  for (auto& t : impl_->threads) {
    asio::post(t->io, [&thread = *t] {
      error_code ec;
      for (auto& a : thread.acceptors) a.socket->close(ec);
      // Idle keep-alive connections have no exchange to finish.
      for (Connection* c : thread.idle) c->lowest().socket().close(ec);
      thread.idle.clear();
    });
  }
  const auto deadline = steady_clock::now() + drain;
  while (impl_->connections.load() > 0 && steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& t : impl_->threads) {
    asio::post(t->io, [&thread = *t] { thread.pool.clear(); });
    t->io.stop();
  }
  for (auto& t : impl_->threads)
    if (t->thread.joinable()) t->thread.join();
  if (impl_->workers) impl_->workers->join();
}

}  // namespace mgw::http
