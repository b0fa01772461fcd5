#include "gateway/backend_jwt.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/crypto_util.h"
#include "token/jws.h"

namespace mgw::gateway {
namespace {

constexpr const char* kClaimNames[] = {"sub", "keytype", "application", "tier", "subscriber"};

}  // namespace

// x-wso2-application-security's names for the schemes.
const char* authMethod(Scheme scheme) {
  switch (scheme) {
    case Scheme::kApiKey:
      return "api_key";
    case Scheme::kBearer:
      return "oauth2";
    case Scheme::kBasic:
      return "basic_auth";
    case Scheme::kMutualTls:
      return "mutualssl";
  }
  return "api_key";
}

namespace {}  // namespace

BackendJwtGenerator::BackendJwtGenerator(const config::JwtGeneratorConfig& config,
                                         std::shared_ptr<const token::SigningKey> key)
    : config_(config), key_(std::move(key)) {
  for (std::size_t i = 0; i < std::size(kClaimNames); ++i)
    claim_[i] = std::find(config_.claims.begin(), config_.claims.end(), kClaimNames[i]) !=
                config_.claims.end();
  if (config_.cacheCapacity == 0) config_.cacheCapacity = 1;
}

std::int64_t BackendJwtGenerator::refreshMargin() const {
  return std::clamp<std::int64_t>(config_.validitySeconds / 10, 1, 60);
}

std::size_t BackendJwtGenerator::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

std::optional<std::string> BackendJwtGenerator::tokenFor(const Principal& caller,
                                                         const ApiDefinition& api,
                                                         std::int64_t now) {
  // Everything the token says about the caller is in the cache key, so a cached token never
  // describes anyone else (an opaque key moved to another application gets a new one).
  std::string cacheKey;
  cacheKey.reserve(128);
  for (const std::string* part : {&caller.keyId, &api.name, &api.version, &caller.subject,
                                  &caller.keytype, &caller.application, &caller.tier,
                                  &caller.issuer, &caller.clientCertSha256, &caller.plan}) {
    cacheKey += *part;
    cacheKey += '\x1f';
  }
  cacheKey += authMethod(caller.scheme);
  {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(cacheKey); it != index_.end()) {
      if (now < it->second->reuseUntil) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return it->second->token;
      }
      lru_.erase(it->second);
      index_.erase(it);
    }
  }

  // A miss: sign outside the lock (RSA takes a quarter of a millisecond; ES256 and EdDSA far less).
  const std::int64_t exp = now + config_.validitySeconds;
  nlohmann::json claims = {{"iss", config_.issuer},
                           {"aud", api.name + ":" + api.version},
                           {"iat", now},
                           {"exp", exp},
                           {"jti", uuidV4()},
                           {"apiName", api.name},
                           {"apiVersion", api.version},
                           {"apiContext", api.context},
                           {"authMethod", authMethod(caller.scheme)}};
  // Who issued the credential: a partner issuer's "admin" is not this gateway's "admin".
  if (!caller.issuer.empty()) claims["idp"] = caller.issuer;
  // The client certificate of a mutual TLS connection: RFC 8705's confirmation (x5t#S256, the
  // base64url SHA-256 of its DER) and its subject.
  if (!caller.clientCertSha256.empty()) {
    std::string digest;
    for (std::size_t i = 0; i + 1 < caller.clientCertSha256.size(); i += 2)
      digest += static_cast<char>(std::stoi(caller.clientCertSha256.substr(i, 2), nullptr, 16));
    claims["cnf"] = {{"x5t#S256", base64UrlEncode(digest)}};
    claims["clientCertificateSubject"] = caller.clientCertSubject;
  }
  if (!caller.plan.empty()) claims["plan"] = caller.plan;  // issue 26 item 1
  const std::string* values[] = {&caller.subject, &caller.keytype, &caller.application,
                                 &caller.tier, &caller.subject};
  for (std::size_t i = 0; i < std::size(kClaimNames); ++i)
    if (claim_[i] && !values[i]->empty()) claims[kClaimNames[i]] = *values[i];
  auto token = token::signCompact({{"typ", "JWT"}, {"kid", config_.kid}}, claims, *key_);
  if (!token) return std::nullopt;

  std::lock_guard lock(mutex_);
  if (auto it = index_.find(cacheKey); it != index_.end()) {  // another thread signed meanwhile
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{cacheKey, *token, exp - refreshMargin()});
  index_.emplace(std::move(cacheKey), lru_.begin());
  while (lru_.size() > config_.cacheCapacity) {
    index_.erase(lru_.back().cacheKey);
    lru_.pop_back();
  }
  return token;
}

}  // namespace mgw::gateway
