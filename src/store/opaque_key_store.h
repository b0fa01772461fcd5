// API-bound opaque keys (seed 001): each bound to one API and one environment, stored only as a
// keyed hash (store/key_hasher.h). The value is shown once, at create/regenerate, and never stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/database.h"
#include "store/key_hasher.h"

namespace mgw::store {

enum class KeyType { kProduction, kSandbox };

std::string_view keyTypeName(KeyType type);                  // "PRODUCTION" / "SANDBOX"
std::optional<KeyType> parseKeyType(std::string_view name);  // exact, upper case

// What the caller decides when creating a key; the store adds id, hash and lastFour.
struct NewOpaqueKey {
  std::string name;
  std::string owner;  // the basic-auth user
  std::string apiName;
  std::string apiVersion;
  KeyType keyType = KeyType::kProduction;
  int64_t createdAt = 0;         // epoch seconds
  int64_t expiresAt = 0;         // epoch seconds, 0 = never
  std::string permittedIp;       // "" = any
  std::string permittedReferer;  // "" = any
  std::optional<std::string> applicationId;
  // The subscription-level throttling policy (SPEC section 13), checked by the caller.
  std::string tier = "Unlimited";
  // The application's shared key (issue 26): apiName and apiVersion are "", applicationId is set.
  bool shared = false;
};

struct OpaqueKeyRecord {
  std::string id;  // UUID v4
  std::string name;
  std::string owner;
  std::string apiName;
  std::string apiVersion;
  KeyType keyType = KeyType::kProduction;
  std::string keyHash;  // KeyHasher::kHashBytes raw bytes
  std::string lastFour;
  int64_t createdAt = 0;
  int64_t expiresAt = 0;  // 0 = never
  std::string permittedIp;
  std::string permittedReferer;
  std::optional<std::string> applicationId;
  bool revoked = false;
  int64_t revokedAt = 0;           // 0 unless revoked
  std::string tier = "Unlimited";  // subscription-level throttling policy (schema version 4)
  // Rotation with a grace period (schema version 5): the value before the last regenerate (its
  // keyed hash, "" = none) is accepted until previousUntil; replacedAt is when it was replaced.
  std::string previousHash;
  int64_t previousUntil = 0;
  int64_t replacedAt = 0;
  int64_t lastUsed = 0;  // epoch seconds, minute precision; 0 = never used
  bool shared = false;   // the application's shared key (schema version 6): bound to no API
};

// One key's (and its application's) last use, as the batched writer hands it to the store.
struct KeyUse {
  std::string id;
  int64_t at = 0;  // epoch seconds, a whole minute
};

class OpaqueKeyStore {
 public:
  OpaqueKeyStore(Database& db, const KeyHasher& hasher) : db_(db), hasher_(hasher) {}

  // Stores keyValue's hash. kBadRequestBody: keyValue breaks validateCustomKeyValue (generated keys
  // always pass); kConflict: a key with this value already exists (also a revoked one: a value is
  // never reused); kNotFound: applicationId names no application.
  [[nodiscard]] StoreResult<OpaqueKeyRecord> create(const NewOpaqueKey& key,
                                                    std::string_view keyValue);

  [[nodiscard]] StoreResult<OpaqueKeyRecord> get(std::string_view id) const;  // kNotFound
  // The record whose hash matches keyValue (revoked ones included), or kNotFound. With now > 0, a
  // value replaced by a regenerate whose grace period runs past now matches too.
  [[nodiscard]] StoreResult<OpaqueKeyRecord> findByValue(std::string_view keyValue,
                                                         int64_t now = 0) const;
  [[nodiscard]] StoreResult<std::vector<OpaqueKeyRecord>> listByOwner(std::string_view owner) const;
  [[nodiscard]] StoreResult<std::vector<OpaqueKeyRecord>> listAll() const;  // for an admin

  // Replaces hash and lastFour in one statement: from the commit on, only newKeyValue matches; id,
  // name, restrictions and application stay. Answers the updated record. kNotFound: no such key;
  // kConflict: the key is revoked, or newKeyValue is already in use; kBadRequestBody: invalid
  // value.
  // With graceSeconds > 0 the old value keeps working until now + graceSeconds (a value already in
  // a grace period from an earlier regenerate stops at once: one previous value at a time).
  [[nodiscard]] StoreResult<OpaqueKeyRecord> regenerate(std::string_view id,
                                                        std::string_view newKeyValue,
                                                        int64_t now = 0, int64_t graceSeconds = 0);

  // Raises last_used of each key, and of its application, to the given time (never lowers it), in
  // one transaction. Answers the number of key rows written.
  [[nodiscard]] StoreResult<std::size_t> recordUse(const std::vector<KeyUse>& uses);
  // Signed keys ([apikey] trackLastUsed): raises the jti's last use. Rows written.
  struct JtiUse {
    std::string jti;
    std::string sub;
    int64_t at = 0;
  };
  [[nodiscard]] StoreResult<std::size_t> recordJtiUse(const std::vector<JtiUse>& uses);
  [[nodiscard]] StoreResult<std::vector<JtiUse>> listJtiUse() const;
  // An application's last use through any of its keys (0 = never).
  [[nodiscard]] StoreResult<int64_t> applicationLastUsed(std::string_view applicationId) const;

  // Marks the key revoked (kept, so its value is never accepted or reused). Revoking a revoked key
  // changes nothing and answers kNone. kNotFound: no such key.
  [[nodiscard]] Failure revoke(std::string_view id, int64_t now);

  // kNotFound: no such key or application; kConflict: the key is revoked.
  [[nodiscard]] Failure associateApplication(std::string_view id, std::string_view applicationId);
  // kNotFound: no such key. Dissociating a key without an application answers kNone.
  [[nodiscard]] Failure dissociateApplication(std::string_view id);

  // Every key, revoked ones included (so the gateway can tell "revoked" from "unknown"), for the
  // gateway's in-memory index keyed by keyHash.
  [[nodiscard]] StoreResult<std::vector<OpaqueKeyRecord>> loadAll() const;

 private:
  Database& db_;
  const KeyHasher& hasher_;
};

}  // namespace mgw::store
