// Decides whether a signed API key may call an API (SPEC section 7): verification (through the
// cache), revocation, allowed APIs, IP and referrer restrictions, key type. Trusts the key set and
// the configuration; the key and every request field are client input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_matcher.h"
#include "common/status.h"
#include "config/config.h"
#include "gateway/api.h"
#include "gateway/key_cache.h"
#include "gateway/principal.h"
#include "gateway/refusal_cache.h"
#include "store/opaque_key_index.h"
#include "store/revocation_list.h"
#include "token/jws.h"

namespace mgw::gateway {

struct RequestContext {
  std::string clientAddress;  // the TCP peer
  std::string
      forwardedFor;  // X-Forwarded-For as received (all occurrences joined by ","), may be empty
  std::string referer;
  bool hasReferer = false;
  // WSO2 MGW 3.x OAuth2: the credential came as "Authorization: Bearer" (only [[jwtTokenConfig]]
  // issuers' tokens are taken there, and only there), and the resource's scopes (one needed).
  bool bearer = false;
  std::vector<std::string> requiredScopes;
};

// The validator's answer: a refusal, or the verified caller (the Principal part, which is also
// filled as far as known on a refusal: keyId at least).
struct ValidationResult : Principal {
  Failure failure = Failure::kNone;
  std::string reason;       // exact internal reason, for logs; never the key
  std::string description;  // for the client: specific enough to fix the request, never the key
  // Set instead of description when the text is fixed (the bad checksum's): that refusal must
  // stay far cheaper than a lookup, so it allocates nothing (issue 25). Read through
  // descriptionText(), or take with takeDescription().
  std::string_view fixedDescription;

  std::string_view descriptionText() const {
    return fixedDescription.empty() ? std::string_view(description) : fixedDescription;
  }
  std::string takeDescription() {
    return fixedDescription.empty() ? std::move(description) : std::string(fixedDescription);
  }
};

class KeyValidator {
 public:
  // revocations may be null (nothing revoked); opaqueKeys may be null (signed keys only). The cache
  // is sized from config.caching.
  KeyValidator(std::shared_ptr<const token::KeySet> keys, const config::Config& config,
               std::shared_ptr<store::RevocationList> revocations,
               std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys = nullptr);

  // No signed key is this short (the shortest signature alone, Ed25519's, is 86 characters), and no
  // opaque key is longer (custom values: 8 to 64; generated: 43). So the length alone picks the
  // path, with no parsing and no hashing of the other kind.
  static constexpr std::size_t kMaxOpaqueKeyLength = 64;

  // Checks in SPEC section 7 order; the first failure answers:
  //  1. verifyToken through the cache (size, format, kid/alg, signature, iss, exp/nbf with skew);
  //     keytype must be PRODUCTION or SANDBOX (else kMalformedKey)
  //  2. revocation: the jti, or the subject's "issued before" watermark       -> kRevoked
  //  3. an allowedAPIs/subscribedAPIs entry with api.name and api.version or "*", unless the issuer
  //     is configured with validateAllowedAPIs = false                         -> kApiNotAllowed
  //  4. permittedIP against the client address                              -> kIpNotPermitted
  //  5. permittedReferer against the Referer header (missing = fail)        -> kRefererNotPermitted
  //  6. keytype SANDBOX needs api.sandbox endpoints                         -> kSandboxNotAvailable
  //
  // First of all, a key of the scanner-recognisable format ([apikey] keyPrefix,
  // common/key_format.h) whose checksum is wrong is refused (kMalformedKey) without a lookup or a
  // signature check. That holds for signed keys framed as "<prefix>_<JWS>_<checksum>"
  // ([apikey.issuer.tokenConfig] keyPrefix) too; a framed key with a right checksum is the JWS
  // inside from then on (cached, verified, revoked and identified by it), whether or not the
  // issuer frames its keys now.
  //
  // A key of at most kMaxOpaqueKeyLength characters, when an opaque key index is set, is an opaque
  // key instead (SPEC section 8), checked in the same spirit:
  //  1. known (by keyed hash)                                   -> kUnknownKey
  //  2. not revoked                                             -> kRevoked
  //  3. not expired (expiresAt with skew)                       -> kExpired
  //  4. bound to api.name and api.version exactly               -> kApiNotAllowed
  //     (an application's shared key, issue 26: one of the application's subscriptions to the
  //     API is served by the shared key                         -> kNotSubscribed)
  //  5, 6. permittedIP, permittedReferer as for signed keys
  //  7. SANDBOX needs api.sandbox endpoints                     -> kSandboxNotAvailable
  //  8. api.subscriptionRequired: the key's application is subscribed to the API -> kNotSubscribed
  [[nodiscard]] ValidationResult validate(std::string_view key, const ApiDefinition& api,
                                          const RequestContext& ctx, std::int64_t nowSeconds) const;

  // The address permittedIP is checked against. X-Forwarded-For is believed only when the TCP peer
  // is one of listener.trustedProxies; then the right-most entry that is not itself a trusted proxy
  // is the client (entries to its left were written by the client and can be forged). Without
  // trusted proxies, or from any other peer, the TCP peer.
  std::string effectiveClientAddress(const RequestContext& ctx) const;
  // True when the TCP peer is one of listener.trustedProxies (its X-Forwarded-For is kept).
  bool isTrustedProxy(std::string_view peer) const {
    return !trustedProxies_.empty() && trustedProxies_.matches(peer);
  }

  // Issue 26 item 4, where one "Authorization: Bearer" value may be an OAuth2 token or an API key:
  // true when the value is a JWS whose (unverified) iss and kid select a [[jwtTokenConfig]]
  // issuer's key. Such a value goes the OAuth2 way (and is verified there); anything else (an
  // opaque key, an API key issuer's signed key, a token of an unknown issuer) is tried as an API
  // key. Each issuer is trusted for one kind, so the choice never lets a value skip a check.
  [[nodiscard]] bool isOAuth2Token(std::string_view value) const;

  // True when the micro-gw application is subscribed to name:version (false without an opaque key
  // index): a plan's subscriptionRequired (issue 26 item 1).
  [[nodiscard]] bool isSubscribed(std::string_view applicationId, std::string_view apiName,
                                  std::string_view apiVersion) const {
    return opaqueKeys_ && opaqueKeys_->isSubscribed(applicationId, apiName, apiVersion);
  }
  // Issue 26: the application's subscription to one plan (orDefault: the plan is the API's
  // first, which a subscription stored without a plan counts for). A hash lookup in memory.
  [[nodiscard]] store::OpaqueKeyIndex::PlanSubscription planSubscription(
      std::string_view applicationId, std::string_view apiName, std::string_view apiVersion,
      std::string_view plan, bool orDefault) const {
    return opaqueKeys_
               ? opaqueKeys_->planSubscription(applicationId, apiName, apiVersion, plan, orDefault)
               : store::OpaqueKeyIndex::PlanSubscription::kNone;
  }

  KeyCache& cache() const { return *cache_; }

  // The revocation list's subject for a watermark: sub itself for the local issuer (what
  // POST /apikey/revoke {"sub", "issuedBefore"} writes), "<iss>\x1f<sub>" for another issuer's.
  std::string subjectKey(std::string_view iss, std::string_view sub) const;

 private:
  static ValidationResult badChecksum();
  ValidationResult validateOpaque(std::string_view key, const ApiDefinition& api,
                                  const RequestContext& ctx, std::int64_t nowSeconds) const;
  // A signed key (the JWS, unframed): the result is built in place (its one return is the named
  // result, so it is not moved, 13 strings, on every request), its steps in checkSigned.
  ValidationResult validateSigned(std::string_view key, const ApiDefinition& api,
                                  const RequestContext& ctx, std::int64_t nowSeconds) const;
  void checkSigned(std::string_view key, const ApiDefinition& api, const RequestContext& ctx,
                   std::int64_t nowSeconds, ValidationResult& out) const;
  // Steps 4 and 5 of both paths: permittedIP against the effective client address, permittedReferer
  // against the Referer header (missing = fail), with the key's compiled matchers. kNone, or the
  // failure with out's reason/description set.
  Failure checkRestrictions(const KeyRestrictions& restrictions, const RequestContext& ctx,
                            ValidationResult& out) const;

  std::shared_ptr<const token::KeySet> keys_;
  std::shared_ptr<store::RevocationList> revocations_;
  std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys_;
  std::string keyPrefix_;       // [apikey] keyPrefix: keys of the format are checksummed
  bool trackJtiUse_ = false;    // [apikey] trackLastUsed (and an index to note it in)
  std::int64_t expiryWarning_;  // [apikey] expiryWarningDays, in seconds
  std::int64_t skewMs_;
  std::string localIssuer_;
  IpMatcher trustedProxies_;
  std::unique_ptr<KeyCache> cache_;         // internally synchronised
  std::unique_ptr<RefusalCache> refusals_;  // the negative cache, internally synchronised
};

}  // namespace mgw::gateway
