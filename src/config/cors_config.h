// The CORS policy as configured (SPEC section 15), and the one validator of each of its syntaxes:
// the global [cors], a [[apis.api]] cors table and an OpenAPI x-wso2-cors object are all checked
// with these, and the gateway matches request origins with the same parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::config {

// Field names as WSO2 API Microgateway's x-wso2-cors writes them.
struct CorsConfig {
  bool enabled = false;                        // corsConfigurationEnabled
  std::vector<std::string> allowOrigins{"*"};  // accessControlAllowOrigins
  bool allowCredentials = false;               // accessControlAllowCredentials
  std::vector<std::string> allowHeaders{
      // accessControlAllowHeaders (WSO2's, plus apikey)
      "authorization", "Access-Control-Allow-Origin", "Content-Type", "SOAPAction", "apikey"};
  std::vector<std::string> allowMethods{"GET",    "PUT",   "POST",
                                        "DELETE", "PATCH", "OPTIONS"};  // accessControlAllowMethods
  std::vector<std::string> exposeHeaders;  // accessControlExposeHeaders
  int maxAgeSeconds = -1;                  // accessControlMaxAge; -1 = not sent
};

// An origin (RFC 6454 section 6.2 serialisation: scheme "://" host [":" port]) or a pattern of one:
// "*" (any), or a host whose first label is "*" (exactly one label: https://*.example.com matches
// https://a.example.com, never https://a.b.example.com nor https://example.com).
struct OriginPattern {
  bool any = false;  // "*"
  bool wildcard =
      false;           // host is the suffix after "*." (".example.com" is stored as "example.com")
  std::string scheme;  // lower case
  std::string host;    // lower case; IPv6 in brackets
  int port = -1;       // the port, the scheme's default (http 80, https 443) when absent; -1 none
  bool operator==(const OriginPattern&) const = default;
};

// A configured origin pattern. nullopt with *why (what is allowed) when it is not one: "null", a
// path, a query, userinfo, an empty label, a wildcard anywhere but a whole first label, or a
// wildcard over a single label ("https://*.com").
std::optional<OriginPattern> parseOriginPattern(std::string_view text, std::string* why);

// An Origin request header as a browser sends it (no wildcard). nullopt for "null", a list of
// origins or anything that is not one serialised origin: such a request matches no pattern.
std::optional<OriginPattern> parseOrigin(std::string_view text);

// True when the origin (from parseOrigin) is allowed by the pattern.
bool originMatches(const OriginPattern& pattern, const OriginPattern& origin);

// The validators, each returning "" or why the value is refused (with what is allowed).
std::string checkCorsMethod(std::string_view method);  // an RFC 9110 token, or "*"
std::string checkCorsHeader(std::string_view name);    // a field name (token), or "*"
std::string checkCorsMaxAge(long long seconds);        // -1 (not sent) .. 86400

// The cross-field check of a complete policy: "" or why it cannot be served (an empty origin
// list while enabled; "*" among the origins with accessControlAllowCredentials = true).
std::string checkCorsConfig(const CorsConfig& cors);

}  // namespace mgw::config
