// Forwards a validated request to an API's backend and relays the answer: strips the API key and
// hop-by-hop headers, sets X-Forwarded-*, reuses keep-alive connections, fails over on connect
// errors. Trusts the caller's routing decision; trusts nothing the backend sends.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "gateway/api.h"
#include "gateway/http_message.h"

namespace mgw::gateway {

struct ProxyOptions {
  std::string
      trustStorePath;  // folder of PEM CA certificates or a PEM bundle file; "" = system default
  int connectTimeoutSeconds = 5;
  size_t maxIdleConnectionsPerHost = 64;
};

class UpstreamPool;

// Thread-safe: one Proxy serves all requests.
class Proxy {
 public:
  explicit Proxy(ProxyOptions options);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Sends `in` to the endpoint URL's path + backendPath (backendPath decoded, like in.path) and
  // returns the backend's answer minus hop-by-hop headers. On failure the returned response is
  // meaningless, *failure is kBackendUnreachable (connect error, TLS error, malformed answer) or
  // kBackendTimeout (no answer within api.timeoutSeconds), and *reason says exactly what happened
  // without the key. On success *failure is kNone and *reason is empty, or lists the endpoints
  // that failed before one answered. Never throws.
  HttpResponse forward(const HttpRequest& in, const ApiDefinition& api, const Endpoints& endpoints,
                       std::string_view backendPath, Failure* failure, std::string* reason);

  // Idle pooled connections to one endpoint URL's origin (for tests and metrics).
  size_t idleConnections(std::string_view endpointUrl);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgw::gateway
