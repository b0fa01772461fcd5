// The access log line (one per request, SPEC section 12) and the request metrics, written when the
// transport reports how the exchange ended. The line is formatted straight into a buffer (no JSON
// object per request) and handed to log::accessLine, which writes lines in batches.
// Trusts its caller: nothing here holds a key or a password (keys are named by jti/fingerprint).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "message/handler.h"
#include "observability/metrics.h"

namespace mgw::gateway {

struct AccessEntry {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::string api;  // "Name:version" once routed
  Failure failure = Failure::kNone;
  std::string reason;  // the gateway's exact reason ("" = the transport's, if any)
  std::string keyId;
  std::string plan;  // the API's plan (issue 26 item 1); "" = none or the implicit one
  // Observability (SPEC section 12): the metrics labels and the trace.
  observability::ApiId apiId = observability::kNoApiId;
  observability::Method method = observability::Method::kOther;
  std::string traceId;
  std::string requestId;
};

// The whole line (without the newline): {"api":...,"type":"access",...} with
// the same fields, order and escaping as the nlohmann::json object it replaces (keys sorted,
// invalid UTF-8 replaced by U+FFFD).
void formatAccessLine(const AccessEntry& entry, const message::HttpRequest& request,
                      const message::Outcome& outcome, std::chrono::nanoseconds elapsed,
                      std::string& out);

// Below this many microseconds (10 s) appendMillis writes the digits itself; AccessLogTest checks
// every value below it against the library's output.
inline constexpr std::int64_t kExactMillisBelow = 10'000'000;

// A latency in milliseconds, micros / 1000.0, as nlohmann::json writes that double (Grisu2: the
// shortest decimal that reads back as the double, "1.0" for a whole number), without the double:
// the whole milliseconds, a point, the microseconds without trailing zeros ("12.5", "3.0",
// "0.001"). Grisu2's answer is that decimal; at or above kExactMillisBelow the library writes.
void appendMillis(std::string& out, std::int64_t micros);

// Decision::done: counts the request in the metrics and writes its access log line.
std::function<void(const message::HttpRequest&, const message::Outcome&)> accessLog(
    AccessEntry entry);

}  // namespace mgw::gateway
