// CORS at the gateway (Fetch standard, section 3.2 "CORS protocol"): answers preflights for an
// API before any key is looked at, and says which fields an actual response carries. Trusts the
// validated policy; Origin and the Access-Control-Request-* fields are client input.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/cors_config.h"
#include "message/http_message.h"

namespace mgw::gateway {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// OPTIONS with Origin and Access-Control-Request-Method: a CORS preflight. Any other OPTIONS is an
// ordinary request.
bool isPreflight(const message::HttpRequest& request);

class CorsPolicy {
 public:
  // cors must have passed the config validators (the loaders reject anything else).
  explicit CorsPolicy(const config::CorsConfig& cors);

  bool enabled() const { return enabled_; }
  // The Origin field value is one serialised origin that a pattern allows.
  bool originAllowed(std::string_view origin) const;

  struct Preflight {
    bool allowed = false;
    std::string reason;  // why it was refused, for the access log
    HeaderList headers;  // the answer's fields when allowed
  };
  // The answer to a preflight (isPreflight): allowed when the origin, the requested method and
  // every requested header are allowed; then Access-Control-Allow-Origin (the request's origin),
  // -Allow-Credentials, -Allow-Methods, -Allow-Headers, -Max-Age and Vary.
  Preflight preflight(const message::HttpRequest& request) const;

  // Fields for an actual (non-preflight) response, the gateway's faults included: Vary: Origin
  // always (the answer depends on it), and when the origin is allowed Access-Control-Allow-Origin,
  // -Allow-Credentials and -Expose-Headers.
  HeaderList responseHeaders(const message::HttpRequest& request) const;

  // The response fields the gateway owns when its CORS is enabled: a backend's are removed, so a
  // backend's "Access-Control-Allow-Origin: *" cannot widen the policy.
  static const std::vector<std::string>& ownedResponseFields();

 private:
  bool enabled_ = false;
  std::vector<config::OriginPattern> origins_;
  bool credentials_ = false;
  std::vector<std::string> methods_;
  bool anyMethod_ = false;
  std::vector<std::string> headers_;
  bool anyHeader_ = false;
  std::string methodsValue_;  // joined for the answer
  std::string headersValue_;
  std::string exposeValue_;
  int maxAge_ = -1;
};

}  // namespace mgw::gateway
