// A backend endpoint URL, parsed once: scheme://host[:port][/base][?query], the scheme one of
// http and https (HTTP/1.1), h2c and h2 (HTTP/2 in cleartext or over TLS). Load-time input
// from the configuration and API definitions; no user info, no fragment. The one parser of this
// syntax: the config loader, the OpenAPI loader and the transport all use it, so a URL that loads
// can always be used.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgw {

struct UpstreamTarget {
  bool tls = false;    // https://, h2://
  bool http2 = false;  // h2c://, h2://: HTTP/2 (gRPC backends), multiplexed
  // Default ports: 80 for http and h2c, 443 for https and h2.
  std::string host;  // without brackets for IPv6 literals
  int port = 0;
  std::string basePath;    // as written in the URL (already percent-encoded), "" when absent
  std::string baseQuery;   // as written after '?', "" when absent
  std::string hostHeader;  // Host to send: host, [v6] host, plus ":port" when not the default
  std::string origin;      // "https://host:port" ("h2c://..."), the pool key and what messages name
};

// nullopt (with *error set) when the URL is not an absolute http, https, h2c or h2 URL, or holds
// whitespace or a control character.
std::optional<UpstreamTarget> parseEndpointUrl(std::string_view url, std::string* error);

}  // namespace mgw
