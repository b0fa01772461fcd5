#include "token/jws.h"

#include <climits>

namespace mgw::token {

void KeySet::add(TrustedKey key) {
  std::string kid = key.kid;
  auto [it, inserted] = byKid_.insert_or_assign(kid, std::move(key));
  (void)it;
  if (inserted) order_.push_back(std::move(kid));
}

const TrustedKey* KeySet::find(const std::optional<std::string>& kid) const {
  if (kid) {
    auto it = byKid_.find(*kid);
    return it == byKid_.end() ? nullptr : &it->second;
  }
  // A key without kid (e.g. from an issuer that never sets one) is unambiguous only with one
  // trusted key.
  return byKid_.size() == 1 ? &byKid_.begin()->second : nullptr;
}

const TrustedKey* KeySet::select(std::string_view iss, const std::optional<std::string>& kid,
                                 std::size_t* issuerKeys) const {
  const TrustedKey* only = nullptr;
  std::size_t count = 0;
  for (const std::string& k : order_) {
    const TrustedKey& trusted = byKid_.at(k);
    if (trusted.issuer != iss) continue;
    ++count;
    only = &trusted;
  }
  if (issuerKeys) *issuerKeys = count;
  if (count <= 1) return only;
  if (!kid) return nullptr;
  auto it = byKid_.find(*kid);
  return it != byKid_.end() && it->second.issuer == iss ? &it->second : nullptr;
}

nlohmann::json KeySet::toJwks() const { return toJwks(INT64_MIN); }

nlohmann::json KeySet::toJwks(std::int64_t nowSeconds) const {
  // RFC 7517 section 5: {"keys": [JWK, ...]}, in the order the keys were configured; a retired
  // signing key stays until the last key it signed has expired.
  nlohmann::json keys = nlohmann::json::array();
  for (const std::string& kid : order_) {
    const TrustedKey& trusted = byKid_.at(kid);
    if (trusted.verifiesUntil && nowSeconds > *trusted.verifiesUntil) continue;
    if (trusted.key) keys.push_back(trusted.key->toJwk(kid));
  }
  return {{"keys", std::move(keys)}};
}

}  // namespace mgw::token
