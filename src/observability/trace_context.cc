#include "observability/trace_context.h"

#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <random>

namespace mgw::observability {
namespace {

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool allZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

int hexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::mt19937_64& generator() {
  thread_local std::mt19937_64 engine = [] {
    std::uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1)
      seed = std::random_device{}();
    return std::mt19937_64(seed);
  }();
  return engine;
}

// Two hex digits per byte value: writeHex takes a byte per step (every request writes 80 random
// digits: its span, trace and request ids).
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 512> pairs{};
  for (int b = 0; b < 256; ++b) {
    pairs[2 * b] = kHex[b >> 4];
    pairs[2 * b + 1] = kHex[b & 0xf];
  }
  return pairs;
}();

// The low `digits` hex digits of v, most significant first.
void writeHex(char* out, std::uint64_t v, int digits) {
  int i = digits;
  for (; i >= 2; i -= 2, v >>= 8) std::memcpy(out + i - 2, &kHexPairs[2 * (v & 0xff)], 2);
  if (i == 1) out[0] = kHexPairs[2 * (v & 0xf) + 1];
}

void appendHex(std::string& out, std::uint64_t v, int digits) {
  char buf[16];
  writeHex(buf, v, digits);
  out.append(buf, static_cast<std::size_t>(digits));
}

// digits random lowercase hex digits into out, not all zero.
void fillRandomHex(char* out, int digits) {
  do {
    for (int at = 0; at < digits; at += 16)
      writeHex(out + at, generator()(), digits - at < 16 ? digits - at : 16);
  } while (allZero(std::string_view(out, static_cast<std::size_t>(digits))));
}

std::string randomHex(int digits) {
  std::string out(static_cast<std::size_t>(digits), '0');
  fillRandomHex(out.data(), digits);
  return out;
}

}  // namespace

std::optional<TraceParent> parseTraceparent(std::string_view v) {
  // version "-" trace-id "-" parent-id "-" trace-flags
  if (v.size() < 55) return std::nullopt;
  const std::string_view version = v.substr(0, 2);
  if (!isLowerHex(version) || version == "ff") return std::nullopt;
  if (version == "00" && v.size() != 55) return std::nullopt;
  if (v.size() > 55 && v[55] != '-') return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const std::string_view traceId = v.substr(3, 32);
  const std::string_view parentId = v.substr(36, 16);
  const std::string_view flags = v.substr(53, 2);
  if (!isLowerHex(traceId) || !isLowerHex(parentId) || !isLowerHex(flags)) return std::nullopt;
  if (allZero(traceId) || allZero(parentId)) return std::nullopt;
  TraceParent out;
  out.traceId = std::string(traceId);
  out.parentId = std::string(parentId);
  out.flags = static_cast<std::uint8_t>(hexValue(flags[0]) * 16 + hexValue(flags[1]));
  return out;
}

std::string formatTraceparent(std::string_view traceId, std::string_view spanId,
                              std::uint8_t flags) {
  std::string out;
  out.reserve(55);
  out += "00-";
  out += traceId;
  out += '-';
  out += spanId;
  out += '-';
  appendHex(out, flags, 2);
  return out;
}

std::string newTraceId() { return randomHex(32); }
std::string newSpanId() { return randomHex(16); }

bool isSaneRequestId(std::string_view value) {
  if (value.empty() || value.size() > 128) return false;
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '+' || c == '=' || c == '/' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string newRequestId() {
  char hex[32];
  fillRandomHex(hex, 32);
  // 8-4-4-4-12, version 4 and variant bits as a UUID carries them.
  hex[12] = '4';
  hex[16] = "89ab"[hexValue(hex[16]) & 3];
  std::string out;
  out.reserve(36);
  const std::string_view digits(hex, 32);
  out.append(digits.substr(0, 8)).append(1, '-').append(digits.substr(8, 4)).append(1, '-');
  out.append(digits.substr(12, 4)).append(1, '-').append(digits.substr(16, 4)).append(1, '-');
  out.append(digits.substr(20, 12));
  return out;
}

RequestTrace traceRequest(const std::vector<std::string_view>& traceparents,
                          const std::vector<std::string_view>& requestIds) {
  RequestTrace out;
  std::optional<TraceParent> incoming;
  if (traceparents.size() == 1) incoming = parseTraceparent(traceparents.front());
  char spanDigits[16];
  fillRandomHex(spanDigits, 16);
  const std::string_view span(spanDigits, 16);
  if (incoming) {
    out.traceId = std::move(incoming->traceId);
    out.keepTracestate = true;
    out.traceparent = formatTraceparent(out.traceId, span, incoming->flags);
  } else {
    // A new trace, sampled: the backend may record it with the gateway's span as its parent.
    out.traceId = newTraceId();
    out.traceparent = formatTraceparent(out.traceId, span, 1);
  }
  if (requestIds.size() == 1 && isSaneRequestId(requestIds.front()))
    out.requestId = std::string(requestIds.front());
  else
    out.requestId = newRequestId();
  return out;
}

}  // namespace mgw::observability
