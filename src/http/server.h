// The event-driven HTTP/1.1 server and upstream client (Boost.Asio): `ioThreads` event loops,
// each with its own acceptors (SO_REUSEPORT), connections and upstream pools; a worker pool for
// blocking work. Strict RFC 9112 framing and every limit enforced while reading (SPEC section
// 10). Knows nothing of APIs, keys or users: it asks the Handler.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "message/handler.h"

namespace mgw::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int httpPort = -1;               // 0 = any free port, -1 = off
  int httpsPort = -1;              // needs tlsKey and tlsCertificate
  EVP_PKEY* tlsKey = nullptr;      // borrowed for the server's lifetime
  X509* tlsCertificate = nullptr;  // borrowed
  int ioThreads = 1;
  int workerThreads = 1;
  int maxConnections = 10000;
  std::size_t maxHeaderBytes = 16384;
  std::size_t maxHeaderCount = 100;
  std::uint64_t maxRequestBytes = 10 * 1024 * 1024;
  int headerTimeoutSeconds = 10;
  int bodyTimeoutSeconds = 30;
  int writeTimeoutSeconds = 30;
  int keepAliveTimeoutSeconds = 5;
  int keepAliveMaxRequests = 1000;
  // HTTP/2 to clients: h2 by ALPN on HTTPS, h2c with prior knowledge on HTTP (when cleartext),
  // the limits of a connection. keepAliveTimeoutSeconds closes an idle one (GOAWAY).
  config::Http2Config http2;
  // A blocking task that waited longer than this in the worker queue is answered 503.
  int workerQueueSeconds = 10;
  // The observability listener (plain HTTP, SPEC section 12): its own host and port, answered by
  // metricsHandler. -1 = off.
  std::string metricsHost = "127.0.0.1";
  int metricsPort = -1;
  message::Handler* metricsHandler = nullptr;  // borrowed
  std::string trustStorePath;  // extra CAs for HTTPS backends (folder or PEM bundle), besides the
                               // system's; absent or empty is not an error
};

class Server {
 public:
  Server(ServerOptions options, message::Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds both listeners and starts the threads. False with *error set when a port cannot be
  // bound or the TLS context cannot be made.
  bool start(std::string* error);
  int httpPort() const;
  int httpsPort() const;
  int metricsPort() const;
  // True from a successful start until stop(): the listeners accept connections.
  bool accepting() const;
  // Stops accepting, lets in-flight exchanges finish (at most `drain`), closes idle
  // connections, joins every thread.
  void stop(std::chrono::seconds drain);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgw::http
