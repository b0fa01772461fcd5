#include <cmath>
#include <limits>

#include "token/jws.h"

namespace mgw::token {
namespace {

bool optionalString(const nlohmann::json& payload, const char* name, std::string* out,
                    std::string* reason) {
  auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (!it->is_string()) {
    *reason = std::string("claim \"") + name + "\" is not a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// RFC 7519 section 2 NumericDate: a JSON number of seconds, possibly fractional (truncated here).
// WSO2 issuers have been seen writing it as a decimal string, which is accepted; anything else is
// not.
bool numericDate(const nlohmann::json& payload, const char* name, std::optional<std::int64_t>* out,
                 std::string* reason) {
  auto it = payload.find(name);
  if (it == payload.end()) return true;
  const nlohmann::json& v = *it;
  auto wrong = [&]() {
    *reason = std::string("claim \"") + name + "\" is not a NumericDate (RFC 7519 section 2)";
    return false;
  };
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      return wrong();
    }
    *out = v.get<std::int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d >= 9.2e18 || d <= -9.2e18) return wrong();
    *out = static_cast<std::int64_t>(std::floor(d));
    return true;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 18) return wrong();
    std::int64_t value = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return wrong();
      value = value * 10 + (c - '0');
    }
    *out = value;
    return true;
  }
  return wrong();
}

// allowedAPIs (micro-gw, WSO2 API Microgateway) and subscribedAPIs (WSO2 API Manager) are arrays of
// objects with at least "name" and "version"; other members (context, publisher, ...) are ignored.
bool apiList(const nlohmann::json& payload, const char* name, std::vector<AllowedApi>* out,
             std::string* reason) {
  auto it = payload.find(name);
  if (it == payload.end()) return true;
  if (!it->is_array()) {
    *reason = std::string("claim \"") + name + "\" is not an array";
    return false;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& entry = (*it)[i];
    const std::string where = std::string("claim \"") + name + "\"[" + std::to_string(i) + "]";
    if (!entry.is_object()) {
      *reason = where + " is not an object";
      return false;
    }
    auto apiName = entry.find("name");
    auto apiVersion = entry.find("version");
    if (apiName == entry.end() || !apiName->is_string() || apiVersion == entry.end() ||
        !apiVersion->is_string()) {
      *reason = where + " needs string \"name\" and \"version\"";
      return false;
    }
    AllowedApi api{apiName->get<std::string>(), apiVersion->get<std::string>(), {}};
    auto tier = entry.find("subscriptionTier");
    if (tier != entry.end() && tier->is_string()) api.tier = tier->get<std::string>();
    out->push_back(std::move(api));
  }
  return true;
}

// RFC 7519 section 4.1.3: "aud" is one string or an array of strings.
bool audience(const nlohmann::json& payload, std::vector<std::string>* out, std::string* reason) {
  auto it = payload.find("aud");
  if (it == payload.end()) return true;
  if (it->is_string()) {
    out->push_back(it->get<std::string>());
    return true;
  }
  if (it->is_array()) {
    for (const auto& item : *it) {
      if (!item.is_string()) {
        *reason = "claim \"aud\" has an entry that is not a string";
        return false;
      }
      out->push_back(item.get<std::string>());
    }
    return true;
  }
  *reason = "claim \"aud\" is neither a string nor an array of strings";
  return false;
}

// OAuth2 scopes: "scope" as a space-separated string (RFC 8693 section 4.2), or an array of
// strings as some issuers write it; kept space-separated.
bool scopes(const nlohmann::json& payload, std::string* out, std::string* reason) {
  auto it = payload.find("scope");
  if (it == payload.end()) return true;
  if (it->is_string()) {
    *out = it->get<std::string>();
    return true;
  }
  if (it->is_array()) {
    for (const auto& item : *it) {
      if (!item.is_string()) {
        *reason = "claim \"scope\" has an entry that is not a string";
        return false;
      }
      if (!out->empty()) *out += ' ';
      *out += item.get<std::string>();
    }
    return true;
  }
  *reason = "claim \"scope\" is neither a string nor an array of strings";
  return false;
}

}  // namespace

bool claimsFromJson(const nlohmann::json& payload, Claims* claims, std::string* reason) {
  std::string ignored;
  if (reason == nullptr) reason = &ignored;
  if (!payload.is_object()) {
    *reason = "claims are not a JSON object";
    return false;
  }
  Claims c;
  std::optional<std::int64_t> iat;
  if (!optionalString(payload, "sub", &c.sub, reason) ||
      !optionalString(payload, "iss", &c.iss, reason) ||
      !optionalString(payload, "jti", &c.jti, reason) ||
      !optionalString(payload, "keytype", &c.keytype, reason) ||
      !optionalString(payload, "permittedIP", &c.permittedIP, reason) ||
      !optionalString(payload, "permittedReferer", &c.permittedReferer, reason) ||
      !numericDate(payload, "iat", &iat, reason) || !numericDate(payload, "exp", &c.exp, reason) ||
      !numericDate(payload, "nbf", &c.nbf, reason) ||
      !apiList(payload, "allowedAPIs", &c.allowedApis, reason) ||
      !apiList(payload, "subscribedAPIs", &c.allowedApis, reason) ||
      !audience(payload, &c.audience, reason) || !scopes(payload, &c.scope, reason)) {
    return false;
  }
  if (!optionalString(payload, "tier", &c.tier, reason)) return false;
  // WSO2 API Manager: "application": {"id": 2, "uuid": "...", "name", "owner", "tier"}.
  if (auto app = payload.find("application"); app != payload.end() && app->is_object()) {
    auto text = [&](const char* key) -> std::string {
      auto it = app->find(key);
      if (it == app->end()) return "";
      if (it->is_string()) return it->get<std::string>();
      if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
      return "";
    };
    c.applicationId = text("uuid");
    if (c.applicationId.empty()) c.applicationId = text("id");
    if (c.applicationId.empty() && !text("name").empty())
      c.applicationId = text("owner") + "/" + text("name");
    c.applicationTier = text("tier");
  }
  c.iat = iat.value_or(0);
  // WSO2's own test tokens (and some WSO2 API Manager versions) wrote iat in milliseconds. 10^12
  // seconds is the year 33658, while every millisecond time since September 2001 is above it: such
  // a value is read as milliseconds (floored to seconds). The future-iat refusal then applies to
  // the seconds as to any other token, so nothing a seconds-token could not do gets through.
  if (c.iat >= kMillisecondIatThreshold) c.iat /= 1000;
  // The application's name, for the backend JWT (SPEC section 15), read leniently: a value of
  // another shape is left out, never a refusal.
  if (auto a = payload.find("application"); a != payload.end()) {
    if (a->is_string()) {
      c.application = *a;
    } else if (a->is_object()) {
      if (auto n = a->find("name"); n != a->end() && n->is_string()) c.application = *n;
    }
  }
  if (claims) *claims = std::move(c);
  return true;
}

}  // namespace mgw::token
