#include "sts/cross_site.h"

#include "common/text.h"
#include "config/cors_config.h"

namespace mgw::sts {
namespace {

// The media type of a Content-Type value, without parameters and whitespace (RFC 9110 8.3.1).
std::string_view mediaType(std::string_view contentType) {
  return trimOws(contentType.substr(0, contentType.find(';')));
}

// At most 100 characters of a client's value, printable ASCII only, for a description.
std::string shown(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 100)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

bool originAllowed(std::string_view origin, std::string_view host,
                   const std::vector<std::string>& allowedOrigins) {
  const auto parsed = config::parseOrigin(origin);
  if (!parsed) return false;  // "null", a list, anything but one serialised origin
  if (!host.empty()) {
    std::string own = "https://";
    own += host;
    if (const auto self = config::parseOrigin(own); self && config::originMatches(*self, *parsed))
      return true;
  }
  for (const std::string& allowed : allowedOrigins) {
    const auto pattern = config::parseOriginPattern(allowed, nullptr);
    if (pattern && !pattern->any && config::originMatches(*pattern, *parsed)) return true;
  }
  return false;
}

}  // namespace

std::optional<Refusal> checkCrossSite(const CrossSiteFacts& request,
                                      const std::vector<std::string>& allowedOrigins) {
  const bool browser = request.origin || request.fetchSite;
  if (request.origin) {
    if (!originAllowed(*request.origin, request.host, allowedOrigins))
      return refuse(Failure::kForeignOrigin,
                    "the Origin \"" + shown(*request.origin) +
                        "\" is neither this listener's origin nor in [listenerConfig] "
                        "managementAllowedOrigins: pages on other sites may not call /apikey or "
                        "the key management API (CSRF)");
  } else if (request.fetchSite && (equalsIgnoreCase(*request.fetchSite, "cross-site") ||
                                   equalsIgnoreCase(*request.fetchSite, "same-site"))) {
    return refuse(
        Failure::kForeignOrigin,
        "a browser request from another site (Sec-Fetch-Site: " + shown(*request.fetchSite) +
            "): pages on other sites may not call /apikey or the key management API "
            "(CSRF)");
  }
  const bool change =
      request.method != "GET" && request.method != "HEAD" && request.method != "OPTIONS";
  if (!change || !request.hasBody) return std::nullopt;
  const std::string_view type = mediaType(request.contentType);
  if (equalsIgnoreCase(type, "application/json")) return std::nullopt;
  if (!browser && (type.empty() || equalsIgnoreCase(type, "application/x-www-form-urlencoded")))
    return std::nullopt;
  return refuse(Failure::kUnsupportedMediaType,
                "the body must be JSON: send Content-Type: application/json (got " +
                    (request.contentType.empty() ? std::string("none")
                                                 : "\"" + shown(request.contentType) + "\"") +
                    ")");
}

}  // namespace mgw::sts
