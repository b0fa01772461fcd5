#include "http/listener.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>

#include "common/log.h"
#include "http/h1_session.h"

namespace mgw::http {

using asio::ip::tcp;
using observability::Listener;

bool bindListeners(ServerContext& ctx, std::string* error) {
  const ServerOptions& options = ctx.options;
  for (Listener listener : {Listener::kHttp, Listener::kHttps, Listener::kMetrics}) {
    int& port = listener == Listener::kHttp    ? ctx.httpPort
                : listener == Listener::kHttps ? ctx.httpsPort
                                               : ctx.metricsPort;
    const int configured = listener == Listener::kHttp    ? options.httpPort
                           : listener == Listener::kHttps ? options.httpsPort
                                                          : options.metricsPort;
    if (configured == -1) continue;
    if (listener == Listener::kMetrics && !options.metricsHandler) continue;
    const std::string& host = listener == Listener::kMetrics ? options.metricsHost : options.host;
    error_code parsed;
    const auto address = asio::ip::make_address(host, parsed);
    if (parsed) {
      *error = "cannot listen on " + host + ": not an IP address";
      return false;
    }
    if (configured > 0 && !ctx.threads.empty()) {
      // SO_REUSEPORT lets this process's I/O threads share the port, and would let a second
      // process join it without a word (the kernel would then split the connections between two
      // gateways). A socket without SO_REUSEPORT cannot bind a port anything listens on: a port
      // already in use is a start error naming it, as nginx and HAProxy report it.
      error_code ec;
      tcp::acceptor probe(ctx.threads.front()->io);
      const tcp::endpoint endpoint(address, static_cast<unsigned short>(configured));
      probe.open(endpoint.protocol(), ec);
      if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) probe.bind(endpoint, ec);
      error_code ignored;
      probe.close(ignored);
      if (ec) {
        *error =
            "cannot listen on " + host + ":" + std::to_string(configured) + ": " + ec.message();
        return false;
      }
    }
    int bound = configured;
    for (auto& t : ctx.threads) {
      error_code ec;
      auto acceptor = std::make_unique<tcp::acceptor>(t->io);
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

void IoThread::markIdle(Connection* c, bool gateway) {
  if (c->idleSlot != Connection::kNotIdle) return;  // already waiting: keeps its first time
  c->idleSlot = idle.size();
  idle.push_back(IdleConnection{c, std::chrono::steady_clock::now(), gateway});
  if (gateway) idleGateway.fetch_add(1, std::memory_order_relaxed);
}

void IoThread::markBusy(Connection* c) {
  const std::size_t slot = c->idleSlot;
  if (slot == Connection::kNotIdle) return;
  if (idle[slot].gateway) idleGateway.fetch_sub(1, std::memory_order_relaxed);
  if (slot + 1 != idle.size()) {
    idle[slot] = idle.back();
    idle[slot].connection->idleSlot = slot;
  }
  idle.pop_back();
  c->idleSlot = Connection::kNotIdle;
}

bool IoThread::closeOldestIdle() {
  auto oldest = idle.end();
  for (auto it = idle.begin(); it != idle.end(); ++it)
    if (it->gateway && (oldest == idle.end() || it->since < oldest->since)) oldest = it;
  if (oldest == idle.end()) return false;
  Connection* c = oldest->connection;
  markBusy(c);
  // Its pending read fails: the session ends without an answer, as a keep-alive timeout ends it
  // (the client had sent nothing; an HTTP client retries an idempotent request on a new one).
  error_code ec;
  c->lowest().socket().close(ec);
  return true;
}

bool SlotTable::take(const std::string& group, int cap) {
  std::lock_guard<std::mutex> lock(mutex_);
  int& held = held_[group];
  if (cap > 0 && held >= cap) {
    if (held == 0) held_.erase(group);
    return false;
  }
  ++held;
  return true;
}

void SlotTable::give(const std::string& group) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(group);
  if (it == held_.end()) return;
  if (--it->second <= 0) held_.erase(it);
}

int SlotTable::held(const std::string& group) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(group);
  return it == held_.end() ? 0 : it->second;
}

std::string addressGroup(const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    return std::string(bytes.begin(), bytes.end());
  }
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    const auto bytes = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
    return std::string(bytes.begin(), bytes.end());
  }
  const auto bytes = v6.to_bytes();
  return std::string(bytes.begin(), bytes.begin() + 8);  // the /64
}

namespace {

// At maxConnections: closes the connection that has waited longest for a request, on this thread
// (no lock), else asks another thread that has one (the new connection is served meanwhile:
// the budget is exceeded for as long as that post takes). False when no connection waits.
bool makeRoom(ServerContext& ctx, IoThread& t) {
  if (t.closeOldestIdle()) return true;
  for (auto& other : ctx.threads) {
    if (other.get() == &t || other->idleGateway.load(std::memory_order_relaxed) == 0) continue;
    asio::post(other->io, [&u = *other] { u.closeOldestIdle(); });
    return true;
  }
  return false;
}

}  // namespace

asio::awaitable<void> acceptLoop(ServerContext& ctx, IoThread& t, tcp::acceptor& acceptor,
                                 Listener listener) {
  const bool gateway = listener != Listener::kMetrics;
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec) {
      if (!acceptor.is_open() || ctx.draining) co_return;
      // Out of file descriptors or a transient error: back off briefly, never spin.
      asio::steady_timer timer(t.io, std::chrono::milliseconds(50));
      co_await timer.async_wait(kAwait);
      continue;
    }
    std::string group;  // the address group holding a slot ("" = none)
    if (gateway) {
      error_code pe;
      const auto peer = socket.remote_endpoint(pe);
      bool admitted = !pe;
      if (admitted) {
        const bool capped = ctx.options.maxConnectionsPerAddress > 0 &&
                            !ctx.uncapped.matches(peer.address().to_string());
        if (capped) {
          group = addressGroup(peer.address());
          admitted = ctx.addressSlots.take(group, ctx.options.maxConnectionsPerAddress);
          if (!admitted) group.clear();
        }
      }
      if (admitted &&
          ctx.gatewayConnections.load(std::memory_order_relaxed) >= ctx.options.maxConnections)
        admitted = makeRoom(ctx, t);
      if (!admitted) {
        if (!group.empty()) ctx.addressSlots.give(group);
        error_code ignored;
        socket.close(ignored);  // over a budget: refused at once, like a full backlog
        continue;
      }
      ctx.gatewayConnections.fetch_add(1, std::memory_order_relaxed);
    } else {
      if (ctx.metricsConnections.load(std::memory_order_relaxed) >=
          ctx.options.metricsMaxConnections) {
        error_code ignored;
        socket.close(ignored);
        continue;
      }
      ctx.metricsConnections.fetch_add(1, std::memory_order_relaxed);
    }
    ctx.connections.fetch_add(1, std::memory_order_relaxed);
    observability::metrics().connectionOpened(listener);
    asio::co_spawn(t.io, h1Session(ctx, t, std::move(socket), listener),
                   [&ctx, listener, gateway, group = std::move(group)](std::exception_ptr e) {
                     ctx.connections.fetch_sub(1, std::memory_order_relaxed);
                     (gateway ? ctx.gatewayConnections : ctx.metricsConnections)
                         .fetch_sub(1, std::memory_order_relaxed);
                     if (!group.empty()) ctx.addressSlots.give(group);
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

asio::awaitable<void> sweepLoop(ServerContext& ctx, IoThread& t) {
  asio::steady_timer timer(t.io);
  while (!ctx.draining) {
    timer.expires_after(std::chrono::seconds(5));
    co_await timer.async_wait(kAwait);
    t.pool.sweep();
    t.h2pool.sweep();
  }
}

}  // namespace mgw::http
