// What the gateway decided to send to a backend: the request target, the fields it owns (key,
// X-Forwarded-*), the endpoints in the order to try them, and the timeouts. The transport relays
// everything else as received (SPEC section 10).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/endpoint_url.h"
#include "message/body_check.h"
#include "message/fault_reply.h"

namespace mgw::message {

struct ForwardPlan {
  std::vector<UpstreamTarget> targets;  // the first is tried first
  bool failover = false;                // try the next target on a connect failure
  std::string rawPath;   // the path after the API context, as received ("/" at least)
  std::string rawQuery;  // the query as received, less the API key parameter
  std::vector<std::string> dropHeaders;  // the API key's header names (unless propagated)
  std::string forwardedFor;              // X-Forwarded-For to send: the chain plus the TCP peer
  std::string forwardedHost;             // X-Forwarded-Host ("" = none)
  bool tls = false;                      // X-Forwarded-Proto
  int timeoutSeconds = 30;
  int connectTimeoutSeconds = 5;
  std::string api;               // "Name:version", for logs
  std::uint32_t metricsApi = 0;  // the API's id in the metrics registry (0 = none)
  std::string traceId;           // the W3C trace id this exchange belongs to, for logs
  // Fields the gateway owns (traceparent, X-Request-Id): sent instead of any the client sent
  // under the same name, so a backend never sees two.
  std::vector<std::pair<std::string, std::string>> setHeaders;
  // Fields added to the client's answer, replacing the backend's of the same name.
  std::vector<std::pair<std::string, std::string>> responseHeaders;
  // CORS (SPEC section 15): fields appended to the client's answer (Vary: Origin is appended, never
  // replacing the backend's Vary) and fields removed from the backend's answer (the
  // Access-Control-* fields the gateway owns when the API has CORS on).
  std::vector<std::pair<std::string, std::string>> addResponseHeaders;
  std::vector<std::string> dropResponseHeaders;
  // How a backend fault is answered: the JSON fault body, or grpc-status for a gRPC call.
  FaultFormat faultFormat = FaultFormat::kJson;
  // Schema validation of the bodies (issue 27); null: both stream unchecked.
  std::shared_ptr<const BodyCheck> bodyCheck;
};

// The origin-form target for one endpoint: its base path joined with the request's path, its
// base query before the request's query.
std::string upstreamRequestTarget(const UpstreamTarget& target, const ForwardPlan& plan);

// The raw path after the first `segments` segments (the API context), "/" when nothing is left.
std::string rawPathAfter(std::string_view rawPath, std::size_t segments);

}  // namespace mgw::message
