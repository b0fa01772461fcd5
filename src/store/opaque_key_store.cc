#include "store/opaque_key_store.h"

#include "common/crypto_util.h"

namespace mgw::store {
namespace {

constexpr const char* kSelectKey =
    "SELECT id, name, owner, api_name, api_version, key_type, key_hash, last_four, created_at, "
    "expires_at,"
    " permitted_ip, permitted_referer, application_id, revoked, revoked_at, tier, previous_hash,"
    " previous_until, replaced_at, last_used, shared FROM opaque_keys ";

OpaqueKeyRecord readKey(const Statement& stmt) {
  OpaqueKeyRecord r;
  r.id = stmt.columnText(0);
  r.name = stmt.columnText(1);
  r.owner = stmt.columnText(2);
  r.apiName = stmt.columnText(3);
  r.apiVersion = stmt.columnText(4);
  // The CHECK constraint admits only the two names.
  r.keyType = parseKeyType(stmt.columnText(5)).value_or(KeyType::kProduction);
  r.keyHash = stmt.columnBlob(6);
  r.lastFour = stmt.columnText(7);
  r.createdAt = stmt.columnInt(8);
  r.expiresAt = stmt.columnInt(9);
  r.permittedIp = stmt.columnText(10);
  r.permittedReferer = stmt.columnText(11);
  r.applicationId = stmt.columnOptionalText(12);
  r.revoked = stmt.columnInt(13) != 0;
  r.revokedAt = stmt.columnInt(14);
  r.tier = stmt.columnText(15);
  r.previousHash = stmt.columnBlob(16);
  r.previousUntil = stmt.columnInt(17);
  r.replacedAt = stmt.columnInt(18);
  r.lastUsed = stmt.columnInt(19);
  r.shared = stmt.columnInt(20) != 0;
  return r;
}

std::optional<OpaqueKeyRecord> selectOne(const Database::Session& s, std::string_view where,
                                         std::string_view arg, bool argIsBlob) {
  Statement stmt = s.prepare(std::string(kSelectKey) + std::string(where));
  if (argIsBlob) {
    stmt.bindBlob(1, arg);
  } else {
    stmt.bindText(1, arg);
  }
  if (!stmt.step()) return std::nullopt;
  return readKey(stmt);
}

}  // namespace

std::string_view keyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kProduction:
      return "PRODUCTION";
    case KeyType::kSandbox:
      return "SANDBOX";
  }
  return "PRODUCTION";  // unreachable: the switch is exhaustive
}

std::optional<KeyType> parseKeyType(std::string_view name) {
  if (name == "PRODUCTION") return KeyType::kProduction;
  if (name == "SANDBOX") return KeyType::kSandbox;
  return std::nullopt;
}

StoreResult<OpaqueKeyRecord> OpaqueKeyStore::create(const NewOpaqueKey& key,
                                                    std::string_view keyValue) {
  if (validateCustomKeyValue(keyValue)) return {Failure::kBadRequestBody, {}};
  OpaqueKeyRecord r;
  r.id = uuidV4();
  r.name = key.name;
  r.owner = key.owner;
  r.apiName = key.apiName;
  r.apiVersion = key.apiVersion;
  r.keyType = key.keyType;
  r.keyHash = hasher_.hash(keyValue);
  r.lastFour = lastFourOf(keyValue);
  r.createdAt = key.createdAt;
  r.expiresAt = key.expiresAt < 0 ? 0 : key.expiresAt;
  r.permittedIp = key.permittedIp;
  r.permittedReferer = key.permittedReferer;
  r.applicationId = key.applicationId;
  r.tier = key.tier;
  r.shared = key.shared;
  try {
    return db_.write([&](const Database::Session& s) -> StoreResult<OpaqueKeyRecord> {
      // A value still in another key's grace period is taken, as a current one is.
      Statement taken = s.prepare("SELECT 1 FROM opaque_keys WHERE previous_hash = ?1");
      taken.bindBlob(1, r.keyHash);
      if (taken.step()) return {Failure::kConflict, {}};
      s.prepare(R"sql(
          INSERT INTO opaque_keys (id, name, owner, api_name, api_version, key_type, key_hash, last_four,
                                   created_at, expires_at, permitted_ip, permitted_referer, application_id,
                                   tier, shared)
          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15))sql")
          .bindText(1, r.id)
          .bindText(2, r.name)
          .bindText(3, r.owner)
          .bindText(4, r.apiName)
          .bindText(5, r.apiVersion)
          .bindText(6, keyTypeName(r.keyType))
          .bindBlob(7, r.keyHash)
          .bindText(8, r.lastFour)
          .bindInt(9, r.createdAt)
          .bindInt(10, r.expiresAt)
          .bindText(11, r.permittedIp)
          .bindText(12, r.permittedReferer)
          .bindOptionalText(13, r.applicationId)
          .bindText(14, r.tier)
          .bindInt(15, r.shared ? 1 : 0)
          .run();
      return {Failure::kNone, std::move(r)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "createOpaqueKey"), {}};
  }
}

StoreResult<OpaqueKeyRecord> OpaqueKeyStore::get(std::string_view id) const {
  try {
    return db_.read([&](const Database::Session& s) -> StoreResult<OpaqueKeyRecord> {
      std::optional<OpaqueKeyRecord> r = selectOne(s, "WHERE id = ?1", id, false);
      if (!r) return {Failure::kNotFound, {}};
      return {Failure::kNone, std::move(*r)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "getOpaqueKey"), {}};
  }
}

StoreResult<OpaqueKeyRecord> OpaqueKeyStore::findByValue(std::string_view keyValue,
                                                         int64_t now) const {
  std::string hash = hasher_.hash(keyValue);
  try {
    return db_.read([&](const Database::Session& s) -> StoreResult<OpaqueKeyRecord> {
      std::optional<OpaqueKeyRecord> r = selectOne(s, "WHERE key_hash = ?1", hash, true);
      if (!r && now > 0) {
        Statement stmt =
            s.prepare(std::string(kSelectKey) + "WHERE previous_hash = ?1 AND previous_until > ?2");
        stmt.bindBlob(1, hash).bindInt(2, now);
        if (stmt.step()) r = readKey(stmt);
      }
      if (!r) return {Failure::kNotFound, {}};
      return {Failure::kNone, std::move(*r)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "findOpaqueKey"), {}};
  }
}

namespace {
StoreResult<std::vector<OpaqueKeyRecord>> listWhere(Database& db, std::string_view clause,
                                                    std::optional<std::string_view> owner,
                                                    const char* operation) {
  try {
    return {Failure::kNone, db.read([&](const Database::Session& s) {
              std::vector<OpaqueKeyRecord> out;
              Statement stmt = s.prepare(std::string(kSelectKey) + std::string(clause));
              if (owner) stmt.bindText(1, *owner);
              while (stmt.step()) out.push_back(readKey(stmt));
              return out;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, operation), {}};
  }
}
}  // namespace

StoreResult<std::vector<OpaqueKeyRecord>> OpaqueKeyStore::listByOwner(
    std::string_view owner) const {
  return listWhere(db_, "WHERE owner = ?1 ORDER BY created_at, id", owner, "listOpaqueKeys");
}

StoreResult<std::vector<OpaqueKeyRecord>> OpaqueKeyStore::listAll() const {
  return listWhere(db_, "ORDER BY owner, created_at, id", std::nullopt, "listOpaqueKeys");
}

StoreResult<std::vector<OpaqueKeyRecord>> OpaqueKeyStore::loadAll() const {
  return listWhere(db_, "", std::nullopt, "loadOpaqueKeys");
}

StoreResult<OpaqueKeyRecord> OpaqueKeyStore::regenerate(std::string_view id,
                                                        std::string_view newKeyValue, int64_t now,
                                                        int64_t graceSeconds) {
  if (validateCustomKeyValue(newKeyValue)) return {Failure::kBadRequestBody, {}};
  std::string hash = hasher_.hash(newKeyValue);
  std::string lastFour = lastFourOf(newKeyValue);
  try {
    return db_.write([&](const Database::Session& s) -> StoreResult<OpaqueKeyRecord> {
      std::optional<OpaqueKeyRecord> r = selectOne(s, "WHERE id = ?1", id, false);
      if (!r) return {Failure::kNotFound, {}};
      if (r->revoked) return {Failure::kConflict, {}};
      // A value still in another key's grace period is taken, as a current one is.
      Statement taken = s.prepare("SELECT 1 FROM opaque_keys WHERE previous_hash = ?1");
      taken.bindBlob(1, hash);
      if (taken.step()) return {Failure::kConflict, {}};
      // One UPDATE, one transaction: the old hash stops matching exactly when the new one starts,
      // or, with a grace period, when the grace period ends.
      const bool grace = graceSeconds > 0;
      s.prepare(
           "UPDATE opaque_keys SET previous_hash = CASE WHEN ?4 THEN key_hash ELSE NULL END,"
           " previous_until = ?5, replaced_at = ?6, key_hash = ?1, last_four = ?2 WHERE id = ?3")
          .bindBlob(1, hash)
          .bindText(2, lastFour)
          .bindText(3, id)
          .bindInt(4, grace ? 1 : 0)
          .bindInt(5, grace ? now + graceSeconds : 0)
          .bindInt(6, now)
          .run();
      r->previousHash = grace ? r->keyHash : std::string();
      r->previousUntil = grace ? now + graceSeconds : 0;
      r->replacedAt = now;
      r->keyHash = hash;
      r->lastFour = lastFour;
      return {Failure::kNone, std::move(*r)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "regenerateOpaqueKey"), {}};
  }
}

Failure OpaqueKeyStore::revoke(std::string_view id, int64_t now) {
  try {
    return db_.write([&](const Database::Session& s) {
      s.prepare("UPDATE opaque_keys SET revoked = 1, revoked_at = ?1 WHERE id = ?2 AND revoked = 0")
          .bindInt(1, now)
          .bindText(2, id)
          .run();
      if (s.changes() > 0) return Failure::kNone;
      Statement exists = s.prepare("SELECT 1 FROM opaque_keys WHERE id = ?1");
      exists.bindText(1, id);
      return exists.step() ? Failure::kNone : Failure::kNotFound;
    });
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "revokeOpaqueKey");
  }
}

Failure OpaqueKeyStore::associateApplication(std::string_view id, std::string_view applicationId) {
  try {
    return db_.write([&](const Database::Session& s) {
      Statement key = s.prepare("SELECT revoked FROM opaque_keys WHERE id = ?1");
      key.bindText(1, id);
      if (!key.step()) return Failure::kNotFound;
      if (key.columnInt(0) != 0) return Failure::kConflict;
      // An unknown application fails the foreign key -> kNotFound.
      s.prepare("UPDATE opaque_keys SET application_id = ?1 WHERE id = ?2")
          .bindText(1, applicationId)
          .bindText(2, id)
          .run();
      return Failure::kNone;
    });
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "associateApplication");
  }
}

Failure OpaqueKeyStore::dissociateApplication(std::string_view id) {
  try {
    return db_.write([&](const Database::Session& s) {
      s.prepare("UPDATE opaque_keys SET application_id = NULL WHERE id = ?1").bindText(1, id).run();
      return s.changes() == 0 ? Failure::kNotFound : Failure::kNone;
    });
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "dissociateApplication");
  }
}

StoreResult<std::size_t> OpaqueKeyStore::recordUse(const std::vector<KeyUse>& uses) {
  if (uses.empty()) return {Failure::kNone, 0};
  try {
    return {Failure::kNone, db_.write([&](const Database::Session& s) {
              std::size_t written = 0;
              for (const KeyUse& u : uses) {
                s.prepare("UPDATE opaque_keys SET last_used = ?2 WHERE id = ?1 AND last_used < ?2")
                    .bindText(1, u.id)
                    .bindInt(2, u.at)
                    .run();
                written += static_cast<std::size_t>(s.changes());
                s.prepare(
                     "UPDATE applications SET last_used = ?2 WHERE last_used < ?2 AND id ="
                     " (SELECT application_id FROM opaque_keys WHERE id = ?1)")
                    .bindText(1, u.id)
                    .bindInt(2, u.at)
                    .run();
              }
              return written;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "recordKeyUse"), 0};
  }
}

StoreResult<std::size_t> OpaqueKeyStore::recordJtiUse(const std::vector<JtiUse>& uses) {
  if (uses.empty()) return {Failure::kNone, 0};
  try {
    return {Failure::kNone, db_.write([&](const Database::Session& s) {
              std::size_t written = 0;
              for (const JtiUse& u : uses) {
                s.prepare(
                     "INSERT INTO signed_key_usage (jti, sub, last_used) VALUES (?1, ?2, ?3)"
                     " ON CONFLICT (jti) DO UPDATE SET last_used = excluded.last_used"
                     " WHERE signed_key_usage.last_used < excluded.last_used")
                    .bindText(1, u.jti)
                    .bindText(2, u.sub)
                    .bindInt(3, u.at)
                    .run();
                written += static_cast<std::size_t>(s.changes());
              }
              return written;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "recordJtiUse"), 0};
  }
}

StoreResult<std::vector<OpaqueKeyStore::JtiUse>> OpaqueKeyStore::listJtiUse() const {
  try {
    return {Failure::kNone, db_.read([&](const Database::Session& s) {
              std::vector<JtiUse> out;
              Statement stmt =
                  s.prepare("SELECT jti, sub, last_used FROM signed_key_usage ORDER BY jti");
              while (stmt.step())
                out.push_back({stmt.columnText(0), stmt.columnText(1), stmt.columnInt(2)});
              return out;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "listJtiUse"), {}};
  }
}

StoreResult<int64_t> OpaqueKeyStore::applicationLastUsed(std::string_view applicationId) const {
  try {
    return {Failure::kNone, db_.read([&](const Database::Session& s) -> int64_t {
              Statement stmt = s.prepare("SELECT last_used FROM applications WHERE id = ?1");
              stmt.bindText(1, applicationId);
              return stmt.step() ? stmt.columnInt(0) : 0;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "applicationLastUsed"), 0};
  }
}

}  // namespace mgw::store
