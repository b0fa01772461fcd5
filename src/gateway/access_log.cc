#include "gateway/access_log.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/log.h"

namespace mgw::gateway {
namespace {

// Whether a byte is printable ASCII other than '"' and '\\': copied as is.
bool plainByte(unsigned char u) { return u >= 0x20 && u < 0x7f && u != '"' && u != '\\'; }

// Whether every byte is plain: sixteen at a time with SSE2 (x86-64's baseline; ids and keys are
// 32-36 bytes), the rest one by one.
bool allPlain(std::string_view value) {
  std::size_t i = 0;
#if defined(__SSE2__)
  // As signed bytes, everything below 0x20 and everything from 0x80 up is less than 0x20.
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), quote = _mm_set1_epi8('"'),
                backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= value.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + i));
    const __m128i bad =
        _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, space), _mm_cmpeq_epi8(x, del)),
                     _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)));
    if (_mm_movemask_epi8(bad) != 0) return false;
  }
#endif
  for (; i < value.size(); ++i)
    if (!plainByte(static_cast<unsigned char>(value[i]))) return false;
  return true;
}

// A JSON string as nlohmann::json dumps it (ensure_ascii off, invalid UTF-8 replaced): printable
// ASCII without '"' or '\\' is copied as is (paths, methods, addresses, ids: nearly every value);
// anything else goes through the library, so the escaping stays exactly the library's.
void appendString(std::string& out, std::string_view value) {
  if (allPlain(value)) {
    out += '"';
    out.append(value);
    out += '"';
    return;
  }
  out += nlohmann::json(std::string(value))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A key as it is written: `"name":`, after a comma unless it is the first; one resize, as
// http's appendFieldLine writes a field line.
void appendField(std::string& out, std::string_view name) {
  const bool comma = out.size() > 1;
  const std::size_t at = out.size();
  out.resize(at + (comma ? 1 : 0) + name.size() + 3);
  char* p = out.data() + at;
  if (comma) *p++ = ',';
  *p++ = '"';
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = '"';
  *p = ':';
}

template <typename Int>
void appendInt(std::string& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

// The library's own float formatting (Grisu2, "%g"-like, "1.0" for integers), so latencies read
// exactly as they did when the line was a nlohmann::json object.
void appendDouble(std::string& out, double value) {
  char buf[64];
  char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

}  // namespace

void appendMillis(std::string& out, std::int64_t micros) {
  if (micros < 0 || micros >= kExactMillisBelow) {
    appendDouble(out, static_cast<double>(micros) / 1000.0);
    return;
  }
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, micros / 1000).ptr;
  *end++ = '.';
  const int fraction = static_cast<int>(micros % 1000);
  if (fraction == 0) {
    *end++ = '0';
  } else {
    char digits[3] = {char('0' + fraction / 100), char('0' + fraction / 10 % 10),
                      char('0' + fraction % 10)};
    int n = 3;
    while (digits[n - 1] == '0') --n;
    for (int i = 0; i < n; ++i) *end++ = digits[i];
  }
  out.append(buf, end);
}

void formatAccessLine(const AccessEntry& entry, const message::HttpRequest& req,
                      const message::Outcome& out, std::chrono::nanoseconds elapsed,
                      std::string& line) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  const Failure failure = entry.failure != Failure::kNone ? entry.failure : out.failure;
  const std::string& detail = entry.reason.empty() ? out.reason : entry.reason;
  // Keys in the order nlohmann::json (a std::map) wrote them: sorted, byte-wise.
  line.assign(1, '{');
  if (!entry.api.empty()) {
    appendField(line, "api");
    appendString(line, entry.api);
  }
  appendField(line, "bytesIn");
  appendInt(line, out.bytesIn);
  appendField(line, "bytesOut");
  appendInt(line, out.bytesOut);
  appendField(line, "client");
  appendString(line, req.clientAddress);
  if (!req.clientCertSha256.empty()) {  // mutual TLS: the certificate the listener verified
    appendField(line, "clientCert");
    appendString(line, req.clientCertSubject);
    appendField(line, "clientCertSha256");
    appendString(line, req.clientCertSha256);
  }
  if (!detail.empty()) {
    appendField(line, "detail");
    appendString(line, detail);
  }
  if (!entry.keyId.empty()) {
    appendField(line, "key");
    appendString(line, entry.keyId);
  }
  appendField(line, "latencyMs");
  appendMillis(line, micros);
  appendField(line, "method");
  appendString(line, req.method);
  appendField(line, "path");
  appendString(line, req.path);
  if (!entry.plan.empty()) {
    appendField(line, "plan");
    appendString(line, entry.plan);
  }
  appendField(line, "protocol");
  line += req.http2 ? "\"HTTP/2\"" : "\"HTTP/1.1\"";
  if (failure != Failure::kNone) {
    appendField(line, "reason");
    appendString(line, failureName(failure));
  }
  appendField(line, "request_id");
  appendString(line, entry.requestId);
  appendField(line, "status");
  appendInt(line, out.status);
  appendField(line, "time");
  line += '"';
  log::appendTimestamp(line);
  line += '"';
  appendField(line, "trace_id");
  appendString(line, entry.traceId);
  appendField(line, "type");
  line += "\"access\"";
  if (out.upstreamNanos >= 0) {
    appendField(line, "upstreamLatencyMs");
    appendMillis(line, out.upstreamNanos / 1000);
  }
  line += '}';
}

std::function<void(const message::HttpRequest&, const message::Outcome&)> accessLog(
    AccessEntry entry) {
  return [entry = std::move(entry)](const message::HttpRequest& req, const message::Outcome& out) {
    const auto elapsed = std::chrono::steady_clock::now() - entry.started;
    const Failure failure = entry.failure != Failure::kNone ? entry.failure : out.failure;
    auto& metrics = observability::metrics();
    metrics.countRequest(
        entry.apiId, entry.method, out.status, failure,
        req.http2 ? observability::Protocol::kHttp2 : observability::Protocol::kHttp1);
    metrics.observeRequest(entry.apiId, elapsed);
    // One buffer per thread, reused: the batch copies the line.
    thread_local std::string line;
    line.clear();
    line.reserve(384);
    formatAccessLine(entry, req, out, elapsed, line);
    log::accessLine(line);
    if (line.capacity() > 16384) std::string().swap(line);  // a long reason's line is not kept
  };
}

}  // namespace mgw::gateway
