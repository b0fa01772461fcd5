#include "lifecycle/request.h"

#include <initializer_list>
#include <nlohmann/json.hpp>

#include "common/ip_matcher.h"
#include "common/referer_matcher.h"
#include "store/application_store.h"

namespace mgw::lifecycle {
namespace {

using nlohmann::json;

Refusal badBody(std::string description) {
  return refuse(Failure::kBadRequestBody, std::move(description));
}

// The JSON object body, with only the named fields. An empty body is {} when emptyOk.
OrRefusal<json> parseBody(std::string_view text, std::initializer_list<const char*> allowed,
                          bool emptyOk) {
  if (text.empty()) {
    if (emptyOk) return json::object();
    return badBody("a JSON object body is required");
  }
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) return badBody("the body is not valid JSON");
  if (!body.is_object()) return badBody("the body must be a JSON object");
  for (const auto& item : body.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || item.key() == name;
    if (!known) {
      std::string list;
      for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
      return badBody("unknown field \"" + item.key().substr(0, 64) + "\"; allowed: " + list);
    }
  }
  return body;
}

// An optional string field: a refusal when present with another type.
std::optional<Refusal> optionalString(const json& body, const char* name,
                                      std::optional<std::string>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return badBody(std::string(name) + " must be a string");
  *out = it->get<std::string>();
  return std::nullopt;
}

std::optional<Refusal> requiredName(const json& body, const char* name, std::string* out) {
  std::optional<std::string> value;
  if (auto refusal = optionalString(body, name, &value)) return refusal;
  if (!value || value->empty() || value->size() > kMaxNameLength) {
    return badBody(std::string(name) + " is required: a string of 1 to " +
                   std::to_string(kMaxNameLength) + " characters");
  }
  *out = std::move(*value);
  return std::nullopt;
}

// An integer field (JSON number without fraction, or a numeric string as the STS accepts).
std::optional<Refusal> optionalInteger(const json& body, const char* name,
                                       std::optional<std::int64_t>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) {
    *out = it->get<std::int64_t>();
    return std::nullopt;
  }
  if (it->is_number_unsigned()) return badBody(std::string(name) + " is out of range");
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    try {
      std::size_t used = 0;
      std::int64_t v = std::stoll(s, &used);
      if (used == s.size() && !s.empty()) {
        *out = v;
        return std::nullopt;
      }
    } catch (const std::exception&) {
    }
  }
  return badBody(std::string(name) + " must be an integer");
}

// A custom key value: a string that store::validateCustomKeyValue accepts.
std::optional<Refusal> customValue(const json& body, std::optional<std::string>* value) {
  if (auto refusal = optionalString(body, "value", value)) return refusal;
  if (value->has_value()) {
    if (auto why = store::validateCustomKeyValue(**value)) return badBody("value: " + *why);
  }
  return std::nullopt;
}

const char* const kApiShape = "api is required: {\"name\": \"...\", \"version\": \"...\"}";

// {"api": {"name", "version"}} and nothing else in the api object.
std::optional<Refusal> strictApi(const json& body, ApiRef* out) {
  auto it = body.find("api");
  if (it == body.end() || !it->is_object() || !it->contains("name") || !it->contains("version") ||
      !(*it)["name"].is_string() || !(*it)["version"].is_string() || it->size() != 2)
    return badBody(kApiShape);
  *out = ApiRef{(*it)["name"].get<std::string>(), (*it)["version"].get<std::string>()};
  return std::nullopt;
}

// keyMode (issue 26): "perSubscription" or "shared" when present.
std::optional<Refusal> keyMode(const json& body, std::optional<std::string>* out) {
  if (auto refusal = optionalString(body, "keyMode", out)) return refusal;
  if (*out && **out != store::kPerSubscription && **out != store::kShared)
    return badBody(
        "keyMode must be \"perSubscription\" (one key per subscription, the default) "
        "or \"shared\" (one key for all the application's subscriptions)");
  return std::nullopt;
}

// plan (issue 26): a plan name when present.
std::optional<Refusal> planName(const json& body, std::optional<std::string>* out) {
  if (auto refusal = optionalString(body, "plan", out)) return refusal;
  if (*out && ((*out)->empty() || (*out)->size() > kMaxNameLength))
    return badBody("plan must be a plan name of 1 to " + std::to_string(kMaxNameLength) +
                   " characters (leave it out for the API's first plan)");
  return std::nullopt;
}

std::optional<Refusal> revokeByJti(const json& body, RevokeRequest* out) {
  std::optional<std::string> jti;
  if (auto refusal = optionalString(body, "jti", &jti)) return refusal;
  if (auto refusal = optionalInteger(body, "expiresAt", &out->expiresAt)) return refusal;
  if (body.contains("issuedBefore")) return badBody("issuedBefore goes with sub, not with jti");
  if (!jti || jti->empty() || jti->size() > 256)
    return badBody("jti must be a non-empty string of at most 256 characters");
  out->form = RevokeRequest::Form::kJti;
  out->jti = std::move(*jti);
  return std::nullopt;
}

std::optional<Refusal> revokeBySubject(const json& body, RevokeRequest* out) {
  std::optional<std::string> sub;
  std::optional<std::int64_t> issuedBefore;
  if (auto refusal = optionalString(body, "sub", &sub)) return refusal;
  if (auto refusal = optionalInteger(body, "issuedBefore", &issuedBefore)) return refusal;
  if (body.contains("expiresAt")) return badBody("expiresAt goes with jti, not with sub");
  if (!sub || sub->empty() || sub->size() > 256)
    return badBody("sub must be a non-empty string of at most 256 characters");
  if (!issuedBefore) return badBody("issuedBefore (epoch seconds) is required with sub");
  out->form = RevokeRequest::Form::kSubject;
  out->sub = std::move(*sub);
  out->issuedBefore = *issuedBefore;
  return std::nullopt;
}

// keyType, validityPeriod, permittedIP and permittedReferer: present, of the right type, valid.
std::optional<Refusal> keyRestrictions(const std::optional<std::string>& keyType,
                                       const std::optional<std::int64_t>& validity,
                                       const std::optional<std::string>& ip,
                                       const std::optional<std::string>& referer,
                                       CreateKeyRequest* out) {
  if (keyType) {
    auto parsed = store::parseKeyType(*keyType);
    if (!parsed) return badBody("keyType must be PRODUCTION or SANDBOX");
    out->keyType = *parsed;
  }
  if (validity && *validity != -1) {
    if (*validity <= 0 || *validity > kMaxValiditySeconds)
      return badBody("validityPeriod must be a number of seconds from 1 to " +
                     std::to_string(kMaxValiditySeconds) +
                     ", or -1 (or absent) for a key that never expires");
    out->validitySeconds = *validity;
  }
  std::string error;
  if (ip && !ip->empty()) {
    if (!mgw::IpMatcher::parse(*ip, &error)) return badBody("permittedIP: " + error);
    out->permittedIp = *ip;
  }
  if (referer && !referer->empty()) {
    if (!mgw::RefererMatcher::parse(*referer, &error)) return badBody("permittedReferer: " + error);
    out->permittedReferer = *referer;
  }
  return std::nullopt;
}

}  // namespace

OrRefusal<RevokeRequest> parseRevokeRequest(std::string_view text) {
  auto parsed = parseBody(text, {"apiKey", "jti", "expiresAt", "sub", "issuedBefore"}, false);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  const json& body = std::get<json>(parsed);
  const int forms =
      int(body.contains("apiKey")) + int(body.contains("jti")) + int(body.contains("sub"));
  if (forms != 1)
    return badBody(
        "send exactly one of {\"apiKey\": \"...\"}, {\"jti\": \"...\"} or "
        "{\"sub\": \"...\", \"issuedBefore\": <epoch seconds>}");
  RevokeRequest out;
  if (body.contains("apiKey")) {
    if (body.size() != 1 || !body["apiKey"].is_string() ||
        body["apiKey"].get_ref<const std::string&>().empty())
      return badBody("apiKey must be a non-empty string, alone in the body");
    out.form = RevokeRequest::Form::kApiKey;
    out.apiKey = body["apiKey"].get<std::string>();
    return out;
  }
  auto refusal = body.contains("jti") ? revokeByJti(body, &out) : revokeBySubject(body, &out);
  if (refusal) return std::move(*refusal);
  return out;
}

OrRefusal<CreateKeyRequest> parseCreateKeyRequest(std::string_view text) {
  auto parsed = parseBody(text,
                          {"api", "name", "keyType", "validityPeriod", "permittedIP",
                           "permittedReferer", "value", "application", "tier", "shared"},
                          false);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  const json& body = std::get<json>(parsed);
  CreateKeyRequest out;
  if (auto refusal = requiredName(body, "name", &out.name)) return std::move(*refusal);
  // Issue 26: {"shared": true, "application": id} is the application's shared key, bound to no
  // API (it works on the APIs the application is subscribed to).
  if (auto it = body.find("shared"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return badBody("shared must be true or false");
    out.shared = it->get<bool>();
  }
  if (out.shared) {
    if (body.contains("api"))
      return badBody(
          "a shared key is bound to no API: leave api out (it works on every API its "
          "application is subscribed to)");
    if (!body.contains("application") || !body["application"].is_string() ||
        body["application"].get_ref<const std::string&>().empty())
      return badBody("application (an application id) is required for a shared key");
  } else if (auto refusal = strictApi(body, &out.api)) {
    return std::move(*refusal);
  }
  std::optional<std::string> keyType, ip, referer;
  std::optional<std::int64_t> validity;
  for (auto refusal :
       {optionalString(body, "tier", &out.tier), optionalString(body, "keyType", &keyType),
        optionalString(body, "permittedIP", &ip),
        optionalString(body, "permittedReferer", &referer),
        optionalString(body, "application", &out.application),
        optionalInteger(body, "validityPeriod", &validity), customValue(body, &out.value)}) {
    if (refusal) {
      out.fieldError = std::move(refusal);
      return out;
    }
  }
  out.fieldError = keyRestrictions(keyType, validity, ip, referer, &out);
  return out;
}

OrRefusal<RegenerateRequest> parseRegenerateRequest(std::string_view text) {
  auto parsed = parseBody(text, {"value", "gracePeriodSeconds"}, true);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  RegenerateRequest out;
  std::optional<std::int64_t> grace;
  if (auto refusal = optionalInteger(std::get<json>(parsed), "gracePeriodSeconds", &grace))
    return std::move(*refusal);
  if (grace && *grace < 0)
    return badBody("gracePeriodSeconds must be 0 (the old value stops at once) or more");
  out.gracePeriodSeconds = grace.value_or(0);
  if (auto refusal = customValue(std::get<json>(parsed), &out.value)) return std::move(*refusal);
  return out;
}

OrRefusal<LeakReport> parseLeakReport(std::string_view text) {
  if (text.empty()) return badBody("a JSON body is required: [{\"token\": \"...\"}, ...]");
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) return badBody("the body is not valid JSON");
  LeakReport out;
  auto add = [&out](std::string token, std::string type, std::string url) {
    out.items.push_back({std::move(token), std::move(type), std::move(url)});
  };
  const char* const shape =
      "the body must be [{\"token\": \"...\", \"type\": \"...\", \"url\": \"...\"}, ...] "
      "(GitHub secret scanning's shape) or {\"keys\": [\"...\", ...]}";
  if (body.is_object()) {
    auto keys = body.find("keys");
    if (body.size() != 1 || keys == body.end() || !keys->is_array()) return badBody(shape);
    for (const json& k : *keys) {
      if (!k.is_string()) return badBody("keys must hold strings only");
      add(k.get<std::string>(), "", "");
    }
  } else if (body.is_array()) {
    for (const json& item : body) {
      if (!item.is_object()) return badBody(shape);
      auto token = item.find("token");
      if (token == item.end() || !token->is_string()) return badBody(shape);
      auto text = [&item](const char* name) {
        auto it = item.find(name);
        return it != item.end() && it->is_string() ? it->get<std::string>().substr(0, 256)
                                                   : std::string();
      };
      add(token->get<std::string>(), text("type"), text("url"));
    }
  } else {
    return badBody(shape);
  }
  if (out.items.empty()) return badBody("the report holds no key");
  if (out.items.size() > kMaxLeakReports)
    return badBody("at most " + std::to_string(kMaxLeakReports) + " keys per report");
  return out;
}

OrRefusal<AssociateRequest> parseAssociateRequest(std::string_view text) {
  auto parsed = parseBody(text, {"application"}, false);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  std::optional<std::string> application;
  if (auto refusal = optionalString(std::get<json>(parsed), "application", &application))
    return std::move(*refusal);
  if (!application || application->empty())
    return badBody("application (an application id) is required");
  return AssociateRequest{std::move(*application)};
}

OrRefusal<CreateApplicationRequest> parseCreateApplicationRequest(std::string_view text) {
  auto parsed = parseBody(text, {"name", "tier", "keyMode"}, false);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  const json& body = std::get<json>(parsed);
  CreateApplicationRequest out;
  if (auto refusal = requiredName(body, "name", &out.name)) return std::move(*refusal);
  if (auto refusal = optionalString(body, "tier", &out.tier)) return std::move(*refusal);
  if (auto refusal = keyMode(body, &out.keyMode)) return std::move(*refusal);
  return out;
}

OrRefusal<SubscriptionRequest> parseSubscribeRequest(std::string_view text) {
  auto parsed = parseBody(text, {"api", "plan", "keyMode"}, false);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  const json& body = std::get<json>(parsed);
  SubscriptionRequest out;
  out.apiError = strictApi(body, &out.api);
  if (!out.apiError) out.apiError = planName(body, &out.plan);
  if (!out.apiError) out.apiError = keyMode(body, &out.keyMode);
  return out;
}

OrRefusal<SubscriptionRequest> parseUnsubscribeRequest(std::string_view text) {
  auto parsed = parseBody(text, {"api", "plan"}, false);
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return std::move(*refusal);
  const json& body = std::get<json>(parsed);
  auto it = body.find("api");
  SubscriptionRequest out;
  if (it == body.end() || !it->is_object() || !it->contains("name") || !(*it)["name"].is_string() ||
      !it->contains("version") || !(*it)["version"].is_string())
    out.apiError = badBody(kApiShape);
  else
    out.api = ApiRef{(*it)["name"].get<std::string>(), (*it)["version"].get<std::string>()};
  if (!out.apiError) out.apiError = planName(body, &out.plan);
  return out;
}

}  // namespace mgw::lifecycle
