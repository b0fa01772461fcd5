#include "common/endpoint_url.h"

#include <algorithm>
#include <cctype>

#include "common/syntax.h"

namespace mgw {
namespace {

constexpr const char* kSchemes = "endpoint URL is not an http://, https://, h2c:// or h2:// URL";

std::string toLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool parsePort(std::string_view digits, int* port) {
  if (digits.empty() || digits.size() > 5) return false;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return false;
  *port = value;
  return true;
}

}  // namespace

std::optional<UpstreamTarget> parseEndpointUrl(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<UpstreamTarget> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return fail("endpoint URL contains whitespace or a control character");
  }
  const size_t schemeEnd = url.find("://");
  if (schemeEnd == std::string_view::npos) return fail(kSchemes);
  const std::string scheme = toLower(url.substr(0, schemeEnd));
  UpstreamTarget target;
  if (scheme == "https" || scheme == "h2") {
    target.tls = true;
  } else if (scheme != "http" && scheme != "h2c") {
    return fail(kSchemes);
  }
  // h2c: HTTP/2 over cleartext TCP with prior knowledge (RFC 9113 section 3.3); h2: HTTP/2 over
  // TLS, ALPN "h2" (section 3.2), verified as an https backend is.
  target.http2 = scheme == "h2c" || scheme == "h2";
  std::string_view rest = url.substr(schemeEnd + 3);
  const size_t authorityEnd = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authorityEnd);
  rest.remove_prefix(authorityEnd);
  if (authority.find('@') != std::string_view::npos)
    return fail("endpoint URL must not carry user info");

  std::string why;
  const auto split = splitHostAndPort(authority, &why);
  if (!split) return fail("endpoint URL has " + why);
  target.host = std::string(split->host);
  if (split->hasPort && split->port.empty()) return fail("endpoint URL has an empty port");
  const std::string_view portText = split->port;
  const bool ipv6 = split->ipLiteral;
  if (target.host.empty()) return fail("endpoint URL has no host");
  const int defaultPort = target.tls ? 443 : 80;
  target.port = defaultPort;
  if (!portText.empty() && !parsePort(portText, &target.port))
    return fail("endpoint URL has an invalid port");

  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const size_t query = rest.find('?');
  target.basePath = std::string(rest.substr(0, query));
  if (query != std::string_view::npos) target.baseQuery = std::string(rest.substr(query + 1));

  const std::string hostPart = ipv6 ? "[" + target.host + "]" : target.host;
  target.hostHeader = hostPart;
  if (target.port != defaultPort) target.hostHeader += ":" + std::to_string(target.port);
  target.origin = scheme + "://" + hostPart + ":" + std::to_string(target.port);
  return target;
}

}  // namespace mgw
