// CSRF protection for /apikey and the key management API (issue 22 item 8): these endpoints take
// basic credentials, which a browser may send on its own (a cached login), so a page on another
// site must not be able to drive them. Trusts nothing in the request; a pure function of its
// fields, so every rule is unit-tested without a socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/refusal.h"

namespace mgw::sts {

// What the check reads from one request (views into it).
struct CrossSiteFacts {
  std::string_view method;
  std::optional<std::string_view> origin;     // the Origin field, when present
  std::optional<std::string_view> fetchSite;  // Sec-Fetch-Site, when present
  std::string_view host;         // the authority the client addressed (Host, or absolute-form)
  std::string_view contentType;  // "" when absent
  bool hasBody = false;          // a Content-Length above 0, or a chunked body
};

// The rules, in order:
//  1. An Origin (a browser sends it on every cross-origin request and every POST) must be this
//     listener's own origin ("https://" + the addressed host) or match one of `allowedOrigins`
//     ([listenerConfig] managementAllowedOrigins, config/cors_config.h patterns); anything else,
//     "null" included, is 403 kForeignOrigin.
//  2. Without an Origin, Sec-Fetch-Site "cross-site" or "same-site" (a browser's no-cors request
//     from another site, e.g. an <img> GET) is 403 kForeignOrigin.
//  3. A change (any method but GET, HEAD, OPTIONS) with a body must be application/json, or 415
//     kUnsupportedMediaType. A client that is no browser (no Origin, no Sec-Fetch-Site: curl,
//     scripts) may also send no Content-Type or application/x-www-form-urlencoded, which is what
//     `curl -d` sends: every curl command of the README and of WSO2's documentation keeps
//     working. text/plain and multipart/form-data (the encodings an HTML form can send) are 415
//     from anyone.
std::optional<Refusal> checkCrossSite(const CrossSiteFacts& request,
                                      const std::vector<std::string>& allowedOrigins);

}  // namespace mgw::sts
