// What the parts of the transport share: the options, the handlers, both TLS contexts, the worker
// pool, and per I/O thread its acceptors, its upstream pool and its idle client connections.
// Internal to the transport.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <thread>
#include <unordered_set>
#include <vector>

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

struct IoThread {
  asio::io_context io{1};
  std::vector<Acceptor> acceptors;  // http, https, metrics as configured
  UpstreamPool pool;
  H2UpstreamPool h2pool{io};             // HTTP/2 backends (h2c://, h2://): multiplexed connections
  std::unordered_set<Connection*> idle;  // client connections waiting for a next request
  std::unordered_set<H2Connection*> http2;  // HTTP/2 connections (GOAWAY when draining)
  std::thread thread;
};

struct ServerContext {
  ServerContext(ServerOptions o, message::Handler& h) : options(std::move(o)), handler(h) {}

  ServerOptions options;
  message::Handler& handler;
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
};

}  // namespace mgw::http
