#include "sts/api_key_issuer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/crypto_util.h"
#include "common/ip_matcher.h"
#include "common/key_format.h"
#include "common/referer_matcher.h"

namespace mgw::sts {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxValiditySeconds =
    100LL * 365 * 24 * 3600;  // keeps exp far from overflow

ParseResult badRequest(std::string description) {
  ParseResult result;
  result.failure = Failure::kBadRequestBody;
  result.description = std::move(description);
  return result;
}

std::optional<std::int64_t> parseValidity(const json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    // Converting a double outside int64's range is undefined behaviour (found by fuzz_sts_request:
    // {"validityTime":1e300}); no such value is a validity anyway.
    if (!(d > -9.2e18 && d < 9.2e18)) return std::nullopt;
    if (d != static_cast<double>(static_cast<std::int64_t>(d))) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  if (value.is_string()) {  // the seed's users send "600" as often as 600
    const std::string& s = value.get_ref<const std::string&>();
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::size_t start = s[0] == '-' ? 1 : 0;
    if (start == s.size()) return std::nullopt;
    for (std::size_t i = start; i < s.size(); ++i)
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

// "Name:version" -> (name, version); the name may itself contain ':' only before the last one.
std::optional<token::AllowedApi> splitUserApi(const std::string& entry) {
  auto colon = entry.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size()) return std::nullopt;
  return token::AllowedApi{entry.substr(0, colon), entry.substr(colon + 1), {}};
}

}  // namespace

bool apiCovered(const std::vector<token::AllowedApi>& allowed, std::string_view name,
                std::string_view version) {
  for (const auto& api : allowed)
    if (api.name == name && (api.version == "*" || api.version == version)) return true;
  return false;
}

ParseResult parseIssueRequest(std::string_view body) {
  ParseResult result;
  bool blank = true;
  for (char c : body)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') blank = false;
  if (blank) return result;

  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) return badRequest("the request body is not valid JSON");
  if (!doc.is_object()) return badRequest("the request body must be a JSON object");

  for (const auto& [field, value] : doc.items()) {
    if (field == "validityTime") {
      auto seconds = parseValidity(value);
      if (!seconds) return badRequest("validityTime must be a whole number of seconds");
      result.request.validityTime = *seconds;
    } else if (field == "allowedAPIs") {
      if (!value.is_array())
        return badRequest("allowedAPIs must be an array of {\"name\", \"version\"}");
      std::vector<token::AllowedApi> apis;
      for (const auto& entry : value) {
        if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
            !entry.contains("version") || !entry["version"].is_string())
          return badRequest(
              "each allowedAPIs entry must be {\"name\": string, \"version\": string}");
        apis.push_back({entry["name"].get<std::string>(), entry["version"].get<std::string>(), {}});
      }
      result.request.allowedApis = std::move(apis);
    } else if (field == "keyType") {
      if (!value.is_string() || (value != "PRODUCTION" && value != "SANDBOX"))
        return badRequest("keyType must be \"PRODUCTION\" or \"SANDBOX\"");
      result.request.keyType = value.get<std::string>();
    } else if (field == "permittedIP") {
      if (!value.is_string())
        return badRequest("permittedIP must be a string of comma-separated addresses");
      std::string error = restrictionListTooLarge("permittedIP", value.get<std::string>());
      if (!error.empty()) return badRequest(error);
      if (!mgw::IpMatcher::parse(value.get<std::string>(), &error))
        return badRequest("permittedIP: " + error);
      result.request.permittedIP = value.get<std::string>();
    } else if (field == "permittedReferer") {
      if (!value.is_string())
        return badRequest("permittedReferer must be a string of comma-separated patterns");
      std::string error = restrictionListTooLarge("permittedReferer", value.get<std::string>());
      if (!error.empty()) return badRequest(error);
      if (!mgw::RefererMatcher::parse(value.get<std::string>(), &error))
        return badRequest("permittedReferer: " + error);
      result.request.permittedReferer = value.get<std::string>();
    } else if (field == "tier") {
      if (!value.is_string() || value.get<std::string>().empty() ||
          value.get<std::string>().size() > 64)
        return badRequest("tier must be the name of a subscription policy (at most 64 characters)");
      result.request.tier = value.get<std::string>();
    } else {
      return badRequest(
          "unknown field '" + field +
          "'; allowed: validityTime, allowedAPIs, keyType, permittedIP, permittedReferer, tier");
    }
  }
  return result;
}

ApiKeyIssuer::ApiKeyIssuer(const config::Config& config,
                           std::shared_ptr<const token::SigningKey> signingKey)
    : issuer_(config.tokenIssuer),
      framePrefix_(config.tokenIssuer.keyPrefix ? config.opaqueKeys.keyPrefix : ""),
      issuerApis_(config.issuerApis) {
  std::vector<token::SigningKeyEntry> one;
  if (signingKey) one.push_back({config.tokenIssuer.certificateAlias, "", 0, 0, {}, signingKey});
  keys_ = std::make_shared<const token::SigningKeySet>(std::move(one), 0, 0);
}

ApiKeyIssuer::ApiKeyIssuer(std::shared_ptr<const token::SigningKeySet> keys,
                           const config::Config& config)
    : issuer_(config.tokenIssuer),
      framePrefix_(config.tokenIssuer.keyPrefix ? config.opaqueKeys.keyPrefix : ""),
      issuerApis_(config.issuerApis),
      keys_(std::move(keys)) {}

std::vector<token::AllowedApi> ApiKeyIssuer::apisFor(
    const std::optional<std::vector<std::string>>& userApis) const {
  std::vector<token::AllowedApi> configured;
  for (const auto& api : issuerApis_)
    for (const auto& version : api.versions) configured.push_back({api.name, version, {}});
  if (!userApis) return configured;

  // Narrow: a user entry counts only where the issuer allows it too.
  std::vector<token::AllowedApi> narrowed;
  for (const auto& entry : *userApis) {
    auto wanted = splitUserApi(entry);
    if (!wanted) continue;
    for (const auto& api : configured) {
      if (api.name != wanted->name) continue;
      if (wanted->version == "*") {
        narrowed.push_back(api);
      } else if (api.version == "*" || api.version == wanted->version) {
        narrowed.push_back(*wanted);
        break;
      }
    }
  }
  return narrowed;
}

IssuedKey ApiKeyIssuer::issue(const std::string& user,
                              const std::optional<std::vector<std::string>>& userApis,
                              const IssueRequest& request, std::int64_t nowSeconds) const {
  IssuedKey out;
  if (!issuer_.enabled) {
    out.failure = Failure::kIssuerDisabled;
    out.description =
        "the API key issuer is disabled ([apikey.issuer.tokenConfig] enabled = false)";
    return out;
  }

  const auto mayHave = apisFor(userApis);
  std::vector<token::AllowedApi> apis = mayHave;
  if (request.allowedApis) {
    for (const auto& wanted : *request.allowedApis) {
      bool covered = wanted.version == "*"
                         ? std::any_of(mayHave.begin(), mayHave.end(),
                                       [&](const auto& a) {
                                         return a.name == wanted.name && a.version == "*";
                                       })
                         : apiCovered(mayHave, wanted.name, wanted.version);
      if (!covered) {
        out.failure = Failure::kRequestBroaderThanAllowed;
        out.description = "allowedAPIs asks for " + wanted.name + ":" + wanted.version +
                          ", which user '" + user + "' may not put into a key";
        return out;
      }
    }
    apis = *request.allowedApis;
  }

  // Validity: the request may only shorten the configured one, or set one where it is unlimited.
  std::optional<std::int64_t> validity;
  if (issuer_.validityTime > 0) validity = issuer_.validityTime;
  if (request.validityTime && *request.validityTime > 0) {
    std::int64_t asked = std::min(*request.validityTime, kMaxValiditySeconds);
    if (!validity || asked < *validity) validity = asked;
  }

  json claims = {{"sub", user},
                 {"iss", issuer_.issuer},
                 {"iat", nowSeconds},
                 {"jti", uuidV4()},
                 {"keytype", request.keyType}};
  if (validity) claims["exp"] = nowSeconds + *validity;
  // RFC 7519 section 4.1.3; WSO2 MGW 3.x's [apikey.issuer.tokenConfig] audience.
  if (!issuer_.audience.empty()) claims["aud"] = issuer_.audience;
  json allowed = json::array();
  for (const auto& api : apis) allowed.push_back({{"name", api.name}, {"version", api.version}});
  claims["allowedAPIs"] = std::move(allowed);
  if (!request.permittedIP.empty()) claims["permittedIP"] = request.permittedIP;
  if (!request.permittedReferer.empty()) claims["permittedReferer"] = request.permittedReferer;
  if (!request.tier.empty()) claims["tier"] = request.tier;

  // The key active now signs, under its own kid (issue 25: rotated keys).
  const token::SigningKeyEntry* signer = keys_->activeAt(nowSeconds);
  std::optional<std::string> key;
  if (signer && signer->key)
    key = token::signCompact({{"typ", "JWT"}, {"kid", signer->kid}}, claims, *signer->key);
  if (!key) {
    out.failure = Failure::kSigningFailed;
    out.description = "the API key could not be signed";
    return out;
  }
  if (key->size() > token::kMaxTokenBytes) {
    // The gateway refuses a key over kMaxTokenBytes (SPEC section 7): never hand one out.
    out.failure = Failure::kBadRequestBody;
    out.description = "the API key would be " + std::to_string(key->size()) + " bytes, over the " +
                      std::to_string(token::kMaxTokenBytes) +
                      " the gateway accepts; ask for fewer allowedAPIs, permittedIP or "
                      "permittedReferer entries";
    secureWipe(*key);
    return out;
  }
  if (framePrefix_.empty()) {
    out.apiKey = std::move(*key);
  } else {
    // Framed for secret scanners (issue 25 item 4); the JWS inside is unchanged, so its size
    // bound above is what the gateway checks after taking the frame off.
    out.apiKey = frameSignedKey(framePrefix_, *key);
    secureWipe(*key);
  }
  out.expiresIn = validity;
  out.jti = claims["jti"].get<std::string>();
  return out;
}

std::string restrictionListTooLarge(std::string_view field, std::string_view list) {
  if (list.size() > kMaxRestrictionListBytes) {
    return std::string(field) + " is " + std::to_string(list.size()) + " characters; at most " +
           std::to_string(kMaxRestrictionListBytes) + " are accepted";
  }
  const auto entries = static_cast<std::size_t>(std::count(list.begin(), list.end(), ',')) + 1;
  if (entries > kMaxRestrictionEntries) {
    return std::string(field) + " has " + std::to_string(entries) + " entries; at most " +
           std::to_string(kMaxRestrictionEntries) + " are accepted";
  }
  return "";
}

}  // namespace mgw::sts
