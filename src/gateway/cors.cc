#include "gateway/cors.h"

#include <algorithm>

#include "common/text.h"

namespace mgw::gateway {
namespace {

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (s == "*") continue;
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace

bool isPreflight(const message::HttpRequest& request) {
  return request.method == "OPTIONS" && request.hasHeader("Origin") &&
         request.hasHeader("Access-Control-Request-Method");
}

CorsPolicy::CorsPolicy(const config::CorsConfig& cors)
    : enabled_(cors.enabled), credentials_(cors.allowCredentials), maxAge_(cors.maxAgeSeconds) {
  for (const auto& o : cors.allowOrigins) {
    if (auto p = config::parseOriginPattern(o, nullptr)) origins_.push_back(*p);
  }
  for (const auto& m : cors.allowMethods) {
    if (m == "*")
      anyMethod_ = true;
    else
      methods_.push_back(m);
  }
  for (const auto& h : cors.allowHeaders) {
    if (h == "*")
      anyHeader_ = true;
    else
      headers_.push_back(h);
  }
  methodsValue_ = joinList(cors.allowMethods);
  headersValue_ = joinList(cors.allowHeaders);
  exposeValue_ = joinList(cors.exposeHeaders);
}

bool CorsPolicy::originAllowed(std::string_view origin) const {
  if (!enabled_) return false;
  const auto parsed = config::parseOrigin(origin);
  if (!parsed) return false;
  return std::any_of(origins_.begin(), origins_.end(), [&](const config::OriginPattern& p) {
    return config::originMatches(p, *parsed);
  });
}

CorsPolicy::Preflight CorsPolicy::preflight(const message::HttpRequest& request) const {
  Preflight out;
  // Origin is a single field (RFC 6454 section 7.3): two of them are refused, not guessed at.
  if (request.headers.count("Origin") != 1) {
    out.reason = "cors preflight: more than one Origin field";
    return out;
  }
  const std::string& origin = request.header("Origin");
  if (!originAllowed(origin)) {
    out.reason = "cors preflight: origin not allowed";
    return out;
  }
  // Methods are case-sensitive (RFC 9110 section 9.1); the Fetch standard upper-cases the
  // well-known ones before asking.
  const std::string method(trimOws(request.header("Access-Control-Request-Method")));
  if (!anyMethod_ && std::find(methods_.begin(), methods_.end(), method) == methods_.end()) {
    out.reason = "cors preflight: method " + method.substr(0, 16) + " not allowed";
    return out;
  }
  const std::string requested = request.joinedHeader("Access-Control-Request-Headers");
  std::string refusedHeader;
  forEachListEntry(requested, [&](std::string_view entry) {
    const std::string_view name = trimOws(entry);
    if (name.empty() || anyHeader_) return true;
    const bool ok = std::any_of(headers_.begin(), headers_.end(),
                                [&](const std::string& h) { return equalsIgnoreCase(h, name); });
    if (!ok) refusedHeader = std::string(name.substr(0, 64));
    return ok;
  });
  if (!refusedHeader.empty()) {
    out.reason = "cors preflight: header " + refusedHeader + " not allowed";
    return out;
  }
  out.allowed = true;
  out.headers.emplace_back("Access-Control-Allow-Origin", origin);
  if (credentials_) out.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  // "*" echoes what was asked: with credentials a browser reads "*" literally (Fetch 3.2.3).
  std::string methods = methodsValue_;
  if (anyMethod_ && std::find(methods_.begin(), methods_.end(), method) == methods_.end())
    methods = methods.empty() ? method : methods + ", " + method;
  if (!methods.empty()) out.headers.emplace_back("Access-Control-Allow-Methods", methods);
  std::string headers = anyHeader_ ? std::string(trimOws(requested)) : headersValue_;
  if (anyHeader_ && !headersValue_.empty())
    headers = headers.empty() ? headersValue_ : headersValue_ + ", " + headers;
  if (!headers.empty()) out.headers.emplace_back("Access-Control-Allow-Headers", headers);
  if (maxAge_ >= 0) out.headers.emplace_back("Access-Control-Max-Age", std::to_string(maxAge_));
  out.headers.emplace_back("Vary",
                           "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  return out;
}

HeaderList CorsPolicy::responseHeaders(const message::HttpRequest& request) const {
  HeaderList out;
  if (!enabled_) return out;
  out.emplace_back("Vary", "Origin");
  if (request.headers.count("Origin") != 1) return out;
  const std::string& origin = request.header("Origin");
  if (!originAllowed(origin)) return out;
  out.emplace_back("Access-Control-Allow-Origin", origin);
  if (credentials_) out.emplace_back("Access-Control-Allow-Credentials", "true");
  if (!exposeValue_.empty()) out.emplace_back("Access-Control-Expose-Headers", exposeValue_);
  return out;
}

const std::vector<std::string>& CorsPolicy::ownedResponseFields() {
  static const std::vector<std::string> kFields = {
      "Access-Control-Allow-Origin",  "Access-Control-Allow-Credentials",
      "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
      "Access-Control-Max-Age",       "Access-Control-Expose-Headers"};
  return kFields;
}

}  // namespace mgw::gateway
