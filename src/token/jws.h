// JWS compact serialization (RFC 7515 section 7.1): parse without trust, sign, and verify with a
// key set whose keys pin their algorithm. Claims are returned only after every check passed.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "token/keys.h"

namespace mgw::token {

constexpr std::size_t kMaxTokenBytes = 8 * 1024;

struct ParsedJws {
  nlohmann::json header;          // object
  nlohmann::json payload;         // object
  std::string_view signingInput;  // points into the token passed to parseCompact
  std::string signature;          // decoded bytes
};

// Size, three segments, base64url (trailing '=' tolerated), JSON objects. No trust implied.
// On failure returns nullopt and sets *failure (kKeyTooLarge or kMalformedKey) and *reason.
std::optional<ParsedJws> parseCompact(std::string_view token, Failure* failure,
                                      std::string* reason);

// header gets "alg" from the key; the caller supplies "typ"/"kid". nullopt if signing failed.
std::optional<std::string> signCompact(nlohmann::json header, const nlohmann::json& claims,
                                       const SigningKey& key);

struct AllowedApi {
  std::string name;
  std::string version;
  std::string tier;  // WSO2 API Manager's subscribedAPIs[].subscriptionTier; may be empty
};

// An iat at or above this is in milliseconds (WSO2's test tokens), read as seconds: see
// claimsFromJson.
constexpr std::int64_t kMillisecondIatThreshold = 1'000'000'000'000;

struct Claims {
  std::string sub;
  std::string iss;
  std::string jti;
  std::int64_t iat = 0;
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
  std::string keytype = "PRODUCTION";
  std::vector<AllowedApi> allowedApis;  // from allowedAPIs, or WSO2 API Manager's subscribedAPIs
  std::string permittedIP;
  std::string permittedReferer;
  std::vector<std::string> audience;  // aud: one string or an array (RFC 7519 section 4.1.3)
  std::string scope;                  // space-separated OAuth2 scopes (RFC 8693 section 4.2)
  bool validateAllowedApis = true;    // from the trusted issuer that verified it
  bool bearer = false;                // verified with a [[jwtTokenConfig]] issuer's key
  std::string tier;                   // "tier", when a string (copied into the backend JWT)
  std::string application;            // "application" (a string, or an object's "name")
  // Throttling (SPEC section 13): WSO2 API Manager's "application" object: its uuid (or id, or
  // owner/name) and tier.
  std::string applicationId;
  std::string applicationTier;
  // Not a claim: the verifiesUntil of the key that verified it (a retired signing key, issue 25),
  // so a cache of verified keys never outlives it.
  std::optional<std::int64_t> keyVerifiesUntil;
};

// A trusted key: the kid a token names, the key (which pins alg) and the issuer it must carry.
struct TrustedKey {
  std::string kid;
  std::string issuer;
  std::shared_ptr<const VerificationKey> key;
  bool validateAllowedApis = true;
  std::string audience;  // when set, the token's aud must name it
  bool bearer = false;   // an OAuth2 bearer-token issuer ([[jwtTokenConfig]]), not an API key one
  // A retired signing key of the local STS (issue 25): after this time (epoch seconds) it verifies
  // nothing and leaves the JWKS. nullopt: no end.
  std::optional<std::int64_t> verifiesUntil;
};

class KeySet {
 public:
  void add(TrustedKey key);
  // kid lookup; when the token has no kid and exactly one key is trusted, that key.
  const TrustedKey* find(const std::optional<std::string>& kid) const;
  // SPEC section 7 (WSO2 selects by issuer and never reads kid): the keys trusted for iss; one is
  // taken whatever kid says, among several kid chooses. *issuerKeys is how many iss has (0: an
  // unknown issuer). nullptr when none is chosen.
  const TrustedKey* select(std::string_view iss, const std::optional<std::string>& kid,
                           std::size_t* issuerKeys) const;
  std::size_t size() const { return byKid_.size(); }
  nlohmann::json toJwks() const;  // {"keys": [...]} (RFC 7517 section 5)
  // The same without the keys whose verifiesUntil has passed at nowSeconds.
  nlohmann::json toJwks(std::int64_t nowSeconds) const;

 private:
  std::unordered_map<std::string, TrustedKey> byKid_;
  std::vector<std::string> order_;
};

struct VerifyResult {
  Failure failure = Failure::kNone;
  std::string reason;  // exact internal reason for logs; never contains the token
  Claims claims;       // filled only when failure == kNone
};

// Checks in SPEC section 7 order: parse, kid -> key with pinned alg, signature, iss, exp/nbf with
// skewMs. Does not check revocation, APIs or restrictions (the gateway's validator does).
[[nodiscard]] VerifyResult verifyToken(std::string_view token, const KeySet& keys,
                                       std::int64_t nowSeconds, std::int64_t skewMs);

// Claims from a JSON payload, tolerant of WSO2 shapes (subscribedAPIs, numeric strings).
// Returns false with reason when a claim has the wrong type.
bool claimsFromJson(const nlohmann::json& payload, Claims* claims, std::string* reason);

}  // namespace mgw::token
