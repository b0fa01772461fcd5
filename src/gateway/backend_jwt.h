// The backend JWT (SPEC section 15): a short-lived JWS about the verified caller (subscriber,
// application, tier, key type, who issued the credential and how it was presented) and the API,
// for the backend to verify against the gateway's JWKS.
// Signed with the token module's JWS code; cached per (key, API) until shortly before it expires,
// so the request path signs once per caller and API per validity period. Trusts its input: it runs
// only after the key validator accepted the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "gateway/api.h"
#include "gateway/principal.h"
#include "token/keys.h"

namespace mgw::gateway {

// The backend JWT's authMethod claim for a scheme: "api_key", "oauth2", "basic_auth" (the names
// of x-wso2-application-security) or "mutualssl" (WSO2 MGW 3.x's name for mutual TLS).
const char* authMethod(Scheme scheme);

class BackendJwtGenerator {
 public:
  BackendJwtGenerator(const config::JwtGeneratorConfig& config,
                      std::shared_ptr<const token::SigningKey> key);

  const std::string& header() const { return config_.header; }
  const std::string& kid() const { return config_.kid; }

  // The JWT for this caller and API at `now`: the cached one while more than the refresh margin
  // of its validity is left, else a new one (iat now, exp now + validitySeconds, a fresh jti).
  // nullopt when signing failed.
  std::optional<std::string> tokenFor(const Principal& caller, const ApiDefinition& api,
                                      std::int64_t now);

  // Seconds before exp at which a cached token is replaced: a tenth of the validity, at most 60.
  std::int64_t refreshMargin() const;
  std::size_t size() const;

 private:
  struct Entry {
    std::string cacheKey;
    std::string token;
    std::int64_t reuseUntil;  // exclusive
  };

  config::JwtGeneratorConfig config_;
  std::shared_ptr<const token::SigningKey> key_;
  bool claim_[5] = {};  // sub, keytype, application, tier, subscriber
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace mgw::gateway
