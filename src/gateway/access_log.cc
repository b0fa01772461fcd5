#include "gateway/access_log.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/log.h"

namespace mgw::gateway {
namespace {

// A JSON string as nlohmann::json dumps it (ensure_ascii off, invalid UTF-8 replaced): printable
// ASCII without '"' or '\\' is copied as is (paths, methods, addresses, ids: nearly every value);
// anything else goes through the library, so the escaping stays exactly the library's.
void appendString(std::string& out, std::string_view value) {
  bool plain = true;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out += '"';
    out.append(value);
    out += '"';
    return;
  }
  out += nlohmann::json(std::string(value))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void appendField(std::string& out, std::string_view name) {
  if (out.size() > 1) out += ',';
  out += '"';
  out.append(name);
  out += "\":";
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
  appendDouble(line, static_cast<double>(micros) / 1000.0);
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
    appendDouble(line, static_cast<double>(out.upstreamNanos / 1000) / 1000.0);
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
