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
#include <vector>

#include "config/config.h"
#include "http/tls.h"
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
  int maxConnections = 10000;  // the HTTP and HTTPS listeners together
  // Connections from one client address (IPv6: one /64) on the HTTP and HTTPS listeners; 0 = no
  // cap. Addresses in uncappedAddresses (the trusted proxies, which speak for many clients) are
  // not capped.
  int maxConnectionsPerAddress = 256;
  std::vector<std::string> uncappedAddresses;  // addresses and CIDR ranges
  std::size_t maxHeaderBytes = 16384;
  std::size_t maxHeaderCount = 100;
  std::uint64_t maxRequestBytes = 10 * 1024 * 1024;
  int headerTimeoutSeconds = 10;
  int bodyTimeoutSeconds = 30;
  // A body slower than this on average after kBodyRateGraceSeconds: 408. 0 = no minimum.
  int minBodyBytesPerSecond = 240;
  // A forwarded body of at most requestBufferBytes is read whole before a backend connection is
  // taken (a chunked one: up to that much, then it streams).
  bool requestBuffering = true;
  std::size_t requestBufferBytes = 1024 * 1024;
  // Backend connections in use at once per origin, all I/O threads together.
  int maxConnectionsPerBackend = 256;
  int writeTimeoutSeconds = 30;
  int keepAliveTimeoutSeconds = 5;
  int keepAliveMaxRequests = 1000;
  // HTTP/2 to clients: h2 by ALPN on HTTPS, h2c with prior knowledge on HTTP (when cleartext),
  // the limits of a connection. keepAliveTimeoutSeconds closes an idle one (GOAWAY).
  config::Http2Config http2;
  // Strict-Transport-Security: max-age on every answer of the TLS listener (RFC 6797); 0 = off.
  int hstsMaxAge = 31536000;
  // The Strict-Transport-Security field value, "" when off: one text for HTTP/1.1 and HTTP/2.
  std::string hstsValue() const {
    return hstsMaxAge > 0 ? "max-age=" + std::to_string(hstsMaxAge) : std::string();
  }
  // A blocking task that waited longer than this in the worker queue is answered 503.
  int workerQueueSeconds = 10;
  // The observability listener (plain HTTP, SPEC section 12): its own host and port, answered by
  // metricsHandler. -1 = off.
  std::string metricsHost = "127.0.0.1";
  int metricsPort = -1;
  // The observability listener's own budget, apart from maxConnections: a full gateway never
  // takes the liveness probe's slot.
  int metricsMaxConnections = 64;
  message::Handler* metricsHandler = nullptr;  // borrowed
  std::string trustStorePath;  // extra CAs for HTTPS backends (folder or PEM bundle), besides the
                               // system's; absent or empty is not an error
  std::string trustStorePem;   // more of them as PEM text (a PKCS#12 truststore's certificates)
  // Client certificates on the HTTPS listener (mutual TLS), verified against the truststore above
  // (not the system CAs) and the CRLs of clientCrlPath when given.
  ClientCertificates clientCertificates = ClientCertificates::kOff;
  std::string clientCrlPath;
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
