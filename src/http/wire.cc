#include "http/wire.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/syntax.h"
#include "common/text.h"
#include "message/hop_by_hop.h"

namespace mgw::http {
namespace {

constexpr std::size_t kMaxChunkLineBytes = 4096;  // a chunk-size line with its extensions
constexpr std::size_t kMaxTrailerBytes = 8192;    // all trailer fields of one message

// RFC 9110 section 5.5: field-vchar, SP, HTAB; obs-text (0x80-0xFF) is kept opaque.
bool isValueChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

// Whether every byte of a field value is a value character: sixteen bytes at a time with SSE2
// (x86-64's baseline), else eight (a value is often a long API key or cookie); a block that holds
// a byte below 0x20 other than HTAB, or a DEL, is refused.
bool allValueChars(std::string_view v) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i maxControl = _mm_set1_epi8(0x1F), tab = _mm_set1_epi8('\t'),
                del = _mm_set1_epi8(0x7F);
  for (; i + 16 <= v.size(); i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v.data() + i));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, maxControl), x);  // x <= 0x1F
    const __m128i bad =
        _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(x, tab), control), _mm_cmpeq_epi8(x, del));
    if (_mm_movemask_epi8(bad) != 0) return false;
  }
#endif
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  for (; i + 8 <= v.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, v.data() + i, 8);
    const std::uint64_t below20 = (w - kOnes * 0x20) & ~w & kHigh;  // some byte < 0x20
    const std::uint64_t x = w ^ (kOnes * 0x7F);
    const std::uint64_t del = (x - kOnes) & ~x & kHigh;  // some byte == 0x7F
    if (below20 | del)
      for (std::size_t j = i; j < i + 8; ++j)
        if (!isValueChar(static_cast<unsigned char>(v[j]))) return false;
  }
  for (; i < v.size(); ++i)
    if (!isValueChar(static_cast<unsigned char>(v[i]))) return false;
  return true;
}

bool isOws(char c) { return c == ' ' || c == '\t'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

WireError fail(Failure failure, std::string description) {
  return WireError{failure, std::move(description)};
}

// A name or value echoed in a description: short, printable.
std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7F ? char(c) : '?');
  if (s.size() > 40) out += "...";
  return out;
}

// "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3). Returns false when the text is not a version;
// *major, *minor otherwise.
bool parseVersion(std::string_view v, int* major, int* minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return false;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return false;
  *major = v[5] - '0';
  *minor = v[7] - '0';
  return true;
}

// Splits a head into its lines (the head was measured by findHeadEnd, so every line ends in
// CRLF and none holds a bare CR or LF). Skips leading empty lines. The lines live in a vector of
// the calling thread, reused by the next head (no allocation per request): valid until then.
const std::vector<std::string_view>& headLines(std::string_view head) {
  thread_local std::vector<std::string_view> lines;
  lines.clear();
  while (head.size() >= 2 && head[0] == '\r' && head[1] == '\n') head.remove_prefix(2);
  std::size_t start = 0;
  while (start < head.size()) {
    const std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) break;
    if (end == start) break;  // the empty line that ends the head
    lines.push_back(head.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// A request's fields live in a HeaderMap (moved into HttpRequest later), a response's in a
// vector of Field: the rules below read both.
std::string_view nameOf(const Field& f) { return f.name; }
std::string_view valueOf(const Field& f) { return f.value; }
std::string_view nameOf(const message::HeaderMap::value_type& f) { return f.first; }
std::string_view valueOf(const message::HeaderMap::value_type& f) { return f.second; }
void addField(std::vector<Field>* fields, std::string_view name, std::string_view value) {
  fields->push_back(Field{std::string(name), std::string(value)});
}
void addField(message::HeaderMap* fields, std::string_view name, std::string_view value) {
  fields->emplace(std::string(name), std::string(value));
}

// Field lines after the start line: syntax only (RFC 9112 section 5).
template <typename Fields>
WireError parseFields(const std::vector<std::string_view>& lines, std::size_t maxCount,
                      Fields* fields) {
  fields->reserve(fields->size() + std::min(lines.size(), maxCount + 1));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (isOws(line.front()))
      return fail(Failure::kBadFraming,
                  "a header line starts with whitespace (obs-fold, RFC 9112 section 5.2)");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail(Failure::kBadFraming, "a header line has no colon: \"" + shown(line) + "\"");
    const std::string_view name = line.substr(0, colon);
    if (!isHttpToken(name)) {
      if (!name.empty() && isOws(name.back()))
        return fail(Failure::kBadFraming,
                    "whitespace between a header name and its colon (RFC 9112 section 5.1)");
      return fail(Failure::kBadFraming, "a header name is not a token: \"" + shown(name) + "\"");
    }
    const std::string_view value = trimOws(line.substr(colon + 1));
    if (!allValueChars(value))
      return fail(Failure::kBadFraming, "the value of header \"" + shown(name) +
                                            "\" holds a control character (NUL, CR, LF...)");
    if (fields->size() >= maxCount)
      return fail(Failure::kHeadersTooLarge,
                  "more than " + std::to_string(maxCount) +
                      " header fields ([listenerConfig] maxHeaderCount)");
    addField(fields, name, value);
  }
  return {};
}

// Content-Length (RFC 9112 section 6.3): exactly one field line of digits. A list, even of
// equal values, is refused like nginx does: no two readings of the length exist.
template <typename Fields>
WireError parseContentLength(const Fields& fields, bool* present, std::uint64_t* length) {
  *present = false;
  for (const auto& f : fields) {
    if (!equalsIgnoreCase(nameOf(f), "Content-Length")) continue;
    if (*present) return fail(Failure::kBadFraming, "Content-Length appears more than once");
    *present = true;
    const std::string_view v = valueOf(f);
    if (v.empty() || v.size() > 18 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail(Failure::kBadFraming,
                  "Content-Length is not a decimal number: \"" + shown(v) + "\"");
    std::uint64_t n = 0;
    for (char c : v) n = n * 10 + static_cast<std::uint64_t>(c - '0');  // 18 digits fit
    *length = n;
  }
  return {};
}

// All Transfer-Encoding lines joined, in order (RFC 9110 section 5.3).
template <typename Fields>
std::vector<std::string_view> transferCodings(const Fields& fields, bool* present) {
  std::vector<std::string_view> codings;
  *present = false;
  for (const auto& f : fields) {
    if (!equalsIgnoreCase(nameOf(f), "Transfer-Encoding")) continue;
    *present = true;
    for (std::string_view element : splitList(valueOf(f))) {
      // A coding may carry parameters ("gzip;q=1" is not valid here, but "x;p=v" is syntax).
      const std::size_t semi = element.find(';');
      codings.push_back(trimOws(element.substr(0, semi)));
    }
  }
  return codings;
}

bool isKnownCoding(std::string_view c) {
  for (std::string_view known :
       {"chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress", "identity", "br", "zstd"})
    if (equalsIgnoreCase(c, known)) return true;
  return false;
}

// Whether a list field of that name holds `token` (not empty), read in place: no vector of
// elements per answer ("Connection: keep-alive" is on most of them).
template <typename Fields>
bool hasToken(const Fields& fields, std::string_view name, std::string_view token) {
  for (const auto& f : fields) {
    if (!equalsIgnoreCase(nameOf(f), name)) continue;
    std::string_view rest = valueOf(f);
    for (;;) {
      const std::size_t comma = rest.find(',');
      if (equalsIgnoreCase(trimOws(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> connectionOptions(const std::vector<Field>& fields) {
  std::vector<std::string> names;
  for (const Field& f : fields)
    if (equalsIgnoreCase(f.name, "Connection")) message::collectConnectionOptions(f.value, &names);
  return names;
}

std::vector<std::string> connectionOptions(const message::HeaderMap& fields) {
  std::vector<std::string> names;
  for (const auto& [name, value] : fields)
    if (equalsIgnoreCase(name, "Connection")) message::collectConnectionOptions(value, &names);
  return names;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names)
    if (equalsIgnoreCase(n, name)) return true;
  return false;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return message::sameFieldName(a, b);
}

bool hasField(const std::vector<std::pair<std::string, std::string>>& fields,
              std::string_view name) {
  for (const auto& f : fields)
    if (equalsIgnoreCase(f.first, name)) return true;
  return false;
}

void appendFieldLine(std::string& out, std::string_view name, std::string_view value) {
  const std::size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
}

std::vector<std::string_view> splitList(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view element = trimOws(value.substr(start, comma - start));
    if (!element.empty()) out.push_back(element);
    start = comma + 1;
  }
  return out;
}

std::size_t findHeadEnd(std::string_view data, std::size_t maxHeadBytes, std::size_t* scanned,
                        WireError* error) {
  // Only bytes below the limit are looked at: the LF that ends a head counts too (found by
  // fuzz_http_wire: a head of maxHeadBytes + 1 bytes whose extra byte was its final LF was
  // accepted). The scan jumps from line end to line end (memchr), as a head is mostly one long
  // line or two (an API key, a cookie): no per-byte loop.
  const std::size_t limit = std::min(data.size(), maxHeadBytes);
  std::size_t pos = *scanned;
  while (pos < limit) {
    const char* from = data.data() + pos;
    const auto* lf = static_cast<const char*>(std::memchr(from, '\n', limit - pos));
    const std::size_t end = lf ? static_cast<std::size_t>(lf - data.data()) : limit;
    // A CR must be followed by LF (RFC 9112 section 2.2): the first CR of the line is either
    // right before its LF or, at the limit or the end of the data, not yet judged.
    if (const auto* cr = static_cast<const char*>(std::memchr(from, '\r', end - pos))) {
      const std::size_t at = static_cast<std::size_t>(cr - data.data());
      if (at + 1 < data.size() && data[at + 1] != '\n') {
        *error = fail(Failure::kBadFraming, "a CR not followed by LF in the request head");
        return 0;
      }
    }
    if (!lf) {
      pos = end;
      break;
    }
    if (end == 0 || data[end - 1] != '\r') {
      *error = fail(Failure::kBadFraming,
                    "a line ends in a bare LF; HTTP/1.1 lines end in CRLF (RFC 9112 section 2.2)");
      return 0;
    }
    // An empty line: the end of the head, unless nothing but empty lines came before it.
    if (end == 1 || data[end - 2] == '\n') {
      const std::size_t first = data.find_first_not_of("\r\n");
      if (first != std::string_view::npos && first <= end) {
        *scanned = end + 1;
        return end + 1;
      }
    }
    pos = end + 1;
  }
  if (pos >= maxHeadBytes && data.size() > maxHeadBytes) {
    const std::size_t first = data.find_first_not_of("\r\n");
    const bool inRequestLine = first == std::string_view::npos || data.find('\n', first) > pos;
    *error = inRequestLine ? fail(Failure::kUriTooLong,
                                  "the request line exceeds " + std::to_string(maxHeadBytes) +
                                      " bytes ([listenerConfig] maxHeaderBytes)")
                           : fail(Failure::kHeadersTooLarge,
                                  "the request head exceeds " + std::to_string(maxHeadBytes) +
                                      " bytes ([listenerConfig] maxHeaderBytes)");
    return 0;
  }
  // Keep a trailing CR unscanned, so its LF is checked against it next time.
  *scanned = pos > 0 && data[pos - 1] == '\r' ? pos - 1 : pos;
  return 0;
}

WireError parseRequestHead(std::string_view head, const RequestLimits& limits, RequestHead* out) {
  const auto& lines = headLines(head);
  if (lines.empty()) return fail(Failure::kBadFraming, "an empty request");
  const std::string_view line = lines[0];

  // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3)
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return fail(Failure::kBadFraming, "the request line is not METHOD TARGET HTTP/1.1");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!isHttpToken(method)) return fail(Failure::kBadFraming, "the method is not a token");
  if (target.empty())
    return fail(Failure::kBadFraming, "the request line is not METHOD TARGET HTTP/1.1");
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7F)
      return fail(Failure::kBadFraming,
                  "the request target holds a space, a control or a non-ASCII byte "
                  "(percent-encode it, RFC 3986)");
  int major = 0, minor = 0;
  if (!parseVersion(version, &major, &minor)) {
    if (version.size() > 5 && version.substr(0, 5) == "HTTP/" &&
        version.find_first_not_of("0123456789.", 5) == std::string_view::npos)
      return fail(Failure::kVersionNotSupported,
                  "the HTTP version \"" + shown(version) + "\" is not supported; use HTTP/1.1");
    return fail(Failure::kBadFraming, "the request line is not METHOD TARGET HTTP/1.1");
  }
  if (major != 1)
    return fail(Failure::kVersionNotSupported,
                "HTTP/" + std::to_string(major) + " is not supported here; use HTTP/1.1");
  out->method = std::string(method);
  out->target = std::string(target);
  out->versionMinor = minor;  // HTTP/1.2+ is answered as 1.1 (RFC 9110 section 6.2)

  out->fields.clear();
  if (WireError e = parseFields(lines, limits.maxHeaderCount, &out->fields)) return e;

  // Host (RFC 9112 section 3.2): exactly one on HTTP/1.1.
  int hosts = 0;
  for (const auto& [name, value] : out->fields)
    if (equalsIgnoreCase(name, "Host")) ++hosts;
  if (hosts > 1) return fail(Failure::kBadFraming, "more than one Host header");
  for (const auto& [name, value] : out->fields)
    if (equalsIgnoreCase(name, "Host") && !isHostFieldValue(value))
      return fail(Failure::kBadFraming,
                  "the Host header is not host[:port] (RFC 9112 section 3.2; no userinfo, path "
                  "or space)");
  if (hosts == 0 && minor >= 1)
    return fail(Failure::kBadFraming, "an HTTP/1.1 request must carry a Host header");

  bool hasLength = false;
  std::uint64_t length = 0;
  if (WireError e = parseContentLength(out->fields, &hasLength, &length)) return e;
  bool hasCoding = false;
  const auto codings = transferCodings(out->fields, &hasCoding);

  out->framing = Framing::kNone;
  out->contentLength = 0;
  if (hasCoding) {
    // RFC 9112 section 6.1: with Content-Length it is a smuggling attempt; on HTTP/1.0 it
    // cannot be trusted; the last coding must be chunked, once.
    if (hasLength)
      return fail(Failure::kBadFraming, "both Content-Length and Transfer-Encoding are present");
    if (minor == 0) return fail(Failure::kBadFraming, "Transfer-Encoding in an HTTP/1.0 request");
    if (codings.empty()) return fail(Failure::kBadFraming, "an empty Transfer-Encoding");
    for (std::string_view c : codings)
      if (!isHttpToken(c))
        return fail(Failure::kBadFraming, "a Transfer-Encoding coding is not a token");
    for (std::string_view c : codings)
      if (!isKnownCoding(c))
        return fail(Failure::kNotImplemented,
                    "the transfer coding \"" + shown(c) + "\" is not supported; use chunked");
    const bool lastIsChunked = equalsIgnoreCase(codings.back(), "chunked");
    std::size_t chunkedCount = 0;
    for (std::string_view c : codings) chunkedCount += equalsIgnoreCase(c, "chunked");
    if (!lastIsChunked || chunkedCount > 1)
      return fail(Failure::kBadFraming,
                  "the last transfer coding must be chunked, once (RFC 9112 section 6.3)");
    if (codings.size() > 1)
      return fail(Failure::kNotImplemented,
                  "transfer codings other than chunked are not supported");
    out->framing = Framing::kChunked;
  } else if (hasLength) {
    if (length > limits.maxBodyBytes)
      return fail(Failure::kPayloadTooLarge, "the request body (" + std::to_string(length) +
                                                 " bytes) exceeds " +
                                                 std::to_string(limits.maxBodyBytes) +
                                                 " bytes ([listenerConfig] maxRequestBytes)");
    out->contentLength = length;
    out->framing = length > 0 ? Framing::kLength : Framing::kNone;
  }

  out->keepAlive = minor >= 1 ? !hasToken(out->fields, "Connection", "close")
                              : hasToken(out->fields, "Connection", "keep-alive");
  out->expectContinue = false;
  for (const auto& [name, value] : out->fields) {
    if (!equalsIgnoreCase(name, "Expect")) continue;
    if (!equalsIgnoreCase(value, "100-continue"))
      return fail(Failure::kExpectationFailed,
                  "only Expect: 100-continue is supported (RFC 9110 section 10.1.1)");
    out->expectContinue = minor >= 1;
  }
  return {};
}

WireError parseResponseHead(std::string_view head, std::string_view requestMethod,
                            ResponseHead* out) {
  const auto& lines = headLines(head);
  if (lines.empty()) return fail(Failure::kBadFraming, "an empty response");
  const std::string_view line = lines[0];
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4)
  int major = 0, minor = 0;
  if (line.size() < 12 || !parseVersion(line.substr(0, 8), &major, &minor) || major != 1 ||
      line[8] != ' ')
    return fail(Failure::kBadFraming, "the status line is not HTTP/1.x NNN");
  const std::string_view code = line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      code[0] < '1' || code[0] > '5')
    return fail(Failure::kBadFraming, "the status code is not 100-599");
  if (line.size() > 12 && line[12] != ' ')
    return fail(Failure::kBadFraming, "the status line is not HTTP/1.x NNN");
  const std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (unsigned char c : reason)
    if (!isValueChar(c)) return fail(Failure::kBadFraming, "the reason phrase holds a control");
  out->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');  // digits
  out->reason = std::string(reason);
  out->versionMinor = minor;
  out->fields.clear();
  if (WireError e = parseFields(lines, 1000, &out->fields)) return e;

  bool hasLength = false;
  std::uint64_t length = 0;
  if (WireError e = parseContentLength(out->fields, &hasLength, &length)) return e;
  bool hasCoding = false;
  const auto codings = transferCodings(out->fields, &hasCoding);

  out->keepAlive = minor >= 1 ? !hasToken(out->fields, "Connection", "close")
                              : hasToken(out->fields, "Connection", "keep-alive");
  out->contentLength = length;
  // RFC 9112 section 6.3: no body after HEAD, 1xx, 204 and 304, whatever the fields say.
  if (equalsIgnoreCase(requestMethod, "HEAD") || out->status < 200 || out->status == 204 ||
      out->status == 304) {
    out->framing = Framing::kNone;
    return {};
  }
  if (hasCoding) {
    if (hasLength)
      return fail(Failure::kBadFraming,
                  "the backend sent both Content-Length and Transfer-Encoding");
    if (codings.size() != 1 || !equalsIgnoreCase(codings.front(), "chunked"))
      return fail(Failure::kBadFraming, "the backend's Transfer-Encoding is not exactly chunked");
    out->framing = Framing::kChunked;
  } else if (hasLength) {
    out->framing = length > 0 ? Framing::kLength : Framing::kNone;
  } else {
    out->framing = Framing::kUntilClose;
    out->keepAlive = false;
  }
  return {};
}

std::size_t ChunkedDecoder::feed(std::string_view in, std::string* payload, WireError* error) {
  std::size_t i = 0;
  auto bad = [&](std::string description) {
    *error = fail(Failure::kBadFraming, std::move(description));
    return i;
  };
  while (i < in.size() && state_ != State::kDone) {
    const char c = in[i];
    switch (state_) {
      case State::kSize: {
        const int v = hexValue(c);
        if (v >= 0) {
          if (++sizeDigits_ > 15) return bad("a chunk size overflows");
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(v);
          ++i;
        } else if (sizeDigits_ > 0 && c == ';') {
          state_ = State::kExtension;
          lineBytes_ = 0;
          ++i;
        } else if (sizeDigits_ > 0 && (c == ' ' || c == '\t')) {
          state_ = State::kSizeBws;  // BWS is allowed only before a ";" (RFC 9112 section 7.1)
          lineBytes_ = 0;
          ++i;
        } else if (sizeDigits_ > 0 && c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else {
          return bad("a chunk size is not a hexadecimal number");
        }
        break;
      }
      case State::kSizeBws:
        if (c == ';') {
          state_ = State::kExtension;
        } else if (c != ' ' && c != '\t') {
          return bad(
              "a chunk size is followed by whitespace without a chunk extension (RFC 9112 section "
              "7.1 allows whitespace only before \";\")");
        } else if (++lineBytes_ > kMaxChunkLineBytes) {
          return bad("a malformed or oversized chunk extension");
        }
        ++i;
        break;
      case State::kExtension:
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if (!isValueChar(static_cast<unsigned char>(c)) ||
                   ++lineBytes_ > kMaxChunkLineBytes) {
          return bad("a malformed or oversized chunk extension");
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return bad("a chunk size line does not end in CRLF");
        ++i;
        sizeDigits_ = 0;
        if (remaining_ == 0) {
          state_ = State::kTrailer;
          lineBytes_ = 0;
          trailerLine_.clear();
        } else {
          if (remaining_ > maxBodyBytes_ - std::min(total_, maxBodyBytes_)) {
            *error = fail(Failure::kPayloadTooLarge,
                          "the chunked request body exceeds " + std::to_string(maxBodyBytes_) +
                              " bytes ([listenerConfig] maxRequestBytes)");
            return i;
          }
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
        if (payload != nullptr) payload->append(in.data() + i, n);
        remaining_ -= n;
        total_ += n;
        i += n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return bad("chunk data is not followed by CRLF");
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return bad("chunk data is not followed by CRLF");
        state_ = State::kSize;
        ++i;
        break;
      case State::kTrailer:
        ++i;
        if (++lineBytes_ > kMaxTrailerBytes) return bad("the chunked trailer section is too large");
        if (c == '\n') {
          if (trailerLine_.empty() || trailerLine_.back() != '\r')
            return bad("a trailer line ends in a bare LF");
          trailerLine_.pop_back();
          if (trailerLine_.empty()) {
            state_ = State::kDone;
            break;
          }
          const std::size_t colon = trailerLine_.find(':');
          if (colon == std::string::npos || !isHttpToken(trailerLine_.substr(0, colon)))
            return bad("a malformed trailer field");
          for (unsigned char v : trailerLine_.substr(colon + 1))
            if (!isValueChar(v)) return bad("a trailer field value holds a control character");
          trailerLine_.clear();
        } else {
          if (!trailerLine_.empty() && trailerLine_.back() == '\r')
            return bad("a CR not followed by LF in the trailer section");
          trailerLine_.push_back(c);
        }
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

}  // namespace mgw::http
