#include "lifecycle/key_management.h"

#include <algorithm>
#include <cctype>

#include "common/crypto_util.h"
#include "common/key_format.h"
#include "common/log.h"
#include "observability/metrics.h"
#include "sts/api_key_issuer.h"
#include "sts/tier.h"
#include "token/iso_time.h"

namespace mgw::lifecycle {
namespace {

using nlohmann::json;

Reply ok(json body) { return Reply{200, std::move(body)}; }
Reply created(json body) { return Reply{201, std::move(body)}; }
Reply noContent() { return Reply{204, nullptr}; }

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
              {"revoked", r.revoked},
              {"lastUsed", optionalTime(r.lastUsed)}};
  if (r.revoked) out["revokedAt"] = r.revokedAt;
  out["shared"] = r.shared;  // issue 26: the application's shared key (api is null)
  if (r.shared) out["api"] = nullptr;
  // Issue 25: the value before the last regenerate, while its grace period may still run.
  if (!r.previousHash.empty())
    out["previousValue"] = {{"replacedAt", r.replacedAt}, {"validUntil", r.previousUntil}};
  return out;
}

// What an API's publisher sees of an application's shared key (issue 26): that it exists and
// whose it is, never its restrictions or any way to act on it.
json publisherViewJson(const store::OpaqueKeyRecord& r, const json& subscribes) {
  return {{"id", r.id},
          {"lastFour", r.lastFour},
          {"owner", r.owner},
          {"shared", true},
          {"application", r.applicationId ? json(*r.applicationId) : json(nullptr)},
          {"revoked", r.revoked},
          {"subscribes", subscribes},
          {"access", "view"}};
}

json apiRefJson(const std::string& name, const std::string& version) {
  return {{"name", name}, {"version", version}};
}

json planJson(const std::string& plan) { return plan.empty() ? json(nullptr) : json(plan); }

// The mode an application's keys follow: "" (not chosen yet) counts as perSubscription.
std::string effectiveKeyMode(const std::string& mode) {
  return mode.empty() ? std::string(store::kPerSubscription) : mode;
}

// A key value's reply: the metadata and, this once, the value itself.
Reply withValue(int status, const store::OpaqueKeyRecord& r, std::string& secret) {
  json out = keyJson(r);
  out["apiKey"] = secret;
  secureWipe(secret);
  return Reply{status, std::move(out)};
}

// What the request says of a new key; the application and the tier are checked by the caller.
store::NewOpaqueKey newKey(const CreateKeyRequest& request, const std::string& owner,
                           std::int64_t now) {
  store::NewOpaqueKey key;
  key.name = request.name;
  key.apiName = request.api.name;
  key.apiVersion = request.api.version;
  key.owner = owner;
  key.createdAt = now;
  key.keyType = request.keyType;
  if (request.validitySeconds) key.expiresAt = now + *request.validitySeconds;
  key.permittedIp = request.permittedIp;
  key.permittedReferer = request.permittedReferer;
  return key;
}

}  // namespace

std::string shownId(const std::string& id) {
  std::string out;
  for (char c : id.substr(0, 64))
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '?');
  return out;
}

Refusal storeRefusal(Failure failure, const std::string& notFound, const std::string& conflict) {
  switch (failure) {
    case Failure::kNotFound:
      return refuse(failure, notFound);
    case Failure::kConflict:
      return refuse(failure, conflict);
    case Failure::kBadRequestBody:
      return refuse(failure, "the request is not valid");
    case Failure::kClusterUnavailable:
      // [cluster]: never a change on this node alone (SPEC section 14).
      return refuse(failure,
                    "the change could not be shared with the other nodes (Redis unreachable or "
                    "slow); retry later");
    case Failure::kNone:
    case Failure::kMissingCredentials:
    case Failure::kKeyTooLarge:
    case Failure::kMalformedKey:
    case Failure::kUnknownKey:
    case Failure::kAlgorithmMismatch:
    case Failure::kBadSignature:
    case Failure::kWrongIssuer:
    case Failure::kExpired:
    case Failure::kNotYetValid:
    case Failure::kRevoked:
    case Failure::kWrongAudience:
    case Failure::kUnsupportedSecurity:
    case Failure::kApiNotAllowed:
    case Failure::kIpNotPermitted:
    case Failure::kRefererNotPermitted:
    case Failure::kSandboxNotAvailable:
    case Failure::kNotSubscribed:
    case Failure::kMissingScope:
    case Failure::kCorsRefused:
    case Failure::kNoApi:
    case Failure::kNoResource:
    case Failure::kPathParameters:
    case Failure::kAmbiguousPath:
    case Failure::kBackendUnreachable:
    case Failure::kBackendRefused:
    case Failure::kBackendReset:
    case Failure::kBackendTlsFailed:
    case Failure::kBackendBadResponse:
    case Failure::kBackendTimeout:
    case Failure::kTooManyInvalidKeys:
    case Failure::kApiThrottled:
    case Failure::kResourceThrottled:
    case Failure::kApplicationThrottled:
    case Failure::kSubscriptionThrottled:
    case Failure::kThrottlePolicyMissing:
    case Failure::kAuthMissing:
    case Failure::kAuthMalformed:
    case Failure::kAuthInvalid:
    case Failure::kTooManyAttempts:
    case Failure::kRequestBroaderThanAllowed:
    case Failure::kIssuerDisabled:
    case Failure::kSigningFailed:
    case Failure::kForbidden:
    case Failure::kSchemaViolation:
    case Failure::kResponseSchemaViolation:
    case Failure::kPayloadTooLarge:
    case Failure::kUriTooLong:
    case Failure::kHeadersTooLarge:
    case Failure::kMethodNotAllowed:
    case Failure::kInternalError:
    case Failure::kBadFraming:
    case Failure::kRequestTimeout:
    case Failure::kExpectationFailed:
    case Failure::kNotImplemented:
    case Failure::kVersionNotSupported:
    case Failure::kForeignOrigin:
    case Failure::kUnsupportedMediaType:
    case Failure::kOverloaded:
      break;
  }
  return refuse(Failure::kInternalError, "the embedded store failed; see the server log");
}

// --- what every operation checks ---

template <typename Record>
OrRefusal<Record> KeyManagement::owned(store::StoreResult<Record> found, std::string_view what,
                                       const std::string& id) const {
  if (!found.ok())
    return storeRefusal(found.failure, "no " + std::string(what) + " with id " + shownId(id), "");
  if (!owns(found.value.owner))
    return refuse(Failure::kForbidden,
                  std::string(what) + " " + shownId(id) + " belongs to another user");
  return std::move(found.value);
}

OrRefusal<store::OpaqueKeyRecord> KeyManagement::ownedKey(const std::string& id) const {
  return owned(store_.keys().get(id), "API key", id);
}

bool KeyManagement::publishes(const ApiRef& api) const {
  if (!env_.describe) return false;
  const auto facts = env_.describe(api);
  if (!facts) return false;
  return std::find(facts->publishers.begin(), facts->publishers.end(), caller_.user) !=
         facts->publishers.end();
}

KeyManagement::KeyAccess KeyManagement::keyAccess(const store::OpaqueKeyRecord& key) const {
  if (owns(key.owner)) return KeyAccess::kManage;
  if (!key.shared)
    return publishes({key.apiName, key.apiVersion}) ? KeyAccess::kManage : KeyAccess::kNone;
  // A shared key may serve APIs of other publishers: its application's publishers see it only.
  if (!key.applicationId) return KeyAccess::kNone;
  auto subs = store_.applications().listSubscriptions(*key.applicationId);
  if (!subs.ok()) return KeyAccess::kNone;
  for (const auto& s : subs.value)
    if (s.sharedKey && publishes({s.apiName, s.apiVersion})) return KeyAccess::kView;
  return KeyAccess::kNone;
}

OrRefusal<store::OpaqueKeyRecord> KeyManagement::managedKey(const std::string& id) const {
  auto found = store_.keys().get(id);
  if (!found.ok()) return storeRefusal(found.failure, "no API key with id " + shownId(id), "");
  switch (keyAccess(found.value)) {
    case KeyAccess::kManage:
      return std::move(found.value);
    case KeyAccess::kView:
      return refuse(Failure::kForbidden,
                    "API key " + shownId(id) + " is application " +
                        found.value.applicationId.value_or("") +
                        "'s shared key: only the application's owner or an admin may renew or "
                        "revoke it (as a publisher of an API it subscribes to, you may see it)");
    case KeyAccess::kNone:
      break;
  }
  return refuse(Failure::kForbidden, "API key " + shownId(id) + " belongs to another user");
}

OrRefusal<store::ApplicationRecord> KeyManagement::ownedApplication(const std::string& id) const {
  return owned(store_.applications().get(id), "application", id);
}

// A deployed API the caller may use (admin: any deployed API; others: [[apikey.issuer.api]]
// narrowed by their own [b7a.users.<name>] apis, as for signed keys).
std::optional<Refusal> KeyManagement::usableApi(const ApiRef& api) const {
  if (!env_.deployed || !env_.deployed(api))
    return refuse(Failure::kNotFound,
                  "no API " + api.label().substr(0, 200) + " is deployed on this gateway");
  if (!caller_.isAdmin) {
    const sts::ApiKeyIssuer rules(env_.config, nullptr);
    if (!sts::apiCovered(rules.apisFor(caller_.apis), api.name, api.version))
      return refuse(Failure::kForbidden,
                    "user '" + caller_.user + "' may not use API " + api.label() +
                        " (see [[apikey.issuer.api]] and [b7a.users." + caller_.user + "] apis)");
  }
  return std::nullopt;
}

// A throttling tier from a request (SPEC section 13). Subscription level (an opaque key): the
// STS's rule, sts::subscriptionTierFor. Application level: any application policy (an
// application's tier only ever adds a limit, so no user may be refused one); absent = Unlimited.
OrRefusal<std::string> KeyManagement::checkedTier(const std::optional<std::string>& asked,
                                                  throttle::PolicyLevel level) const {
  if (asked && (asked->empty() || asked->size() > 64))
    return refuse(
        Failure::kBadRequestBody,
        "tier must be the name of a" +
            std::string(level == throttle::PolicyLevel::kApplication ? "n application-level"
                                                                     : " subscription-level") +
            " throttling policy (1 to 64 characters)");
  if (level == throttle::PolicyLevel::kSubscription) {
    std::string error;
    std::string tier = sts::subscriptionTierFor(env_.config, env_.policies, caller_.user,
                                                asked.value_or(""), &error);
    if (!error.empty()) return refuse(Failure::kRequestBroaderThanAllowed, error);
    return tier;
  }
  std::string tier = asked.value_or("Unlimited");
  if (env_.policies.find(level, tier) == nullptr)
    return refuse(Failure::kBadRequestBody,
                  "tier '" + tier + "' is not an application-level throttling policy (known: " +
                      sts::policyNames(env_.policies, level) + ")");
  return tier;
}

json KeyManagement::applicationJson(const store::ApplicationRecord& a) const {
  json subs = json::array();
  auto listed = store_.applications().listSubscriptions(a.id);
  if (listed.ok())
    for (const auto& s : listed.value)
      subs.push_back({{"api", {{"name", s.apiName}, {"version", s.apiVersion}}},
                      {"created", s.createdAt},
                      {"plan", planJson(s.plan)},
                      {"sharedKey", s.sharedKey}});
  auto lastUsed = store_.keys().applicationLastUsed(a.id);
  return {{"id", a.id},
          {"name", a.name},
          {"owner", a.owner},
          {"created", a.createdAt},
          {"tier", a.tier},
          {"subscriptions", subs},
          {"lastUsed", optionalTime(lastUsed.ok() ? lastUsed.value : 0)},
          // Issue 26: the API key mode, and whether it is chosen for good.
          {"keyMode", effectiveKeyMode(a.keyMode)},
          {"keyModeChosen", !a.keyMode.empty()}};
}

// --- POST /apikey/revoke ---

OrRefusal<Reply> KeyManagement::revoke(RevokeRequest request) {
  switch (request.form) {
    case RevokeRequest::Form::kApiKey: {
      auto reply = request.apiKey.size() <= kMaxOpaqueKeyLength ? revokeOpaqueValue(request.apiKey)
                                                                : revokeSignedKey(request.apiKey);
      secureWipe(request.apiKey);
      return reply;
    }
    case RevokeRequest::Form::kJti:
      return revokeByJti(request);
    case RevokeRequest::Form::kSubject:
      return revokeBySubject(request);
  }
  return refuse(Failure::kInternalError, "unknown revocation form");
}

OrRefusal<Reply> KeyManagement::revokeSignedKey(const std::string& value) {
  // A framed key ("<prefix>_<JWS>_<checksum>", issue 25 item 4) is revoked by the JWS inside.
  const FramedKey framed = unframeSignedKey(value, env_.config.opaqueKeys.keyPrefix);
  if (framed.shape == KeyShape::kBadChecksum)
    return refuse(Failure::kBadRequestBody,
                  "apiKey has the shape of a prefixed signed key but its checksum is wrong: it was "
                  "mistyped, truncated or changed; copy it again");
  const std::string_view key = framed.shape == KeyShape::kValid ? framed.jws : value;
  token::VerifyResult verified =
      token::verifyToken(key, env_.trustedKeys, now_, env_.config.server.timestampSkewMs);
  if (verified.failure == Failure::kExpired) {
    // Nothing to store: the gateway refuses it on exp already. 200, so that "make sure this key is
    // dead" is idempotent for the caller.
    return ok(
        {{"revoked", nullptr},
         {"expired", true},
         {"description", "the API key has already expired; it is refused without a revocation"}});
  }
  if (verified.failure != Failure::kNone)
    return refuse(Failure::kBadRequestBody, "apiKey does not verify (" +
                                                std::string(failureName(verified.failure)) +
                                                "): only a key this gateway trusts can be revoked");
  const token::Claims& claims = verified.claims;
  if (!caller_.isAdmin &&
      (claims.sub != caller_.user || claims.iss != env_.config.tokenIssuer.issuer))
    return refuse(
        Failure::kForbidden,
        "user '" + caller_.user +
            "' may revoke only keys this gateway issued to them; this key's subject is another");
  if (claims.jti.empty())
    return refuse(Failure::kBadRequestBody,
                  "the API key has no jti; revoke it with {\"sub\": \"...\", \"issuedBefore\": "
                  "<epoch seconds>}");
  const std::int64_t expiresAt = claims.exp.value_or(0);
  Failure f = store_.revokeJti(claims.jti, claims.sub, expiresAt, caller_.user, now_);
  if (f != Failure::kNone) return storeRefusal(f, "", "");
  log::info("API key revoked", {{"by", caller_.user}, {"jti", claims.jti}, {"sub", claims.sub}});
  return ok({{"revoked",
              {{"type", "jti"},
               {"jti", claims.jti},
               {"sub", claims.sub},
               {"expiresAt", optionalTime(expiresAt)}}}});
}

OrRefusal<Reply> KeyManagement::revokeOpaqueValue(const std::string& value) {
  auto found = store_.keys().findByValue(value);
  if (found.failure == Failure::kNotFound)
    return refuse(Failure::kBadRequestBody,
                  "apiKey is neither a signed key this gateway trusts nor a known opaque key");
  if (!found.ok()) return storeRefusal(found.failure, "", "");
  if (keyAccess(found.value) != KeyAccess::kManage)
    return refuse(Failure::kForbidden,
                  found.value.shared
                      ? "a shared API key is revoked only by its application's owner or an admin"
                      : "user '" + caller_.user + "' may revoke only their own keys");
  Failure f = store_.revokeKey(found.value.id, now_);
  if (f != Failure::kNone) return storeRefusal(f, "the API key no longer exists", "");
  log::info("opaque API key revoked", {{"by", caller_.user}, {"id", found.value.id}});
  return ok({{"revoked", {{"type", "opaque"}, {"id", found.value.id}}}});
}

OrRefusal<Reply> KeyManagement::revokeByJti(const RevokeRequest& request) {
  if (!caller_.isAdmin) {
    // A jti alone does not say whose key it is, so only an admin may revoke by jti.
    return refuse(Failure::kForbidden,
                  "only an admin may revoke by jti; send the key itself as {\"apiKey\": \"...\"} "
                  "to revoke your own");
  }
  // The entry is purged after expiresAt: a date already past would purge it at the next start
  // while a key without exp (or a later one) still works. Only a future date is believed.
  if (request.expiresAt && *request.expiresAt <= now_)
    return refuse(Failure::kBadRequestBody,
                  "expiresAt " + std::to_string(*request.expiresAt) +
                      " is not in the future (now is " + std::to_string(now_) +
                      "); give the key's exp, or leave expiresAt out to keep the revocation for "
                      "good, or send the key itself as {\"apiKey\": \"...\"}");
  const std::int64_t exp = request.expiresAt.value_or(0);
  Failure f = store_.revokeJti(request.jti, "", exp, caller_.user, now_);
  if (f != Failure::kNone) return storeRefusal(f, "", "");
  log::info("API key revoked by jti", {{"by", caller_.user}, {"jti", request.jti}});
  return ok(
      {{"revoked", {{"type", "jti"}, {"jti", request.jti}, {"expiresAt", optionalTime(exp)}}}});
}

OrRefusal<Reply> KeyManagement::revokeBySubject(const RevokeRequest& request) {
  if (request.issuedBefore > now_) {
    // A watermark never moves back: one in the future would refuse keys not yet issued, for good.
    return refuse(Failure::kBadRequestBody, "issuedBefore is in the future (now is " +
                                                std::to_string(now_) +
                                                "); only keys already issued can be revoked");
  }
  if (!owns(request.sub))
    return refuse(Failure::kForbidden,
                  "user '" + caller_.user + "' may revoke only their own keys");
  std::size_t opaqueRevoked = 0;
  Failure f =
      store_.revokeSubject(request.sub, request.issuedBefore, caller_.user, now_, &opaqueRevoked);
  if (f != Failure::kNone) return storeRefusal(f, "", "");
  log::info("API keys revoked by subject", {{"by", caller_.user},
                                            {"sub", request.sub},
                                            {"issuedBefore", request.issuedBefore},
                                            {"opaqueKeys", opaqueRevoked}});
  return ok({{"revoked",
              {{"type", "subject"},
               {"sub", request.sub},
               {"issuedBefore", request.issuedBefore},
               {"opaqueKeys", opaqueRevoked}}}});
}

// --- /apikeys ---

std::string KeyManagement::newKeyValue() const {
  return generateFormattedKey(env_.config.opaqueKeys.keyPrefix);
}

std::optional<Refusal> KeyManagement::badChecksumRefusal(std::string& value) const {
  const std::string& prefix = env_.config.opaqueKeys.keyPrefix;
  if (keyShape(value, prefix) != KeyShape::kBadChecksum) return std::nullopt;
  secureWipe(value);
  // The gateway would refuse such a value on its checksum: it could never be used.
  return refuse(Failure::kBadRequestBody,
                "value: has the shape of a generated " + prefix +
                    "_ key but its checksum is wrong; leave value out to get a generated key");
}

std::optional<Refusal> KeyManagement::takenValuesRefusal() const {
  if (!env_.takenValues) return std::nullopt;
  const std::int64_t wait = env_.takenValues->blockedForSeconds(caller_.user, now_);
  if (wait <= 0) return std::nullopt;
  Refusal r = refuse(Failure::kTooManyAttempts,
                     "too many custom API key values were not accepted; choose none (a generated "
                     "one) or retry after " +
                         std::to_string(wait) + " seconds");
  r.retryAfterSeconds = static_cast<int>(wait);
  return r;
}

Refusal KeyManagement::takenValue(std::string& secret) {
  // 409 only tells the caller about their own key; a value someone else holds gets the answer
  // any refused value gets, so the endpoint is no oracle for other users' keys.
  const auto existing = env_.opaqueKeys ? env_.opaqueKeys->find(secret) : nullptr;
  secureWipe(secret);
  if (existing && existing->owner == caller_.user)
    return refuse(Failure::kConflict,
                  "you already have an API key with this value (id " + existing->id + ")");
  if (env_.takenValues) env_.takenValues->recordTaken(caller_.user, now_);
  return refuse(Failure::kBadRequestBody, "value: not accepted; choose another value");
}

OrRefusal<Reply> KeyManagement::createKey(CreateKeyRequest request) {
  // An application's shared key (issue 26) is bound to no API: nothing to check here.
  if (!request.shared)
    if (auto refusal = usableApi(request.api)) return std::move(*refusal);
  if (request.fieldError) {
    if (request.value) secureWipe(*request.value);
    return std::move(*request.fieldError);
  }
  store::NewOpaqueKey key = newKey(request, caller_.user, now_);
  if (request.application) {
    auto app = ownedApplication(*request.application);
    if (auto* refusal = std::get_if<Refusal>(&app)) {
      if (request.value) secureWipe(*request.value);
      return std::move(*refusal);
    }
    const auto& a = std::get<store::ApplicationRecord>(app);
    if (request.shared) {
      // Issue 26: one shared key per application, only in the shared mode; its owner is the
      // application's (who alone, with an admin, renews or revokes it).
      std::string why;
      if (a.keyMode != store::kShared) {
        why = "application " + a.id + "'s API key mode is " + effectiveKeyMode(a.keyMode) +
              (a.keyMode.empty() ? " (not chosen yet)" : "") +
              ": a shared key needs keyMode \"shared\", chosen when the application is created "
              "or at its second subscription";
      } else if (auto owned = store_.keys().listByOwner(a.owner); !owned.ok()) {
        if (request.value) secureWipe(*request.value);
        return storeRefusal(owned.failure, "", "");
      } else {
        for (const auto& r : owned.value)
          if (r.shared && !r.revoked && r.applicationId == a.id)
            why = "application " + a.id + " already has a shared API key (id " + r.id +
                  "); regenerate it (POST /apikeys/" + r.id + "/regenerate) or revoke it first";
      }
      if (!why.empty()) {
        if (request.value) secureWipe(*request.value);
        return refuse(Failure::kConflict, why);
      }
      key.owner = a.owner;
      key.shared = true;
      key.apiName.clear();
      key.apiVersion.clear();
    }
    key.applicationId = *request.application;
  }
  // The subscription tier (SPEC section 13), by the rule of the STS's "tier": the key's owner's
  // [b7a.users.<name>] tier unless a known, lower one is asked for.
  auto tier = checkedTier(request.tier, throttle::PolicyLevel::kSubscription);
  if (auto* refusal = std::get_if<Refusal>(&tier)) return std::move(*refusal);
  key.tier = std::get<std::string>(tier);

  // A cap on the live keys a user holds (issue 22 item 5); revoked and expired keys do not count.
  auto owned = store_.keys().listByOwner(caller_.user);
  if (!owned.ok()) {
    if (request.value) secureWipe(*request.value);
    return storeRefusal(owned.failure, "", "");
  }
  const int cap = env_.config.storage.maxKeysPerUser;
  int live = 0;
  for (const auto& r : owned.value)
    if (!r.revoked && (r.expiresAt <= 0 || r.expiresAt > now_)) ++live;
  if (live >= cap) {
    if (request.value) secureWipe(*request.value);
    return refuse(Failure::kConflict,
                  "you hold " + std::to_string(live) +
                      " live API keys, the most one user may hold (" + std::to_string(cap) +
                      ", [storage] maxKeysPerUser); revoke one you no longer use (DELETE "
                      "/apikeys/{id}) and try again");
  }

  const bool custom = request.value.has_value();
  if (custom) {
    if (auto refusal = takenValuesRefusal()) {
      secureWipe(*request.value);
      return std::move(*refusal);
    }
    if (auto refusal = badChecksumRefusal(*request.value)) return std::move(*refusal);
  }
  std::string secret = custom ? std::move(*request.value) : newKeyValue();
  auto made = store_.createKey(key, secret);
  if (made.failure == Failure::kConflict && !custom) {  // a generated value collided: draw again
    secureWipe(secret);
    secret = newKeyValue();
    made = store_.createKey(key, secret);
  }
  if (made.failure == Failure::kConflict && custom) return takenValue(secret);
  if (!made.ok()) {
    secureWipe(secret);
    return storeRefusal(made.failure,
                        "no application with id " + shownId(key.applicationId.value_or("")),
                        "an API key with this value already exists; choose another value");
  }
  observability::metrics().countKeyIssued("opaque", store::keyTypeName(key.keyType));
  log::info("opaque API key created", {{"by", caller_.user},
                                       {"id", made.value.id},
                                       {"api", key.shared ? "(shared)" : request.api.label()},
                                       {"keyType", store::keyTypeName(key.keyType)},
                                       {"tier", key.tier},
                                       {"custom", custom}});
  return withValue(201, made.value, secret);
}

OrRefusal<Reply> KeyManagement::listKeys() {
  auto listed = caller_.isAdmin ? store_.keys().listAll() : store_.keys().listByOwner(caller_.user);
  if (!listed.ok()) return storeRefusal(listed.failure, "", "");
  json list = json::array();
  for (const auto& r : listed.value) list.push_back(keyJson(r));
  return ok({{"count", list.size()}, {"list", list}});
}

OrRefusal<Reply> KeyManagement::getKey(const std::string& id) {
  auto found = store_.keys().get(id);
  if (!found.ok()) return storeRefusal(found.failure, "no API key with id " + shownId(id), "");
  switch (keyAccess(found.value)) {
    case KeyAccess::kManage:
      return ok(keyJson(found.value));
    case KeyAccess::kView: {
      json subscribes = json::array();
      auto subs = store_.applications().listSubscriptions(found.value.applicationId.value_or(""));
      if (subs.ok())
        for (const auto& s : subs.value)
          if (s.sharedKey && publishes({s.apiName, s.apiVersion}))
            subscribes.push_back(
                {{"api", apiRefJson(s.apiName, s.apiVersion)}, {"plan", planJson(s.plan)}});
      return ok(publisherViewJson(found.value, subscribes));
    }
    case KeyAccess::kNone:
      break;
  }
  return refuse(Failure::kForbidden, "API key " + shownId(id) + " belongs to another user");
}

OrRefusal<Reply> KeyManagement::listPublished() {
  if (!env_.publishedBy) return ok({{"count", 0}, {"list", json::array()}});
  const std::vector<ApiRef> apis = env_.publishedBy(caller_.user);
  auto mine = [&apis](const std::string& name, const std::string& version) {
    for (const ApiRef& a : apis)
      if (a.name == name && a.version == version) return true;
    return false;
  };
  auto keys = store_.keys().listAll();
  if (!keys.ok()) return storeRefusal(keys.failure, "", "");
  auto subs = store_.applications().loadAllSubscriptions();
  if (!subs.ok()) return storeRefusal(subs.failure, "", "");
  json list = json::array();
  for (const auto& k : keys.value) {
    if (!k.shared) {
      if (mine(k.apiName, k.apiVersion)) {
        json j = keyJson(k);
        j["access"] = "manage";
        list.push_back(std::move(j));
      }
      continue;
    }
    json subscribes = json::array();
    for (const auto& s : subs.value)
      if (k.applicationId && s.applicationId == *k.applicationId && s.sharedKey &&
          mine(s.apiName, s.apiVersion))
        subscribes.push_back(
            {{"api", apiRefJson(s.apiName, s.apiVersion)}, {"plan", planJson(s.plan)}});
    if (!subscribes.empty()) list.push_back(publisherViewJson(k, subscribes));
  }
  return ok({{"count", list.size()}, {"list", list}});
}

OrRefusal<Reply> KeyManagement::deleteKey(const std::string& id) {
  auto found = managedKey(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) return std::move(*refusal);
  const auto& key = std::get<store::OpaqueKeyRecord>(found);
  Failure f = store_.revokeKey(key.id, now_);
  if (f != Failure::kNone) return storeRefusal(f, "no API key with id " + shownId(key.id), "");
  log::info("opaque API key revoked", {{"by", caller_.user}, {"id", key.id}});
  return noContent();
}

OrRefusal<Reply> KeyManagement::regenerateKey(const std::string& id, RegenerateRequest request) {
  auto found = managedKey(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) {
    if (request.value) secureWipe(*request.value);
    return std::move(*refusal);
  }
  const auto& key = std::get<store::OpaqueKeyRecord>(found);
  if (key.revoked) {
    if (request.value) secureWipe(*request.value);
    return refuse(Failure::kConflict,
                  "API key " + key.id + " is revoked; create a new key instead");
  }
  const std::int64_t maxGrace = env_.config.opaqueKeys.maxGracePeriodSeconds;
  if (request.gracePeriodSeconds > maxGrace) {
    if (request.value) secureWipe(*request.value);
    return refuse(Failure::kBadRequestBody,
                  "gracePeriodSeconds " + std::to_string(request.gracePeriodSeconds) +
                      " is longer than this gateway allows (" + std::to_string(maxGrace) +
                      ", [apikey] maxGracePeriodSeconds)");
  }
  const bool custom = request.value.has_value();
  if (custom) {
    if (auto refusal = takenValuesRefusal()) {
      secureWipe(*request.value);
      return std::move(*refusal);
    }
    if (auto refusal = badChecksumRefusal(*request.value)) return std::move(*refusal);
  }
  std::string secret = custom ? std::move(*request.value) : newKeyValue();
  const std::int64_t grace = request.gracePeriodSeconds;
  auto updated = store_.regenerateKey(key.id, secret, now_, grace);
  if (updated.failure == Failure::kConflict && !custom) {
    secureWipe(secret);
    secret = newKeyValue();
    updated = store_.regenerateKey(key.id, secret, now_, grace);
  }
  if (updated.failure == Failure::kConflict && custom) return takenValue(secret);
  if (!updated.ok()) {
    secureWipe(secret);
    return storeRefusal(
        updated.failure, "no API key with id " + shownId(key.id),
        "an API key with this value already exists, or the key was revoked meanwhile");
  }
  log::info("opaque API key regenerated",
            {{"by", caller_.user}, {"id", key.id}, {"gracePeriodSeconds", grace}});
  return withValue(200, updated.value, secret);
}

OrRefusal<Reply> KeyManagement::associateKey(const std::string& id,
                                             const AssociateRequest& request) {
  auto found = ownedKey(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) return std::move(*refusal);
  const auto& key = std::get<store::OpaqueKeyRecord>(found);
  if (key.shared)
    return refuse(Failure::kConflict, "API key " + key.id +
                                          " is an application's shared key: it stays with its "
                                          "application for good");
  auto app = ownedApplication(request.application);
  if (auto* refusal = std::get_if<Refusal>(&app)) return std::move(*refusal);
  Failure f = store_.associateKey(key.id, request.application);
  if (f != Failure::kNone)
    return storeRefusal(f, "the API key or the application no longer exists",
                        "API key " + key.id + " is revoked; it cannot be associated");
  auto updated = store_.keys().get(key.id);
  if (!updated.ok()) return storeRefusal(updated.failure, "the API key no longer exists", "");
  return ok(keyJson(updated.value));
}

OrRefusal<Reply> KeyManagement::dissociateKey(const std::string& id) {
  auto found = ownedKey(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) return std::move(*refusal);
  if (std::get<store::OpaqueKeyRecord>(found).shared)
    return refuse(Failure::kConflict,
                  "API key " + id +
                      " is an application's shared key: it stays with its application for good");
  Failure f = store_.dissociateKey(std::get<store::OpaqueKeyRecord>(found).id);
  if (f != Failure::kNone) return storeRefusal(f, "the API key no longer exists", "");
  return noContent();
}

// --- POST /apikeys/leaked ---

OrRefusal<Reply> KeyManagement::reportLeaked(LeakReport report) {
  const auto& reporters = env_.config.opaqueKeys.leakReporters;
  const bool reporter =
      std::find(reporters.begin(), reporters.end(), caller_.user) != reporters.end();
  if (!caller_.isAdmin && !reporter) {
    for (auto& item : report.items) secureWipe(item.token);
    return refuse(Failure::kForbidden, "user '" + caller_.user +
                                           "' may not report leaked keys (an admin, or a user "
                                           "listed in [apikey] leakReporters, may)");
  }
  const std::string& prefix = env_.config.opaqueKeys.keyPrefix;
  json results = json::array();
  std::size_t revoked = 0;
  for (auto& item : report.items) {
    json r = {{"token_hash", hexEncode(sha256(item.token))}, {"token_type", item.type}};
    std::string action = "unknown";
    if (keyShape(item.token, prefix) == KeyShape::kBadChecksum) {
      action = "bad_checksum";  // no key of this gateway: nothing to look up
    } else if (item.token.size() <= kMaxOpaqueKeyLength) {
      auto found = store_.keys().findByValue(item.token, now_);
      if (found.ok()) {
        r["id"] = found.value.id;
        if (found.value.revoked) {
          action = "already_revoked";
        } else if (Failure f = store_.revokeKey(found.value.id, now_); f == Failure::kNone) {
          action = "revoked";
          ++revoked;
          log::warn("opaque API key revoked: reported leaked",
                    {{"by", caller_.user}, {"id", found.value.id}, {"url", item.url}});
        } else {
          action = "failed";
        }
      } else if (found.failure != Failure::kNotFound) {
        action = "failed";
      }
    } else if (const FramedKey framed = unframeSignedKey(item.token, prefix);
               framed.shape == KeyShape::kBadChecksum) {
      action = "bad_checksum";  // a framed signed key mangled: nothing to verify
    } else {
      // A framed signed key is reported by the JWS inside (its jti).
      const std::string_view jws = framed.shape == KeyShape::kValid ? framed.jws : item.token;
      token::VerifyResult verified =
          token::verifyToken(jws, env_.trustedKeys, now_, env_.config.server.timestampSkewMs);
      if (verified.failure == Failure::kExpired) {
        action = "expired";
      } else if (verified.failure == Failure::kNone && !verified.claims.jti.empty()) {
        const token::Claims& c = verified.claims;
        r["jti"] = c.jti;
        if (Failure f = store_.revokeJti(c.jti, c.sub, c.exp.value_or(0), caller_.user, now_);
            f == Failure::kNone) {
          action = "revoked";
          ++revoked;
          log::warn("API key revoked: reported leaked",
                    {{"by", caller_.user}, {"jti", c.jti}, {"sub", c.sub}, {"url", item.url}});
        } else {
          action = "failed";
        }
      }
    }
    secureWipe(item.token);
    // GitHub secret scanning's label: the token was one of ours (whatever state it was in).
    const bool ours = action != "unknown" && action != "bad_checksum";
    r["label"] = ours ? "true_positive" : "false_positive";
    r["action"] = action;
    results.push_back(std::move(r));
  }
  return ok({{"revoked", revoked}, {"results", results}});
}

// --- /applications ---

OrRefusal<Reply> KeyManagement::createApplication(const CreateApplicationRequest& request) {
  auto tier = checkedTier(request.tier, throttle::PolicyLevel::kApplication);
  if (auto* refusal = std::get_if<Refusal>(&tier)) return std::move(*refusal);
  auto made = store_.createApplication(request.name, caller_.user, now_,
                                       std::get<std::string>(tier), request.keyMode.value_or(""));
  if (!made.ok())
    return storeRefusal(made.failure, "",
                        "user '" + caller_.user + "' already has an application of this name");
  log::info("application created",
            {{"by", caller_.user}, {"id", made.value.id}, {"tier", made.value.tier}});
  return created(applicationJson(made.value));
}

OrRefusal<Reply> KeyManagement::listApplications() {
  auto listed = caller_.isAdmin ? store_.applications().listAll()
                                : store_.applications().listByOwner(caller_.user);
  if (!listed.ok()) return storeRefusal(listed.failure, "", "");
  json list = json::array();
  for (const auto& a : listed.value) list.push_back(applicationJson(a));
  return ok({{"count", list.size()}, {"list", list}});
}

OrRefusal<Reply> KeyManagement::getApplication(const std::string& id) {
  auto app = ownedApplication(id);
  if (auto* refusal = std::get_if<Refusal>(&app)) return std::move(*refusal);
  return ok(applicationJson(std::get<store::ApplicationRecord>(app)));
}

OrRefusal<Reply> KeyManagement::deleteApplication(const std::string& id) {
  auto found = ownedApplication(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) return std::move(*refusal);
  const auto& app = std::get<store::ApplicationRecord>(found);
  Failure f = store_.removeApplication(app.id);
  if (f != Failure::kNone) return storeRefusal(f, "no application with id " + shownId(app.id), "");
  log::info("application deleted", {{"by", caller_.user}, {"id", app.id}});
  return noContent();
}

OrRefusal<Reply> KeyManagement::subscribe(const std::string& id,
                                          const SubscriptionRequest& request) {
  auto found = ownedApplication(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) return std::move(*refusal);
  const auto& app = std::get<store::ApplicationRecord>(found);
  if (request.apiError) return *request.apiError;
  if (auto refusal = usableApi(request.api)) return std::move(*refusal);
  const ApiRef& api = request.api;

  // The plan (issue 26): the one named, else the API's first (its only one when it has one);
  // "" for an API without plans.
  const auto facts = env_.describe ? env_.describe(api) : std::nullopt;
  const std::vector<std::string> plans = facts ? facts->plans : std::vector<std::string>{};
  std::string plan = plans.empty() ? "" : plans.front();
  if (request.plan) {
    if (std::find(plans.begin(), plans.end(), *request.plan) == plans.end()) {
      std::string known;
      for (const auto& p : plans) known += (known.empty() ? "" : ", ") + p;
      return refuse(Failure::kBadRequestBody,
                    "plan '" + request.plan->substr(0, 64) + "' is not a plan of API " +
                        api.label() +
                        (plans.empty() ? std::string(" (it has no plans: leave plan out)")
                                       : " (its plans: " + known + ")"));
    }
    plan = *request.plan;
  }

  // The key mode (issue 26, Gravitee's application API key type): chosen at creation or at the
  // second subscription (the default, perSubscription, when none is asked for then), never
  // changed afterwards.
  auto subs = store_.applications().listSubscriptions(app.id);
  if (!subs.ok())
    return storeRefusal(subs.failure, "no application with id " + shownId(app.id), "");
  bool onlyThisApi = true;  // every subscription so far is to this API (another plan of it)
  bool sharedServesApi = false;
  for (const auto& s : subs.value) {
    const bool same = s.apiName == api.name && s.apiVersion == api.version;
    onlyThisApi = onlyThisApi && same;
    sharedServesApi = sharedServesApi || (same && s.sharedKey);
  }
  std::string setMode;
  if (request.keyMode) {
    if (!app.keyMode.empty() && app.keyMode != *request.keyMode)
      return refuse(Failure::kConflict, "application " + app.id + "'s API key mode is " +
                                            app.keyMode + ", chosen for good: it cannot become " +
                                            *request.keyMode);
    if (app.keyMode.empty() && *request.keyMode == store::kShared && !subs.value.empty() &&
        onlyThisApi)
      return refuse(Failure::kConflict,
                    "a shared key cannot serve two plans of one API, and every subscription of "
                    "application " +
                        app.id + " so far is to API " + api.label() +
                        ": subscribe it to another API first to choose keyMode shared");
    if (app.keyMode.empty()) setMode = *request.keyMode;
  } else if (app.keyMode.empty() && !subs.value.empty()) {
    setMode = std::string(store::kPerSubscription);  // the second subscription takes the default
  }
  const std::string mode = setMode.empty() ? app.keyMode : setMode;
  // Two plans of one API cannot share one key: a second plan's subscription has its own keys.
  const bool sharedKey = mode == store::kShared && !sharedServesApi;

  Failure f = store_.subscribe(app.id, api.name, api.version, now_, plan, sharedKey, setMode);
  if (f != Failure::kNone)
    return storeRefusal(f, "no application with id " + shownId(app.id),
                        "application " + app.id + " is already subscribed to " + api.label() +
                            (plan.empty() ? std::string() : " plan " + plan));
  log::info("subscription created", {{"by", caller_.user},
                                     {"application", app.id},
                                     {"api", api.label()},
                                     {"plan", plan},
                                     {"sharedKey", sharedKey}});
  json reply = {{"application", app.id},
                {"api", {{"name", api.name}, {"version", api.version}}},
                {"created", now_},
                {"plan", planJson(plan)},
                {"keyMode", effectiveKeyMode(mode)},
                {"sharedKey", sharedKey}};
  if (mode == store::kShared && !sharedKey)
    reply["description"] = "the application's shared key already serves another plan of API " +
                           api.label() +
                           "; this subscription uses its own key: create one with POST /apikeys "
                           "{\"api\": ..., \"application\": \"" +
                           app.id + "\"}";
  return created(std::move(reply));
}

OrRefusal<Reply> KeyManagement::unsubscribe(const std::string& id,
                                            const SubscriptionRequest& request) {
  auto found = ownedApplication(id);
  if (auto* refusal = std::get_if<Refusal>(&found)) return std::move(*refusal);
  const auto& app = std::get<store::ApplicationRecord>(found);
  if (request.apiError) return *request.apiError;
  // Issue 26: without a plan, every plan of the API.
  Failure f = store_.unsubscribe(app.id, request.api.name, request.api.version, request.plan);
  if (f != Failure::kNone)
    return storeRefusal(f,
                        "application " + app.id + " has no subscription to " +
                            request.api.label().substr(0, 200) +
                            (request.plan ? " plan " + request.plan->substr(0, 64) : ""),
                        "");
  return noContent();
}

OrRefusal<Reply> KeyManagement::listSubscriptions(const std::string& id) {
  auto app = ownedApplication(id);
  if (auto* refusal = std::get_if<Refusal>(&app)) return std::move(*refusal);
  return ok(applicationJson(std::get<store::ApplicationRecord>(app))["subscriptions"]);
}

}  // namespace mgw::lifecycle
