#include "http/listener.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
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

asio::awaitable<void> acceptLoop(ServerContext& ctx, IoThread& t, tcp::acceptor& acceptor,
                                 Listener listener) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec) {
      if (!acceptor.is_open() || ctx.draining) co_return;
      // Out of file descriptors or a transient error: back off briefly, never spin.
      asio::steady_timer timer(t.io, std::chrono::milliseconds(50));
      co_await timer.async_wait(kAwait);
      continue;
    }
    if (ctx.connections.load(std::memory_order_relaxed) >= ctx.options.maxConnections) {
      error_code ignored;
      socket.close(ignored);  // over maxConnections: refused at once, like a full backlog
      continue;
    }
    ctx.connections.fetch_add(1, std::memory_order_relaxed);
    observability::metrics().connectionOpened(listener);
    asio::co_spawn(t.io, h1Session(ctx, t, std::move(socket), listener),
                   [&ctx, listener](std::exception_ptr e) {
                     ctx.connections.fetch_sub(1, std::memory_order_relaxed);
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
