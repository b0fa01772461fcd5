// Key lifecycle endpoints (SPEC section 8), on the TLS listener only, all behind basic auth:
// POST /apikey/revoke, /apikeys (API-bound opaque keys), /applications (and their subscriptions).
// A user sees and changes their own objects, a user with role admin everyone's: an unknown id is
// 404, someone else's 403. Every answer carries Cache-Control: no-store; every error goes through
// writeFault. A key value appears in exactly two answers (create, regenerate) and in no log line.
#include <cctype>
#include <nlohmann/json.hpp>

#include "common/crypto_util.h"
#include "common/ip_matcher.h"
#include "common/log.h"
#include "common/referer_matcher.h"
#include "gateway/key_validator.h"
#include "lifecycle/ownership.h"

#include "observability/metrics.h"
#include "server/request_util.h"
#include "server/routes.h"
#include "sts/api_key_issuer.h"
#include "token/iso_time.h"

namespace mgw::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxBodyBytes = 64 * 1024;  // a management request is a few hundred bytes
constexpr std::size_t kMaxNameLength = 128;
constexpr std::int64_t kMaxValiditySeconds = 100LL * 365 * 24 * 3600;

// What every handler starts from: one state snapshot, the authenticated caller, the store.
struct Call {
  std::shared_ptr<const RuntimeState> state;
  auth::AuthOutcome caller;
  LifecycleService* lifecycle = nullptr;
  std::int64_t now = 0;

  bool owns(const std::string& owner) const {
    return lifecycle::checkOwner({caller.user, caller.isAdmin}, owner) == Failure::kNone;
  }
};

std::optional<Call> begin(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  res.setHeader("Cache-Control", "no-store");
  Call call;
  call.state = context.state();
  auto caller = authenticate(context, *call.state, req, res);
  if (!caller) return std::nullopt;
  if (req.body.size() > kMaxBodyBytes) {
    writeFault(res, Failure::kPayloadTooLarge, "the request body exceeds 64 KiB");
    return std::nullopt;
  }
  call.lifecycle = context.lifecycle();
  if (!call.lifecycle) {
    writeFault(res, Failure::kInternalError, "the embedded store is not open");
    return std::nullopt;
  }
  call.caller = std::move(*caller);
  call.now = nowSeconds();
  return call;
}

// An id from the path, safe to repeat in a description: ids are UUIDs, so anything longer or with
// other characters is cut and never echoed raw.
std::string shownId(const std::string& id) {
  std::string out;
  for (char c : id.substr(0, 64))
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '?');
  return out;
}

void reply(HttpResponse& res, int status, const json& body) {
  res.status = status;
  res.setContent(body.dump(), "application/json");
}

// The JSON object body, with only the named fields. An empty body is {} when emptyOk.
std::optional<json> parseBody(const RouteRequest& req, HttpResponse& res,
                              std::initializer_list<const char*> allowed, bool emptyOk) {
  if (req.body.empty()) {
    if (emptyOk) return json::object();
    writeFault(res, Failure::kBadRequestBody, "a JSON object body is required");
    return std::nullopt;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    writeFault(res, Failure::kBadRequestBody, "the body is not valid JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    writeFault(res, Failure::kBadRequestBody, "the body must be a JSON object");
    return std::nullopt;
  }
  for (const auto& item : body.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || item.key() == name;
    if (!known) {
      std::string list;
      for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
      writeFault(res, Failure::kBadRequestBody,
                 "unknown field \"" + item.key().substr(0, 64) + "\"; allowed: " + list);
      return std::nullopt;
    }
  }
  return body;
}

// An optional string field: false (fault written) when present with another type.
bool optionalString(const json& body, const char* name, HttpResponse& res,
                    std::optional<std::string>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_string()) {
    writeFault(res, Failure::kBadRequestBody, std::string(name) + " must be a string");
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool requiredName(const json& body, const char* name, HttpResponse& res, std::string* out) {
  std::optional<std::string> value;
  if (!optionalString(body, name, res, &value)) return false;
  if (!value || value->empty() || value->size() > kMaxNameLength) {
    writeFault(res, Failure::kBadRequestBody,
               std::string(name) + " is required: a string of 1 to " +
                   std::to_string(kMaxNameLength) + " characters");
    return false;
  }
  *out = std::move(*value);
  return true;
}

// An integer field (JSON number without fraction, or a numeric string as the STS accepts).
bool optionalInteger(const json& body, const char* name, HttpResponse& res,
                     std::optional<std::int64_t>* out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return true;
  if (it->is_number_integer()) {
    *out = it->get<std::int64_t>();
    return true;
  }
  if (it->is_number_unsigned()) {
    writeFault(res, Failure::kBadRequestBody, std::string(name) + " is out of range");
    return false;
  }
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    try {
      std::size_t used = 0;
      std::int64_t v = std::stoll(s, &used);
      if (used == s.size() && !s.empty()) {
        *out = v;
        return true;
      }
    } catch (const std::exception&) {
    }
  }
  writeFault(res, Failure::kBadRequestBody, std::string(name) + " must be an integer");
  return false;
}

struct ApiRef {
  std::string name;
  std::string version;
  std::string label() const { return name + ":" + version; }
};

// {"api": {"name", "version"}}: a deployed API the caller may use (admin: any deployed API; others:
// [[apikey.issuer.api]] narrowed by their own [b7a.users.<name>] apis, as for signed keys).
std::optional<ApiRef> usableApi(const Call& call, const json& body, HttpResponse& res,
                                const gateway::ApiDefinition** definition = nullptr) {
  auto it = body.find("api");
  if (it == body.end() || !it->is_object() || !it->contains("name") || !it->contains("version") ||
      !(*it)["name"].is_string() || !(*it)["version"].is_string() || it->size() != 2) {
    writeFault(res, Failure::kBadRequestBody,
               "api is required: {\"name\": \"...\", \"version\": \"...\"}");
    return std::nullopt;
  }
  ApiRef ref{(*it)["name"].get<std::string>(), (*it)["version"].get<std::string>()};
  const gateway::ApiDefinition* found = nullptr;
  for (const auto& api : call.state->router->apis())
    if (api.name == ref.name && api.version == ref.version) found = &api;
  if (!found) {
    writeFault(res, Failure::kNotFound,
               "no API " + ref.label().substr(0, 200) + " is deployed on this gateway");
    return std::nullopt;
  }
  if (!call.caller.isAdmin) {
    const sts::ApiKeyIssuer rules(call.state->config, call.state->signingKey);
    if (!sts::apiCovered(rules.apisFor(call.caller.apis), ref.name, ref.version)) {
      writeFault(res, Failure::kForbidden,
                 "user '" + call.caller.user + "' may not use API " + ref.label() +
                     " (see [[apikey.issuer.api]] and [b7a.users." + call.caller.user + "] apis)");
      return std::nullopt;
    }
  }
  if (definition) *definition = found;
  return ref;
}

// A throttling tier from a request body (SPEC section 13). Subscription level (an opaque key): the
// STS's rule, subscriptionTierFor. Application level: any application policy (an application's
// tier only ever adds a limit, so no user may be refused one); absent = Unlimited. False with the
// 400 written when the name is not acceptable.
bool checkedTier(const Call& call, const std::optional<std::string>& asked,
                 throttle::PolicyLevel level, HttpResponse& res, std::string* out) {
  if (asked && (asked->empty() || asked->size() > 64)) {
    writeFault(
        res, Failure::kBadRequestBody,
        "tier must be the name of a" +
            std::string(level == throttle::PolicyLevel::kApplication ? "n application-level"
                                                                     : " subscription-level") +
            " throttling policy (1 to 64 characters)");
    return false;
  }
  if (level == throttle::PolicyLevel::kSubscription) {
    std::string error;
    *out = subscriptionTierFor(*call.state, call.caller.user, asked.value_or(""), &error);
    if (!error.empty()) {
      writeFault(res, Failure::kRequestBroaderThanAllowed, error);
      return false;
    }
    return true;
  }
  *out = asked.value_or("Unlimited");
  const auto& policies = call.state->throttler->policies();
  if (policies.find(level, *out) == nullptr) {
    writeFault(res, Failure::kBadRequestBody,
               "tier '" + *out + "' is not an application-level throttling policy (known: " +
                   policyNames(policies, level) + ")");
    return false;
  }
  return true;
}

json optionalTime(std::int64_t t) { return t > 0 ? json(t) : json(nullptr); }

// Metadata only: never the value, never the hash.
json keyJson(const store::OpaqueKeyRecord& r) {
  json out = {{"id", r.id},
              {"name", r.name},
              {"owner", r.owner},
              {"api", {{"name", r.apiName}, {"version", r.apiVersion}}},
              {"keyType", store::keyTypeName(r.keyType)},
              {"lastFour", r.lastFour},
              {"created", r.createdAt},
              {"expires", optionalTime(r.expiresAt)},
              {"permittedIP", r.permittedIp},
              {"permittedReferer", r.permittedReferer},
              {"application", r.applicationId ? json(*r.applicationId) : json(nullptr)},
              {"tier", r.tier},
              {"revoked", r.revoked}};
  if (r.revoked) out["revokedAt"] = r.revokedAt;
  return out;
}

json applicationJson(const Call& call, const store::ApplicationRecord& a) {
  json subs = json::array();
  auto listed = call.lifecycle->applications().listSubscriptions(a.id);
  if (listed.ok())
    for (const auto& s : listed.value)
      subs.push_back(
          {{"api", {{"name", s.apiName}, {"version", s.apiVersion}}}, {"created", s.createdAt}});
  return {{"id", a.id},     {"name", a.name},       {"owner", a.owner}, {"created", a.createdAt},
          {"tier", a.tier}, {"subscriptions", subs}};
}

// A store failure as the client sees it, with the description for this operation.
void storeFault(HttpResponse& res, Failure f, const std::string& notFound,
                const std::string& conflict) {
  // The store answers kNotFound, kConflict, kBadRequestBody or kInternalError; an if-chain, not a
  // switch with a default (see -Wswitch-enum). Anything else is the store's failure.
  if (f == Failure::kNotFound) {
    writeFault(res, f, notFound);
  } else if (f == Failure::kConflict) {
    writeFault(res, f, conflict);
  } else if (f == Failure::kBadRequestBody) {
    writeFault(res, f, "the request is not valid");
  } else if (f == Failure::kClusterUnavailable) {
    // [cluster]: never a change on this node alone (SPEC section 14).
    writeFault(res, f,
               "the change could not be shared with the other nodes (Redis unreachable or slow); "
               "retry later");
  } else {
    writeFault(res, Failure::kInternalError, "the embedded store failed; see the server log");
  }
}

// The object the store found under this id if the caller may act on it; otherwise the 404/403 is
// written. `what` names the kind of object in the descriptions ("API key", "application").
template <typename Record>
std::optional<Record> ownedRecord(const Call& call, store::StoreResult<Record> found,
                                  std::string_view what, const std::string& id, HttpResponse& res) {
  if (!found.ok()) {
    storeFault(res, found.failure, "no " + std::string(what) + " with id " + shownId(id), "");
    return std::nullopt;
  }
  if (!call.owns(found.value.owner)) {
    writeFault(res, Failure::kForbidden,
               std::string(what) + " " + shownId(id) + " belongs to another user");
    return std::nullopt;
  }
  return std::move(found.value);
}

std::optional<store::OpaqueKeyRecord> ownedKey(const Call& call, const std::string& id,
                                               HttpResponse& res) {
  return ownedRecord(call, call.lifecycle->keys().get(id), "API key", id, res);
}

std::optional<store::ApplicationRecord> ownedApplication(const Call& call, const std::string& id,
                                                         HttpResponse& res) {
  return ownedRecord(call, call.lifecycle->applications().get(id), "application", id, res);
}

// --- POST /apikey/revoke ---

void revokeSignedKey(const Call& call, const std::string& key, HttpResponse& res) {
  const auto& config = call.state->config;
  token::VerifyResult verified =
      token::verifyToken(key, *call.state->trustedKeys, call.now, config.server.timestampSkewMs);
  if (verified.failure == Failure::kExpired) {
    // Nothing to store: the gateway refuses it on exp already. 200, so that "make sure this key is
    // dead" is idempotent for the caller.
    reply(res, 200,
          {{"revoked", nullptr},
           {"expired", true},
           {"description", "the API key has already expired; it is refused without a revocation"}});
    return;
  }
  if (verified.failure != Failure::kNone) {
    writeFault(res, Failure::kBadRequestBody,
               "apiKey does not verify (" + std::string(failureName(verified.failure)) +
                   "): only a key this gateway trusts can be revoked");
    return;
  }
  const token::Claims& claims = verified.claims;
  if (!call.caller.isAdmin &&
      (claims.sub != call.caller.user || claims.iss != config.tokenIssuer.issuer)) {
    writeFault(
        res, Failure::kForbidden,
        "user '" + call.caller.user +
            "' may revoke only keys this gateway issued to them; this key's subject is another");
    return;
  }
  if (claims.jti.empty()) {
    writeFault(res, Failure::kBadRequestBody,
               "the API key has no jti; revoke it with {\"sub\": \"...\", \"issuedBefore\": <epoch "
               "seconds>}");
    return;
  }
  const std::int64_t expiresAt = claims.exp.value_or(0);
  Failure f =
      call.lifecycle->revokeJti(claims.jti, claims.sub, expiresAt, call.caller.user, call.now);
  if (f != Failure::kNone) return storeFault(res, f, "", "");
  log::info("API key revoked",
            {{"by", call.caller.user}, {"jti", claims.jti}, {"sub", claims.sub}});
  reply(res, 200,
        {{"revoked",
          {{"type", "jti"},
           {"jti", claims.jti},
           {"sub", claims.sub},
           {"expiresAt", optionalTime(expiresAt)}}}});
}

void revokeOpaqueValue(const Call& call, const std::string& value, HttpResponse& res) {
  auto found = call.lifecycle->keys().findByValue(value);
  if (found.failure == Failure::kNotFound) {
    writeFault(res, Failure::kBadRequestBody,
               "apiKey is neither a signed key this gateway trusts nor a known opaque key");
    return;
  }
  if (!found.ok()) return storeFault(res, found.failure, "", "");
  if (!call.owns(found.value.owner)) {
    writeFault(res, Failure::kForbidden,
               "user '" + call.caller.user + "' may revoke only their own keys");
    return;
  }
  Failure f = call.lifecycle->revokeKey(found.value.id, call.now);
  if (f != Failure::kNone) return storeFault(res, f, "the API key no longer exists", "");
  log::info("opaque API key revoked", {{"by", call.caller.user}, {"id", found.value.id}});
  reply(res, 200, {{"revoked", {{"type", "opaque"}, {"id", found.value.id}}}});
}

void revoke(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res, {"apiKey", "jti", "expiresAt", "sub", "issuedBefore"}, false);
  if (!body) return;
  const int forms =
      int(body->contains("apiKey")) + int(body->contains("jti")) + int(body->contains("sub"));
  if (forms != 1) {
    writeFault(res, Failure::kBadRequestBody,
               "send exactly one of {\"apiKey\": \"...\"}, {\"jti\": \"...\"} or "
               "{\"sub\": \"...\", \"issuedBefore\": <epoch seconds>}");
    return;
  }
  if (body->contains("apiKey")) {
    if (body->size() != 1 || !(*body)["apiKey"].is_string() ||
        (*body)["apiKey"].get_ref<const std::string&>().empty()) {
      writeFault(res, Failure::kBadRequestBody,
                 "apiKey must be a non-empty string, alone in the body");
      return;
    }
    std::string key = (*body)["apiKey"].get<std::string>();
    if (key.size() <= gateway::KeyValidator::kMaxOpaqueKeyLength) {
      revokeOpaqueValue(*call, key, res);
    } else {
      revokeSignedKey(*call, key, res);
    }
    secureWipe(key);
    return;
  }
  if (body->contains("jti")) {
    std::optional<std::string> jti;
    std::optional<std::int64_t> expiresAt;
    if (!optionalString(*body, "jti", res, &jti) ||
        !optionalInteger(*body, "expiresAt", res, &expiresAt))
      return;
    if (body->contains("issuedBefore")) {
      writeFault(res, Failure::kBadRequestBody, "issuedBefore goes with sub, not with jti");
      return;
    }
    if (!jti || jti->empty() || jti->size() > 256) {
      writeFault(res, Failure::kBadRequestBody,
                 "jti must be a non-empty string of at most 256 characters");
      return;
    }
    if (!call->caller.isAdmin) {
      // A jti alone does not say whose key it is, so only an admin may revoke by jti.
      writeFault(res, Failure::kForbidden,
                 "only an admin may revoke by jti; send the key itself as {\"apiKey\": \"...\"} to "
                 "revoke your own");
      return;
    }
    // The entry is purged after expiresAt: a date already past would purge it at the next start
    // while a key without exp (or a later one) still works. Only a future date is believed.
    if (expiresAt && *expiresAt <= call->now) {
      writeFault(res, Failure::kBadRequestBody,
                 "expiresAt " + std::to_string(*expiresAt) + " is not in the future (now is " +
                     std::to_string(call->now) +
                     "); give the key's exp, or leave expiresAt out to keep the revocation for "
                     "good, or send the key itself as {\"apiKey\": \"...\"}");
      return;
    }
    const std::int64_t exp = expiresAt ? *expiresAt : 0;
    Failure f = call->lifecycle->revokeJti(*jti, "", exp, call->caller.user, call->now);
    if (f != Failure::kNone) return storeFault(res, f, "", "");
    log::info("API key revoked by jti", {{"by", call->caller.user}, {"jti", *jti}});
    reply(res, 200,
          {{"revoked", {{"type", "jti"}, {"jti", *jti}, {"expiresAt", optionalTime(exp)}}}});
    return;
  }
  std::optional<std::string> sub;
  std::optional<std::int64_t> issuedBefore;
  if (!optionalString(*body, "sub", res, &sub) ||
      !optionalInteger(*body, "issuedBefore", res, &issuedBefore))
    return;
  if (body->contains("expiresAt")) {
    writeFault(res, Failure::kBadRequestBody, "expiresAt goes with jti, not with sub");
    return;
  }
  if (!sub || sub->empty() || sub->size() > 256) {
    writeFault(res, Failure::kBadRequestBody,
               "sub must be a non-empty string of at most 256 characters");
    return;
  }
  if (!issuedBefore) {
    writeFault(res, Failure::kBadRequestBody, "issuedBefore (epoch seconds) is required with sub");
    return;
  }
  if (*issuedBefore > call->now) {
    // A watermark never moves back: one in the future would refuse keys not yet issued, for good.
    writeFault(res, Failure::kBadRequestBody,
               "issuedBefore is in the future (now is " + std::to_string(call->now) +
                   "); only keys already issued can be revoked");
    return;
  }
  if (!call->owns(*sub)) {
    writeFault(res, Failure::kForbidden,
               "user '" + call->caller.user + "' may revoke only their own keys");
    return;
  }
  std::size_t opaqueRevoked = 0;
  Failure f = call->lifecycle->revokeSubject(*sub, *issuedBefore, call->caller.user, call->now,
                                             &opaqueRevoked);
  if (f != Failure::kNone) return storeFault(res, f, "", "");
  log::info("API keys revoked by subject", {{"by", call->caller.user},
                                            {"sub", *sub},
                                            {"issuedBefore", *issuedBefore},
                                            {"opaqueKeys", opaqueRevoked}});
  reply(res, 200,
        {{"revoked",
          {{"type", "subject"},
           {"sub", *sub},
           {"issuedBefore", *issuedBefore},
           {"opaqueKeys", opaqueRevoked}}}});
}

// --- /apikeys ---

bool customValue(const json& body, HttpResponse& res, std::optional<std::string>* value) {
  if (!optionalString(body, "value", res, value)) return false;
  if (value->has_value()) {
    if (auto why = store::validateCustomKeyValue(**value)) {
      writeFault(res, Failure::kBadRequestBody, "value: " + *why);
      return false;
    }
  }
  return true;
}

void createKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res,
                        {"api", "name", "keyType", "validityPeriod", "permittedIP",
                         "permittedReferer", "value", "application", "tier"},
                        false);
  if (!body) return;
  store::NewOpaqueKey key;
  if (!requiredName(*body, "name", res, &key.name)) return;
  auto api = usableApi(*call, *body, res);
  if (!api) return;
  key.apiName = api->name;
  key.apiVersion = api->version;
  key.owner = call->caller.user;
  key.createdAt = call->now;

  std::optional<std::string> keyType, ip, referer, application, value, tier;
  std::optional<std::int64_t> validity;
  if (!optionalString(*body, "tier", res, &tier) ||
      !optionalString(*body, "keyType", res, &keyType) ||
      !optionalString(*body, "permittedIP", res, &ip) ||
      !optionalString(*body, "permittedReferer", res, &referer) ||
      !optionalString(*body, "application", res, &application) ||
      !optionalInteger(*body, "validityPeriod", res, &validity) || !customValue(*body, res, &value))
    return;
  if (keyType) {
    auto parsed = store::parseKeyType(*keyType);
    if (!parsed) {
      writeFault(res, Failure::kBadRequestBody, "keyType must be PRODUCTION or SANDBOX");
      return;
    }
    key.keyType = *parsed;
  }
  if (validity && *validity != -1) {
    if (*validity <= 0 || *validity > kMaxValiditySeconds) {
      writeFault(res, Failure::kBadRequestBody,
                 "validityPeriod must be a number of seconds from 1 to " +
                     std::to_string(kMaxValiditySeconds) +
                     ", or -1 (or absent) for a key that never expires");
      return;
    }
    key.expiresAt = call->now + *validity;
  }
  std::string error;
  if (ip && !ip->empty()) {
    if (!mgw::IpMatcher::parse(*ip, &error)) {
      writeFault(res, Failure::kBadRequestBody, "permittedIP: " + error);
      return;
    }
    key.permittedIp = *ip;
  }
  if (referer && !referer->empty()) {
    if (!mgw::RefererMatcher::parse(*referer, &error)) {
      writeFault(res, Failure::kBadRequestBody, "permittedReferer: " + error);
      return;
    }
    key.permittedReferer = *referer;
  }
  if (application) {
    if (!ownedApplication(*call, *application, res)) return;
    key.applicationId = *application;
  }
  // The subscription tier (SPEC section 13), by the rule of the STS's "tier": the key's owner's
  // [b7a.users.<name>] tier unless a known, lower one is asked for.
  if (!checkedTier(*call, tier, throttle::PolicyLevel::kSubscription, res, &key.tier)) return;

  std::string secret = value ? std::move(*value) : store::generateOpaqueKey();
  auto created = call->lifecycle->createKey(key, secret);
  if (created.failure == Failure::kConflict && !value) {  // a generated value collided: draw again
    secureWipe(secret);
    secret = store::generateOpaqueKey();
    created = call->lifecycle->createKey(key, secret);
  }
  if (created.failure == Failure::kConflict && value) {
    // 409 only tells the caller about their own key; a value someone else holds gets the answer
    // any refused value gets, so the endpoint is no oracle for other users' keys.
    const auto index = context.opaqueKeys();
    const auto existing = index ? index->find(secret) : nullptr;
    secureWipe(secret);
    if (existing && existing->owner == call->caller.user) {
      writeFault(res, Failure::kConflict,
                 "you already have an API key with this value (id " + existing->id + ")");
    } else {
      writeFault(res, Failure::kBadRequestBody, "value: not accepted; choose another value");
    }
    return;
  }
  if (!created.ok()) {
    secureWipe(secret);
    return storeFault(res, created.failure,
                      "no application with id " + shownId(key.applicationId.value_or("")),
                      "an API key with this value already exists; choose another value");
  }
  observability::metrics().countKeyIssued("opaque", store::keyTypeName(key.keyType));
  log::info("opaque API key created", {{"by", call->caller.user},
                                       {"id", created.value.id},
                                       {"api", api->label()},
                                       {"keyType", store::keyTypeName(key.keyType)},
                                       {"tier", key.tier},
                                       {"custom", value.has_value()}});
  json out = keyJson(created.value);
  out["apiKey"] = secret;
  secureWipe(secret);
  reply(res, 201, out);
}

void listKeys(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto listed = call->caller.isAdmin ? call->lifecycle->keys().listAll()
                                     : call->lifecycle->keys().listByOwner(call->caller.user);
  if (!listed.ok()) return storeFault(res, listed.failure, "", "");
  json list = json::array();
  for (const auto& r : listed.value) list.push_back(keyJson(r));
  reply(res, 200, {{"count", list.size()}, {"list", list}});
}

void getKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto key = ownedKey(*call, req.id, res);
  if (key) reply(res, 200, keyJson(*key));
}

void deleteKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto key = ownedKey(*call, req.id, res);
  if (!key) return;
  Failure f = call->lifecycle->revokeKey(key->id, call->now);
  if (f != Failure::kNone) return storeFault(res, f, "no API key with id " + shownId(key->id), "");
  log::info("opaque API key revoked", {{"by", call->caller.user}, {"id", key->id}});
  res.status = 204;
}

void regenerateKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res, {"value"}, true);
  if (!body) return;
  std::optional<std::string> value;
  if (!customValue(*body, res, &value)) return;
  auto key = ownedKey(*call, req.id, res);
  if (!key) return;
  if (key->revoked) {
    writeFault(res, Failure::kConflict,
               "API key " + key->id + " is revoked; create a new key instead");
    return;
  }
  std::string secret = value ? std::move(*value) : store::generateOpaqueKey();
  auto updated = call->lifecycle->regenerateKey(key->id, secret);
  if (updated.failure == Failure::kConflict && !value) {
    secureWipe(secret);
    secret = store::generateOpaqueKey();
    updated = call->lifecycle->regenerateKey(key->id, secret);
  }
  if (!updated.ok()) {
    secureWipe(secret);
    return storeFault(
        res, updated.failure, "no API key with id " + shownId(key->id),
        "an API key with this value already exists, or the key was revoked meanwhile");
  }
  log::info("opaque API key regenerated", {{"by", call->caller.user}, {"id", key->id}});
  json out = keyJson(updated.value);
  out["apiKey"] = secret;
  secureWipe(secret);
  reply(res, 200, out);
}

void associateKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res, {"application"}, false);
  if (!body) return;
  std::optional<std::string> application;
  if (!optionalString(*body, "application", res, &application)) return;
  if (!application || application->empty()) {
    writeFault(res, Failure::kBadRequestBody, "application (an application id) is required");
    return;
  }
  auto key = ownedKey(*call, req.id, res);
  if (!key) return;
  if (!ownedApplication(*call, *application, res)) return;
  Failure f = call->lifecycle->associateKey(key->id, *application);
  if (f != Failure::kNone)
    return storeFault(res, f, "the API key or the application no longer exists",
                      "API key " + key->id + " is revoked; it cannot be associated");
  auto updated = call->lifecycle->keys().get(key->id);
  if (!updated.ok()) return storeFault(res, updated.failure, "the API key no longer exists", "");
  reply(res, 200, keyJson(updated.value));
}

void dissociateKey(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto key = ownedKey(*call, req.id, res);
  if (!key) return;
  Failure f = call->lifecycle->dissociateKey(key->id);
  if (f != Failure::kNone) return storeFault(res, f, "the API key no longer exists", "");
  res.status = 204;
}

// --- /applications ---

void createApplication(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res, {"name", "tier"}, false);
  if (!body) return;
  std::string name, tier;
  std::optional<std::string> asked;
  if (!requiredName(*body, "name", res, &name) || !optionalString(*body, "tier", res, &asked) ||
      !checkedTier(*call, asked, throttle::PolicyLevel::kApplication, res, &tier))
    return;
  auto created = call->lifecycle->createApplication(name, call->caller.user, call->now, tier);
  if (!created.ok())
    return storeFault(res, created.failure, "",
                      "user '" + call->caller.user + "' already has an application of this name");
  log::info("application created",
            {{"by", call->caller.user}, {"id", created.value.id}, {"tier", created.value.tier}});
  reply(res, 201, applicationJson(*call, created.value));
}

void listApplications(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto listed = call->caller.isAdmin
                    ? call->lifecycle->applications().listAll()
                    : call->lifecycle->applications().listByOwner(call->caller.user);
  if (!listed.ok()) return storeFault(res, listed.failure, "", "");
  json list = json::array();
  for (const auto& a : listed.value) list.push_back(applicationJson(*call, a));
  reply(res, 200, {{"count", list.size()}, {"list", list}});
}

void getApplication(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto app = ownedApplication(*call, req.id, res);
  if (app) reply(res, 200, applicationJson(*call, *app));
}

void deleteApplication(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto app = ownedApplication(*call, req.id, res);
  if (!app) return;
  Failure f = call->lifecycle->removeApplication(app->id);
  if (f != Failure::kNone)
    return storeFault(res, f, "no application with id " + shownId(app->id), "");
  log::info("application deleted", {{"by", call->caller.user}, {"id", app->id}});
  res.status = 204;
}

void subscribe(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res, {"api"}, false);
  if (!body) return;
  auto app = ownedApplication(*call, req.id, res);
  if (!app) return;
  auto api = usableApi(*call, *body, res);
  if (!api) return;
  Failure f = call->lifecycle->subscribe(app->id, api->name, api->version, call->now);
  if (f != Failure::kNone)
    return storeFault(res, f, "no application with id " + shownId(app->id),
                      "application " + app->id + " is already subscribed to " + api->label());
  log::info("subscription created",
            {{"by", call->caller.user}, {"application", app->id}, {"api", api->label()}});
  reply(res, 201,
        {{"application", app->id},
         {"api", {{"name", api->name}, {"version", api->version}}},
         {"created", call->now}});
}

void unsubscribe(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto body = parseBody(req, res, {"api"}, false);
  if (!body) return;
  auto app = ownedApplication(*call, req.id, res);
  if (!app) return;
  auto it = body->find("api");
  if (it == body->end() || !it->is_object() || !(*it)["name"].is_string() ||
      !(*it)["version"].is_string()) {
    writeFault(res, Failure::kBadRequestBody,
               "api is required: {\"name\": \"...\", \"version\": \"...\"}");
    return;
  }
  const std::string name = (*it)["name"], version = (*it)["version"];
  Failure f = call->lifecycle->unsubscribe(app->id, name, version);
  if (f != Failure::kNone)
    return storeFault(res, f,
                      "application " + app->id + " has no subscription to " +
                          (name + ":" + version).substr(0, 200),
                      "");
  res.status = 204;
}

void listSubscriptions(ServerContext& context, const RouteRequest& req, HttpResponse& res) {
  auto call = begin(context, req, res);
  if (!call) return;
  auto app = ownedApplication(*call, req.id, res);
  if (app) reply(res, 200, applicationJson(*call, *app)["subscriptions"]);
}

// The key management API (SPEC section 8): "{id}" is one path segment.
struct Route {
  std::string_view method;
  std::string_view path;
  RouteHandler handler;
};

const Route kRoutes[] = {
    {"POST", "/apikey/revoke", revoke},
    {"POST", "/apikeys", createKey},
    {"GET", "/apikeys", listKeys},
    {"GET", "/apikeys/{id}", getKey},
    {"DELETE", "/apikeys/{id}", deleteKey},
    {"POST", "/apikeys/{id}/regenerate", regenerateKey},
    {"POST", "/apikeys/{id}/associate", associateKey},
    {"DELETE", "/apikeys/{id}/associate", dissociateKey},
    {"POST", "/applications", createApplication},
    {"GET", "/applications", listApplications},
    {"GET", "/applications/{id}", getApplication},
    {"DELETE", "/applications/{id}", deleteApplication},
    {"POST", "/applications/{id}/subscriptions", subscribe},
    {"GET", "/applications/{id}/subscriptions", listSubscriptions},
    {"DELETE", "/applications/{id}/subscriptions", unsubscribe},
};

// Segment by segment; "{id}" takes one non-empty segment.
bool matchRoute(std::string_view pattern, std::string_view path, std::string* id) {
  while (!pattern.empty() && !path.empty()) {
    const std::size_t pe = pattern.find('/', 1), se = path.find('/', 1);
    const std::string_view ps = pattern.substr(0, pe), ss = path.substr(0, se);
    if (ps == "/{id}") {
      if (ss.size() < 2) return false;
      *id = std::string(ss.substr(1));
    } else if (ps != ss) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return pattern.empty() && path.empty();
}

}  // namespace

RouteHandler findLifecycleRoute(std::string_view method, std::string_view path, std::string* id) {
  for (const Route& r : kRoutes)
    if (r.method == method && matchRoute(r.path, path, id)) return r.handler;
  return nullptr;
}

bool isLifecyclePath(std::string_view path) {
  for (std::string_view prefix : {"/apikey/revoke", "/apikeys", "/applications"})
    if (path == prefix || (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
                           path[prefix.size()] == '/'))
      return true;
  return false;
}

}  // namespace mgw::server
