// Revocations of signed API keys (SPEC section 8): single keys by jti, and per-subject "issued
// before" watermarks. Durable on return; the gateway keeps the loaded snapshot in memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/status.h"
#include "store/database.h"

namespace mgw::store {

struct RevocationSnapshot {
  std::unordered_set<std::string> jtis;
  // sub -> issuedBefore (epoch seconds): a key of sub with iat < issuedBefore is revoked.
  std::unordered_map<std::string, int64_t> subjectIssuedBefore;
};

class RevocationStore {
 public:
  explicit RevocationStore(Database& db) : db_(db) {}

  // expiresAt: the key's exp in epoch seconds, 0 (or negative) = the key never expires (the row is
  // kept forever).
  // Revoking the same jti again keeps one row with the later expiry. kNone, or kInternalError.
  [[nodiscard]] Failure revokeJti(std::string_view jti, std::string_view sub, int64_t expiresAt,
                                  std::string_view revokedBy, int64_t now);

  // Raises sub's watermark to issuedBefore; a lower value than the stored one changes nothing
  // (a watermark never moves back). kNone, or kInternalError.
  [[nodiscard]] Failure revokeSubjectBefore(std::string_view sub, int64_t issuedBefore,
                                            std::string_view revokedBy, int64_t now);

  [[nodiscard]] StoreResult<RevocationSnapshot> loadAll() const;

  // Drops jti rows whose key expired before now (expires_at != 0 and < now): such a key fails on
  // exp anyway. Pass now minus the allowed clock skew, so a key still inside the skew stays
  // revoked. Watermarks are kept. Answers the number of rows removed.
  [[nodiscard]] StoreResult<int64_t> purgeExpired(int64_t now);

 private:
  Database& db_;
};

}  // namespace mgw::store
