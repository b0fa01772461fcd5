// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` field parsed and
// checked, new trace and span ids, and the `X-Request-Id` the gateway passes through or makes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::observability {

struct TraceParent {
  std::string traceId;   // 32 lowercase hex digits, not all zero
  std::string parentId;  // 16 lowercase hex digits, not all zero
  std::uint8_t flags = 0;
};

// A traceparent value per the W3C rules: version 2 lowercase hex digits, not "ff"; version 00 is
// exactly 55 characters; a later version is parsed as 00 and may carry more after a '-'. Ids are
// lowercase hex and not all zero. nullopt = invalid (the caller starts a new trace).
std::optional<TraceParent> parseTraceparent(std::string_view value);

// `00-<traceId>-<spanId>-<flags>`.
std::string formatTraceparent(std::string_view traceId, std::string_view spanId,
                              std::uint8_t flags);

// Random ids, never all zero. Not secrets: a per-thread generator seeded from the OS.
std::string newTraceId();  // 32 hex digits
std::string newSpanId();   // 16 hex digits

// An X-Request-Id worth passing on: 1..128 characters of [A-Za-z0-9._:+=/-]. Anything else (empty,
// longer, spaces, quotes, control bytes) is replaced by a new one.
bool isSaneRequestId(std::string_view value);
// A new request id: a UUID-shaped random value.
std::string newRequestId();

}  // namespace mgw::observability

namespace mgw::observability {

// What one request carries on: its trace (continued or new), the field to send the backend, and
// its request id.
struct RequestTrace {
  std::string traceId;
  std::string traceparent;      // to the backend: the same trace id, the gateway's span as parent
  bool keepTracestate = false;  // tracestate travels only with a valid incoming traceparent
  std::string requestId;        // passed through when sane, new otherwise
};

// `traceparents`/`requestIds`: every value the client sent under that name (two traceparent
// fields are invalid, as are two X-Request-Id: each starts anew).
RequestTrace traceRequest(const std::vector<std::string_view>& traceparents,
                          const std::vector<std::string_view>& requestIds);

}  // namespace mgw::observability
