// The listeners: one acceptor per I/O thread and port (SO_REUSEPORT: the kernel spreads the
// connections), maxConnections enforced at accept, each accepted connection served by an HTTP/1.1
// session; and the timer that sweeps each thread's upstream pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "http/server_context.h"
#include "observability/metrics.h"

namespace mgw::http {

// Binds the HTTP, HTTPS and metrics listeners as configured, on every I/O thread, and records the
// ports bound. False with *error set when one cannot be bound.
bool bindListeners(ServerContext& ctx, std::string* error);

// Accepts until the acceptor closes; over maxConnections a connection is closed at once.
asio::awaitable<void> acceptLoop(ServerContext& ctx, IoThread& t, asio::ip::tcp::acceptor& acceptor,
                                 observability::Listener listener);

// Sweeps t's upstream pool every 5 seconds until the server drains.
asio::awaitable<void> sweepLoop(ServerContext& ctx, IoThread& t);

}  // namespace mgw::http
