// The in-memory denylist the gateway consults on every request: revoked jtis and per-subject
// "issued before" watermarks. The server fills it from the embedded store at start and on each
// revoke; this module trusts its caller and knows nothing of the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/string_hash.h"

namespace mgw::store {

class RevocationList {
 public:
  // expiresAt: the key's exp (epoch seconds); <= 0 for a key without exp, kept until cleared.
  void revokeJti(const std::string& jti, std::int64_t expiresAt);
  // Every key of sub with iat <= issuedBefore is revoked. "<=" because iat has one-second
  // resolution: a key minted in the same second as the revocation may be the stolen one.
  // A lower watermark than the current one is ignored (revocations only widen).
  void setSubjectWatermark(const std::string& sub, std::int64_t issuedBefore);

  [[nodiscard]] bool isRevoked(std::string_view jti, std::string_view sub, std::int64_t iat) const;

  // Drops jti entries whose key expired before now (an expired key fails on exp anyway).
  // Subject watermarks stay: they cover keys of any expiry.
  void purgeExpired(std::int64_t now);
  std::size_t size() const;  // jti entries + watermarks
  void clear();

 private:
  mutable std::shared_mutex mutex_;
  // jti -> exp (<= 0: none); sub -> issuedBefore. Looked up by string_view on every request.
  std::unordered_map<std::string, std::int64_t, StringHash, StringEqual> jtis_;
  std::unordered_map<std::string, std::int64_t, StringHash, StringEqual> watermarks_;
};

}  // namespace mgw::store
