#include "gateway/key_validator.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/crypto_util.h"
#include "common/key_format.h"
#include "common/log.h"
#include "common/referer_matcher.h"
#include "common/text.h"
#include "observability/metrics.h"
#include "token/iso_time.h"

namespace mgw::gateway {
namespace {

// An X-Forwarded-For entry may carry a port ("1.2.3.4:5678", "[2001:db8::1]:80").
std::string stripPort(std::string_view entry) {
  entry = trimOws(entry);
  if (!entry.empty() && entry.front() == '[') {
    auto close = entry.find(']');
    if (close != std::string_view::npos) return std::string(entry.substr(1, close - 1));
  }
  auto colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    return std::string(entry.substr(0, colon));
  }
  return std::string(entry);
}

// exp / nbf from the payload for the client's description. Read only after verifyToken named the
// failure (signature already checked), so the value is the issuer's.
std::optional<std::int64_t> unverifiedTime(std::string_view key, const char* claim) {
  Failure f = Failure::kNone;
  std::string reason;
  auto jws = token::parseCompact(key, &f, &reason);
  if (!jws) return std::nullopt;
  auto it = jws->payload.find(claim);
  if (it == jws->payload.end() || !it->is_number()) return std::nullopt;
  return it->get<std::int64_t>();
}

// What the client hears for each failure verifyToken answers (it answers no other; were it to,
// the generic text below is the safe one). Every Failure is listed, none defaulted, so a new one
// is placed here on purpose (-Wswitch-enum).
std::string describeVerifyFailure(Failure failure, std::string_view key) {
  switch (failure) {
    case Failure::kKeyTooLarge:
      return "the API key is larger than 8 KiB";
    case Failure::kMalformedKey:
      return "the API key is not a well-formed signed key";
    case Failure::kUnknownKey:
      return "the API key is signed by a key this gateway does not trust";
    case Failure::kAlgorithmMismatch:
      return "the API key's algorithm does not match its signing key";
    case Failure::kBadSignature:
      return "the API key's signature is invalid";
    case Failure::kWrongIssuer:
      return "the API key was issued by an issuer this gateway does not trust";
    case Failure::kWrongAudience:
      return "the API key is not meant for this gateway (its aud lacks the issuer's configured "
             "audience)";
    case Failure::kExpired:
      if (auto exp = unverifiedTime(key, "exp"))
        return "the API key expired at " + token::isoTime(*exp);
      return "the API key has expired";
    case Failure::kNotYetValid:
      if (auto nbf = unverifiedTime(key, "nbf"))
        return "the API key is not valid before " + token::isoTime(*nbf);
      return "the API key is not yet valid";
    case Failure::kNone:
    case Failure::kMissingCredentials:
    case Failure::kRevoked:
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
    case Failure::kBadRequestBody:
    case Failure::kRequestBroaderThanAllowed:
    case Failure::kIssuerDisabled:
    case Failure::kSigningFailed:
    case Failure::kForbidden:
    case Failure::kNotFound:
    case Failure::kConflict:
    case Failure::kClusterUnavailable:
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
  return "the API key is invalid";
}

bool isSandbox(const std::string& keytype) { return keytype == "SANDBOX"; }

// The API's own sandbox endpoints, or an operation's (WSO2 MGW 3.x x-wso2-sandbox-endpoints on an
// operation): the gateway then refuses a SANDBOX key only on operations that have none.
bool hasSandboxEndpoints(const ApiDefinition& api) {
  if (!api.sandbox.empty()) return true;
  for (const Resource& r : api.resources)
    if (!r.sandbox.empty()) return true;
  return false;
}

}  // namespace

std::string KeyValidator::subjectKey(std::string_view iss, std::string_view sub) const {
  if (sub.empty()) return "";
  if (iss == localIssuer_) return std::string(sub);
  std::string out(iss);
  out += '\x1f';  // never in a JSON-decoded issuer URL that the config loader accepts unescaped
  out.append(sub);
  return out;
}

KeyValidator::KeyValidator(std::shared_ptr<const token::KeySet> keys, const config::Config& config,
                           std::shared_ptr<store::RevocationList> revocations,
                           std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys)
    : keys_(std::move(keys)),
      revocations_(std::move(revocations)),
      opaqueKeys_(std::move(opaqueKeys)),
      keyPrefix_(config.opaqueKeys.keyPrefix),
      trackJtiUse_(config.opaqueKeys.trackLastUsed && opaqueKeys_ != nullptr),
      expiryWarning_(std::int64_t{config.opaqueKeys.expiryWarningDays} * 86400),
      skewMs_(config.server.timestampSkewMs),
      localIssuer_(config.tokenIssuer.issuer) {
  for (const std::string& cidr : config.listener.trustedProxies) {
    std::string error;
    // The config loader validates these; a bad one here is simply not trusted (fail closed).
    if (!trustedProxies_.add(cidr, &error))
      log::warn("ignoring trusted proxy entry", {{"error", error}});
  }
  const bool on = config.caching.enabled;
  cache_ = std::make_unique<KeyCache>(on ? config.caching.tokenCacheCapacity : 0,
                                      on ? config.caching.tokenCacheExpiryTime : 0);
  refusals_ = std::make_unique<RefusalCache>(on ? config.caching.tokenCacheCapacity : 0,
                                             on ? config.caching.tokenCacheExpiryTime : 0);
}

std::string KeyValidator::effectiveClientAddress(const RequestContext& ctx) const {
  if (trustedProxies_.empty() || ctx.forwardedFor.empty() ||
      !trustedProxies_.matches(ctx.clientAddress)) {
    return ctx.clientAddress;
  }
  std::vector<std::string> hops;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = ctx.forwardedFor.find(',', start);
    std::string hop = stripPort(
        std::string_view(ctx.forwardedFor)
            .substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!hop.empty()) hops.push_back(hop);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    // An unparseable hop is returned as is: it matches no permittedIP entry (fail closed).
    if (!trustedProxies_.matches(*it)) return *it;
  }
  return hops.empty() ? ctx.clientAddress : hops.front();
}

bool KeyValidator::isOAuth2Token(std::string_view value) const {
  if (value.size() <= kMaxOpaqueKeyLength) return false;  // an opaque key's length
  Failure failure = Failure::kNone;
  std::string reason;
  auto parsed = token::parseCompact(value, &failure, &reason);
  if (!parsed) return false;
  const auto iss = parsed->payload.find("iss");
  if (iss == parsed->payload.end() || !iss->is_string()) return false;
  std::optional<std::string> kid;
  if (auto k = parsed->header.find("kid"); k != parsed->header.end() && k->is_string())
    kid = k->get<std::string>();
  std::size_t count = 0;
  const token::TrustedKey* key = keys_->select(iss->get_ref<const std::string&>(), kid, &count);
  return key && key->bearer;
}

// Returned as a prvalue (no move of the result's strings): this refusal must stay far cheaper
// than a lookup.
ValidationResult KeyValidator::badChecksum() {
  ValidationResult out;
  out.keyId = "bad-checksum";  // no fingerprint: nothing is computed from the value
  out.failure = Failure::kMalformedKey;
  out.reason = "bad checksum";  // short: no allocation
  out.fixedDescription =
      "the API key's checksum is wrong: it was mistyped, truncated or changed; copy it again";
  return out;
}

ValidationResult KeyValidator::validate(std::string_view key, const ApiDefinition& api,
                                        const RequestContext& ctx, std::int64_t nowSeconds) const {
  // A mistyped or made-up key of the format: refused on its checksum alone (issue 25 item 4).
  if (!ctx.bearer && keyShape(key, keyPrefix_) == KeyShape::kBadChecksum) return badChecksum();
  if (opaqueKeys_ && !ctx.bearer && key.size() <= kMaxOpaqueKeyLength)
    return validateOpaque(key, api, ctx, nowSeconds);
  // A signed key framed as "<prefix>_<JWS>_<checksum>": the checksum first, then the JWS inside
  // is the key from here on (cache, signature, jti). Whatever [apikey.issuer.tokenConfig]
  // keyPrefix says now: keys issued framed or not keep working.
  if (const FramedKey framed = unframeSignedKey(key, keyPrefix_);
      framed.shape != KeyShape::kOther) {
    if (framed.shape == KeyShape::kBadChecksum) return badChecksum();
    key = framed.jws;
  }
  return validateSigned(key, api, ctx, nowSeconds);
}

ValidationResult KeyValidator::validateSigned(std::string_view key, const ApiDefinition& api,
                                              const RequestContext& ctx,
                                              std::int64_t nowSeconds) const {
  ValidationResult out;
  checkSigned(key, api, ctx, nowSeconds, out);
  return out;
}

void KeyValidator::checkSigned(std::string_view key, const ApiDefinition& api,
                               const RequestContext& ctx, std::int64_t nowSeconds,
                               ValidationResult& out) const {
  auto refuse = [&out](Failure f, std::string reason, std::string description) {
    out.failure = f;
    out.reason = std::move(reason);
    out.description = std::move(description);
  };

  // 1. Verification, cached: only this step's result is reused across requests.
  std::shared_ptr<const VerifiedKey> verifiedKey = cache_->get(key, nowSeconds);
  observability::metrics().countKeyCache(verifiedKey != nullptr);
  if (!verifiedKey) {
    // A bad key seen before is refused again without its signature check (same reason).
    if (auto known = refusals_->get(key, nowSeconds)) {
      out.keyId = fingerprint(key);
      return refuse(known->failure, std::move(known->reason), std::move(known->description));
    }
    token::VerifyResult verified = token::verifyToken(key, *keys_, nowSeconds, skewMs_);
    if (verified.failure != Failure::kNone) {
      out.keyId = fingerprint(key);
      std::string description = describeVerifyFailure(verified.failure, key);
      refusals_->put(key, {verified.failure, verified.reason, description}, nowSeconds);
      return refuse(verified.failure, verified.reason, std::move(description));
    }
    const token::Claims& fresh = verified.claims;
    if (fresh.keytype != "PRODUCTION" && fresh.keytype != "SANDBOX") {
      out.keyId = fresh.jti.empty() ? fingerprint(key) : fresh.jti;
      return refuse(
          Failure::kMalformedKey,
          "keytype \"" + fresh.keytype.substr(0, 32) + "\" is neither PRODUCTION nor SANDBOX",
          "the API key has an unknown keytype");
    }
    // Its restrictions are compiled here, once, into the cache entry.
    verifiedKey = cache_->put(key, fresh, nowSeconds);
  }
  const token::Claims& claims = *verifiedKey;
  out.keyId = claims.jti.empty() ? fingerprint(key) : claims.jti;
  // An API key is no bearer token and the other way round: each issuer is trusted for one.
  if (claims.bearer != ctx.bearer) {
    return refuse(Failure::kWrongIssuer,
                  ctx.bearer ? "an API key issuer's key sent as a bearer token"
                             : "a [[jwtTokenConfig]] issuer's token sent as an API key",
                  ctx.bearer ? "the bearer token was issued by an API key issuer"
                             : "the API key was issued by an OAuth2 token issuer");
  }
  out.subject = claims.sub;
  out.issuer = claims.iss;
  out.sandbox = isSandbox(claims.keytype);
  out.keytype = claims.keytype;
  out.application = claims.application;
  out.tier = claims.tier;

  // A key issued in the future (beyond the skew) would escape every "issued before" watermark set
  // before that time: refuse it.
  if (claims.iat * 1000 > nowSeconds * 1000 + std::max<std::int64_t>(0, skewMs_)) {
    return refuse(Failure::kNotYetValid,
                  "iat " + std::to_string(claims.iat) + " is in the future (now " +
                      std::to_string(nowSeconds) + ")",
                  "the API key is issued in the future");
  }

  // 2. Revocation, on every request, so a revoke needs no cache invalidation. A subject watermark
  // covers the subject of one issuer: the local STS's users by name, another issuer's subjects
  // under subjectKey(iss, sub), so "alice" of a partner issuer is not the local "alice".
  if (revocations_ &&
      revocations_->isRevoked(claims.jti, subjectKey(claims.iss, claims.sub), claims.iat)) {
    return refuse(Failure::kRevoked,
                  claims.jti.empty() ? "subject watermark covers iat " + std::to_string(claims.iat)
                                     : "jti or subject watermark revoked",
                  "the API key has been revoked");
  }

  // 3. Allowed APIs.
  const std::string apiLabel = api.name + ":" + api.version;
  if (claims.validateAllowedApis) {
    bool allowed = false;
    for (const token::AllowedApi& a : claims.allowedApis) {
      if (a.name == api.name && (a.version == api.version || a.version == "*")) {
        allowed = true;
        break;
      }
    }
    if (!allowed) {
      return refuse(Failure::kApiNotAllowed,
                    "no allowedAPIs/subscribedAPIs entry for " + apiLabel + " (" +
                        std::to_string(claims.allowedApis.size()) + " entries)",
                    claims.bearer
                        ? "the access token is not subscribed to API " + apiLabel +
                              " (validateSubscription = true in its [[jwtTokenConfig]])"
                        : "the API key is not allowed for API " + apiLabel +
                              " (validateAllowedAPIs = true for its issuer in "
                              "[apikey.tokenConfigs]; WSO2 API Microgateway 3.x defaulted it to "
                              "false)");
    }
  }

  // OAuth2 scopes of the resource (WSO2 MGW 3.x: one of them is enough).
  if (ctx.bearer && !ctx.requiredScopes.empty()) {
    bool granted = false;
    std::size_t start = 0;
    const std::string& have = claims.scope;
    while (!granted && start < have.size()) {
      std::size_t end = have.find(' ', start);
      if (end == std::string::npos) end = have.size();
      const std::string_view scope(have.data() + start, end - start);
      for (const std::string& need : ctx.requiredScopes) granted = granted || scope == need;
      start = end + 1;
    }
    if (!granted) {
      std::string needed;
      for (const std::string& need : ctx.requiredScopes)
        needed += (needed.empty() ? "" : ", ") + need;
      return refuse(Failure::kMissingScope, "token scopes lack all of: " + needed,
                    "the access token needs one of the scopes " + needed);
    }
  }

  // The tiers this request is throttled by (SPEC section 13).
  for (const token::AllowedApi& a : claims.allowedApis) {
    if (!a.tier.empty() && a.name == api.name && (a.version == api.version || a.version == "*")) {
      out.subscriptionTier = a.tier;
      break;
    }
  }
  if (out.subscriptionTier.empty()) out.subscriptionTier = claims.tier;
  out.applicationId = claims.applicationId;
  out.applicationTier = claims.applicationTier;
  out.subscriber = subscriberOf(subjectKey(claims.iss, claims.applicationId),
                                subjectKey(claims.iss, claims.sub));

  // 4, 5. permittedIP, permittedReferer.
  if (checkRestrictions(verifiedKey->restrictions, ctx, out) != Failure::kNone) return;

  // 6. Key type.
  if (out.sandbox && !hasSandboxEndpoints(api)) {
    return refuse(Failure::kSandboxNotAvailable,
                  "SANDBOX key, " + apiLabel + " has no sandbox endpoints",
                  "API " + apiLabel + " has no sandbox endpoints for a SANDBOX key");
  }
  if (claims.exp && *claims.exp > nowSeconds && *claims.exp - nowSeconds <= expiryWarning_)
    out.expiresSoon = *claims.exp;
  // Last use per jti ([apikey] trackLastUsed): one relaxed load per request, the index once a
  // minute per cached key.
  if (trackJtiUse_ && !claims.jti.empty()) {
    const std::int64_t minute = nowSeconds - nowSeconds % 60;
    std::int64_t seen = verifiedKey->lastUsedMinute.load(std::memory_order_relaxed);
    if (seen < minute && verifiedKey->lastUsedMinute.compare_exchange_strong(
                             seen, minute, std::memory_order_relaxed))
      opaqueKeys_->noteJtiUsed(claims.jti, claims.sub, nowSeconds);
  }
}

Failure KeyValidator::checkRestrictions(const KeyRestrictions& restrictions,
                                        const RequestContext& ctx, ValidationResult& out) const {
  auto refuse = [&out](Failure f, std::string reason, std::string description) {
    out.failure = f;
    out.reason = std::move(reason);
    out.description = std::move(description);
    return f;
  };
  // permittedIP.
  if (restrictions.restrictsIp) {
    const std::string client = effectiveClientAddress(ctx);
    if (!restrictions.ip) {
      return refuse(Failure::kIpNotPermitted, "permittedIP is malformed: " + restrictions.ipError,
                    "the API key's IP restriction cannot be applied");
    }
    if (!restrictions.ip->matches(client)) {
      return refuse(Failure::kIpNotPermitted, "client " + client + " not in permittedIP",
                    "the API key may not be used from " + client);
    }
  }

  // permittedReferer.
  if (restrictions.restrictsReferer) {
    if (!restrictions.referer) {
      return refuse(Failure::kRefererNotPermitted,
                    "permittedReferer is malformed: " + restrictions.refererError,
                    "the API key's referrer restriction cannot be applied");
    }
    if (!ctx.hasReferer || trimOws(ctx.referer).empty()) {
      return refuse(Failure::kRefererNotPermitted, "no Referer header",
                    "the API key requires a Referer header from a permitted site");
    }
    if (!restrictions.referer->matches(ctx.referer)) {
      return refuse(Failure::kRefererNotPermitted, "Referer not in permittedReferer",
                    "the API key may not be used from this referrer");
    }
  }

  return Failure::kNone;
}

ValidationResult KeyValidator::validateOpaque(std::string_view key, const ApiDefinition& api,
                                              const RequestContext& ctx,
                                              std::int64_t nowSeconds) const {
  ValidationResult out;
  auto refuse = [&out](Failure f, std::string reason, std::string description) {
    out.failure = f;
    out.reason = std::move(reason);
    out.description = std::move(description);
    return out;
  };

  // 1. Known. The value is never logged: an unknown one is named by its fingerprint.
  std::shared_ptr<const store::OpaqueKeyEntry> entry = opaqueKeys_->find(key);
  if (!entry) {
    out.keyId = fingerprint(key);
    return refuse(Failure::kUnknownKey, "no opaque key has this value",
                  "the API key is neither a signed key nor a known opaque key");
  }
  out.keyId = "opaque:" + entry->id;
  // A value replaced by a regenerate with a grace period: accepted until the grace period ends,
  // with Deprecation and Sunset headers on the answers (issue 25 item 2).
  if (entry->isPreviousValue) {
    if (nowSeconds >= entry->previousUntil)
      return refuse(Failure::kUnknownKey,
                    "opaque key value replaced; grace period ended at " +
                        std::to_string(entry->previousUntil),
                    "the API key was regenerated and its grace period ended at " +
                        token::isoTime(entry->previousUntil) + "; use the new value");
    out.replacedAt = entry->replacedAt;
    out.graceUntil = entry->previousUntil;
  }
  out.subject = entry->owner;
  out.sandbox = entry->sandbox;
  out.keytype = entry->sandbox ? "SANDBOX" : "PRODUCTION";
  if (entry->applicationId) out.application = *entry->applicationId;

  // 2. Revoked (a regenerated key's old value is no longer in the index: it is unknown, step 1).
  if (entry->revoked)
    return refuse(Failure::kRevoked, "opaque key revoked", "the API key has been revoked");

  // 3. Expiry, with the same skew as exp.
  if (entry->expiresAt > 0 &&
      nowSeconds * 1000 > entry->expiresAt * 1000 + std::max<std::int64_t>(0, skewMs_)) {
    return refuse(Failure::kExpired, "opaque key expired at " + std::to_string(entry->expiresAt),
                  "the API key expired at " + token::isoTime(entry->expiresAt));
  }

  // 4. Bound API: exactly one name and version. A shared key (issue 26) is bound to its
  // application's subscriptions instead: it works only while one of them to this API is served by
  // it (unsubscribing takes it off the API at once: the index changes with the store).
  const std::string apiLabel = api.name + ":" + api.version;
  out.sharedKey = entry->shared;
  if (entry->shared) {
    if (!entry->applicationId ||
        !opaqueKeys_->sharedKeyCovers(*entry->applicationId, api.name, api.version))
      return refuse(Failure::kNotSubscribed,
                    "shared key's application " + entry->applicationId.value_or("(none)") +
                        " has no subscription to " + apiLabel + " served by the shared key",
                    "the shared API key's application is not subscribed to API " + apiLabel +
                        " (a shared key works only on the APIs its application is subscribed to)");
  } else if (entry->apiName != api.name || entry->apiVersion != api.version) {
    return refuse(Failure::kApiNotAllowed,
                  "opaque key bound to " + entry->apiName + ":" + entry->apiVersion,
                  "the API key is bound to API " + entry->apiName + ":" + entry->apiVersion +
                      ", not " + apiLabel);
  }

  // 5, 6. Restrictions.
  if (checkRestrictions(entry->restrictions, ctx, out) != Failure::kNone) return out;

  // 7. Environment.
  if (out.sandbox && !hasSandboxEndpoints(api)) {
    return refuse(Failure::kSandboxNotAvailable,
                  "SANDBOX key, " + apiLabel + " has no sandbox endpoints",
                  "API " + apiLabel + " has no sandbox endpoints for a SANDBOX key");
  }

  // The tiers this request is throttled by (SPEC section 13): the key's own subscription tier, per
  // key and API; its micro-gw application's tier, shared by every key of the application.
  out.subscriptionTier = entry->tier;
  out.tier = entry->tier;  // the backend JWT's "tier" claim, as a signed key's (issue 22 item 12)
  if (entry->applicationId) {
    out.applicationId = *entry->applicationId;
    out.applicationTier = opaqueKeys_->applicationTier(*entry->applicationId);
  }
  // Opaque keys are the local users' (and local applications'): the same subscriber as the
  // owner's STS keys and basic auth.
  out.subscriber = subscriberOf(entry->applicationId.value_or(""), entry->owner);

  // 8. Subscription, for APIs that require one (seed 001: "subscriptionless" APIs skip it).
  if (api.subscriptionRequired) {
    if (!entry->applicationId) {
      return refuse(Failure::kNotSubscribed,
                    "opaque key has no application; " + apiLabel + " requires a subscription",
                    "API " + apiLabel +
                        " requires a subscription: associate the API key with an application "
                        "subscribed to it");
    }
    if (!opaqueKeys_->isSubscribed(*entry->applicationId, api.name, api.version)) {
      return refuse(Failure::kNotSubscribed,
                    "application " + *entry->applicationId + " is not subscribed to " + apiLabel,
                    "the API key's application is not subscribed to API " + apiLabel);
    }
  }
  if (entry->expiresAt > nowSeconds && entry->expiresAt - nowSeconds <= expiryWarning_)
    out.expiresSoon = entry->expiresAt;
  opaqueKeys_->noteUsed(*entry, nowSeconds);  // last use: at most one store write a minute
  return out;
}

}  // namespace mgw::gateway
