// What the parts of the transport share: the options, the handlers, both TLS contexts, the worker
// pool, and per I/O thread its acceptors, its upstream pool and its idle client connections.
// Internal to the transport.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/ip_matcher.h"
#include "http/connection.h"
#include "http/h2_upstream.h"
#include "http/server.h"
#include "http/upstream_pool.h"
#include "message/handler.h"
#include "observability/metrics.h"

namespace mgw::http {

struct Acceptor {
  std::unique_ptr<asio::ip::tcp::acceptor> socket;
  observability::Listener listener;
};

class H2Connection;

// A client connection waiting for a request (its first, or the next on a kept-alive connection).
struct IdleConnection {
  Connection* connection = nullptr;
  std::chrono::steady_clock::time_point since;
  bool gateway = true;  // on the HTTP or HTTPS listener (not the observability one)
};

struct IoThread {
  asio::io_context io{1};
  std::vector<Acceptor> acceptors;  // http, https, metrics as configured
  UpstreamPool pool;
  // This thread's waiting connections, each at its Connection::idleSlot: marking one idle or busy
  // (every request) allocates nothing once the vector has grown.
  std::vector<IdleConnection> idle;
  std::atomic<int> idleGateway{0};  // gateway connections in `idle` (read by other threads)
  H2UpstreamPool h2pool{io};        // HTTP/2 backends (h2c://, h2://): multiplexed connections
  std::unordered_set<H2Connection*> http2;  // HTTP/2 connections (GOAWAY when draining)
  std::thread thread;

  void markIdle(Connection* c, bool gateway);
  void markBusy(Connection* c);
  // Closes the gateway connection that has waited longest for a request (its session ends as a
  // quiet close); false when there is none. On this thread only.
  bool closeOldestIdle();
};

// Counted slots per key, across I/O threads: connections per client address group (an IPv4
// address, an IPv6 /64), backend connections in use per origin.
class SlotTable {
 public:
  // False when `group` already holds `cap` connections (nothing taken); cap 0 = no cap.
  bool take(const std::string& group, int cap);
  void give(const std::string& group);
  int held(const std::string& group);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, int> held_;
};

struct ServerContext {
  ServerContext(ServerOptions o, message::Handler& h) : options(std::move(o)), handler(h) {}

  ServerOptions options;
  message::Handler& handler;
  asio::ssl::context serverTls{asio::ssl::context::tls_server};
  asio::ssl::context clientTls{asio::ssl::context::tls_client};
  std::unique_ptr<asio::thread_pool> workers;
  std::vector<std::unique_ptr<IoThread>> threads;
  std::atomic<int> connections{0};         // every listener (the drain waits for them)
  std::atomic<int> gatewayConnections{0};  // HTTP and HTTPS: maxConnections
  std::atomic<int> metricsConnections{0};  // observability: metricsMaxConnections
  SlotTable addressSlots;                  // maxConnectionsPerAddress
  SlotTable backendSlots;                  // maxConnectionsPerBackend, by origin
  IpMatcher uncapped;                      // options.uncappedAddresses, parsed at start
  std::atomic<bool> draining{false};
  int httpPort = -1;
  int httpsPort = -1;
  int metricsPort = -1;
  std::atomic<bool> accepting{false};
};

}  // namespace mgw::http
