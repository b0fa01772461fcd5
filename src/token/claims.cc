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
      !apiList(payload, "subscribedAPIs", &c.allowedApis, reason)) {
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
  if (claims) *claims = std::move(c);
  return true;
}

}  // namespace mgw::token
