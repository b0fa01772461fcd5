#include "config/cors_config.h"

#include <cctype>

#include "common/syntax.h"
#include "common/text.h"

namespace mgw::config {
namespace {

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool isScheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  return true;
}

bool isLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

bool isIpv6Literal(std::string_view s) {  // inside the brackets
  if (s.size() < 2) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  return s.find(':') != std::string_view::npos;
}

int defaultPort(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return -1;
}

constexpr const char* kAllowed =
    "an origin is \"*\" or scheme://host[:port] with no path (\"https://app.example.com\", "
    "\"http://127.0.0.1:8080\"), or a wildcard first label (\"https://*.example.com\")";

std::optional<OriginPattern> parse(std::string_view text, bool allowWildcard, std::string* why) {
  auto fail = [&](const std::string& reason) -> std::optional<OriginPattern> {
    if (why) *why = reason + "; " + kAllowed;
    return std::nullopt;
  };
  OriginPattern p;
  if (text == "*") {
    if (!allowWildcard) return fail("\"*\" is not an origin");
    p.any = true;
    return p;
  }
  if (text == "null") return fail("\"null\" (an opaque origin) can never be allowed");
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return fail("no scheme://");
  if (!isScheme(text.substr(0, sep))) return fail("a malformed scheme");
  p.scheme = lowered(text.substr(0, sep));
  std::string_view authority = text.substr(sep + 3);
  if (authority.find_first_of("/?#@ \t,") != std::string_view::npos)
    return fail("a path, query, fragment, userinfo, space or list");
  std::string_view host = authority;
  std::string_view port;
  bool hasPort = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || !isIpv6Literal(authority.substr(1, close - 1)))
      return fail("a malformed IPv6 literal");
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("text after the IPv6 literal");
      port = rest.substr(1);
      hasPort = true;
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    hasPort = true;
  }
  if (hasPort) {
    if (port.empty() || port.size() > 5) return fail("a malformed port");
    long value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail("a malformed port");
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return fail("a port outside 1..65535");
    p.port = static_cast<int>(value);
  } else {
    p.port = defaultPort(p.scheme);
  }
  if (host.empty()) return fail("no host");
  if (host.front() != '[') {
    if (host.size() >= 2 && host.substr(0, 2) == "*.") {
      if (!allowWildcard) return fail("a wildcard");
      p.wildcard = true;
      host.remove_prefix(2);
    }
    std::size_t labels = 0;
    std::size_t start = 0;
    for (;;) {
      const std::size_t dot = host.find('.', start);
      const std::string_view label =
          host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (label == "*") return fail("a wildcard that is not the whole first label");
      if (!isLabel(label)) return fail("an empty or malformed host label");
      ++labels;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (p.wildcard && labels < 2)
      return fail("a wildcard over a top-level domain (write \"https://*.example.com\")");
  }
  p.host = lowered(host);
  return p;
}

}  // namespace

std::optional<OriginPattern> parseOriginPattern(std::string_view text, std::string* why) {
  return parse(text, true, why);
}

std::optional<OriginPattern> parseOrigin(std::string_view text) {
  return parse(trimOws(text), false, nullptr);
}

bool originMatches(const OriginPattern& pattern, const OriginPattern& origin) {
  if (pattern.any) return true;
  if (origin.any || origin.wildcard) return false;
  if (pattern.scheme != origin.scheme || pattern.port != origin.port) return false;
  if (!pattern.wildcard) return pattern.host == origin.host;
  // Exactly one non-empty label before ".<suffix>".
  const std::string& h = origin.host;
  const std::string& suffix = pattern.host;
  if (h.size() < suffix.size() + 2) return false;
  if (h.compare(h.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  if (h[h.size() - suffix.size() - 1] != '.') return false;
  const std::string_view first(h.data(), h.size() - suffix.size() - 1);
  return !first.empty() && first.find('.') == std::string_view::npos;
}

std::string checkCorsMethod(std::string_view method) {
  if (method == "*" || isHttpToken(method)) return "";
  return "must be an HTTP method (\"GET\"), or \"*\" (any)";
}

std::string checkCorsHeader(std::string_view name) {
  if (name == "*" || isHttpToken(name)) return "";
  return "must be a header field name (RFC 9110 token: letters, digits, !#$%&'*+-.^_`|~), or \"*\"";
}

std::string checkCorsMaxAge(long long seconds) {
  if (seconds >= -1 && seconds <= 86400) return "";
  return "must be between -1 (not sent) and 86400 seconds";
}

std::string checkCorsConfig(const CorsConfig& cors) {
  if (cors.enabled && cors.allowOrigins.empty())
    return "accessControlAllowOrigins is empty: no origin could call the API; list origins, or "
           "set corsConfigurationEnabled = false";
  // Fetch standard, CORS protocol and credentials: "Access-Control-Allow-Origin: *" is never
  // honoured for a request with credentials; echoing any origin instead would let every site
  // read answers with the user's cookies or basic credentials.
  if (cors.enabled && cors.allowCredentials)
    for (const std::string& o : cors.allowOrigins)
      if (o == "*")
        return "accessControlAllowOrigins = [\"*\"] cannot be combined with "
               "accessControlAllowCredentials = true (the Fetch standard forbids a wildcard origin "
               "with credentials); list the allowed origins, or set "
               "accessControlAllowCredentials = false";
  return "";
}

}  // namespace mgw::config
