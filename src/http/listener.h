// The listeners: one acceptor per I/O thread and port (SO_REUSEPORT: the kernel spreads the
// connections), the connection budgets enforced at accept (maxConnections for the HTTP and HTTPS
// listeners, with the longest-idle connection closed to make room; maxConnectionsPerAddress; the
// observability listener's own budget), each accepted connection served by an HTTP/1.1 session;
// and the timer that sweeps each thread's upstream pool.
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

// The group a client address counts in for maxConnectionsPerAddress: an IPv4 address (also when
// IPv4-mapped), or the /64 of an IPv6 address (one host or LAN gets a /64: counting single IPv6
// addresses would give a client 2^64 budgets). Bytes, not text.
std::string addressGroup(const asio::ip::address& address);

// Accepts until the acceptor closes. A gateway connection from an address group at
// maxConnectionsPerAddress is closed at once; at maxConnections the connection that has waited
// longest for a request is closed to make room (nginx's reusable connections), and only when no
// connection waits is the new one closed at once. The observability listener counts against
// metricsMaxConnections only.
asio::awaitable<void> acceptLoop(ServerContext& ctx, IoThread& t, asio::ip::tcp::acceptor& acceptor,
                                 observability::Listener listener);

// Sweeps t's upstream pool every 5 seconds until the server drains.
asio::awaitable<void> sweepLoop(ServerContext& ctx, IoThread& t);

}  // namespace mgw::http
