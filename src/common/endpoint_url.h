// A backend endpoint URL, parsed once: http(s)://host[:port][/base][?query]. Load-time input
// from the configuration and API definitions; no user info, no fragment. The one parser of this
// syntax: the config loader, the OpenAPI loader and the transport all use it, so a URL that loads
// can always be used.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgw {

struct UpstreamTarget {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  int port = 0;
  std::string basePath;    // as written in the URL (already percent-encoded), "" when absent
  std::string baseQuery;   // as written after '?', "" when absent
  std::string hostHeader;  // Host to send: host, [v6] host, plus ":port" when not the default
  std::string origin;      // "https://host:port", the pool key and what messages name
};

// nullopt (with *error set) when the URL is not an absolute http or https URL, or holds whitespace
// or a control character.
std::optional<UpstreamTarget> parseEndpointUrl(std::string_view url, std::string* error);

}  // namespace mgw
