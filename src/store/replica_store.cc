#include "store/replica_store.h"

namespace mgw::store {

Failure ReplicaStore::upsertKey(const OpaqueKeyRecord& r) {
  if (r.keyHash.size() != KeyHasher::kHashBytes || r.id.empty()) return Failure::kBadRequestBody;
  try {
    db_.write([&](const Database::Session& s) {
      Statement stmt = s.prepare(R"sql(
          INSERT INTO opaque_keys (id, name, owner, api_name, api_version, key_type, key_hash, last_four,
                                   created_at, expires_at, permitted_ip, permitted_referer, revoked,
                                   revoked_at, application_id, tier, previous_hash, previous_until,
                                   replaced_at, last_used, shared)
          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                  (SELECT id FROM applications WHERE id = ?15), ?16, ?17, ?18, ?19, ?20, ?21)
          ON CONFLICT (id) DO UPDATE SET
            previous_hash = CASE WHEN opaque_keys.revoked = 1 THEN opaque_keys.previous_hash
                                 ELSE excluded.previous_hash END,
            previous_until = CASE WHEN opaque_keys.revoked = 1 THEN opaque_keys.previous_until
                                  ELSE excluded.previous_until END,
            replaced_at = max(opaque_keys.replaced_at, excluded.replaced_at),
            last_used = max(opaque_keys.last_used, excluded.last_used),
            key_hash = CASE WHEN opaque_keys.revoked = 1 THEN opaque_keys.key_hash
                            ELSE excluded.key_hash END,
            last_four = CASE WHEN opaque_keys.revoked = 1 THEN opaque_keys.last_four
                             ELSE excluded.last_four END,
            expires_at = excluded.expires_at,
            permitted_ip = excluded.permitted_ip,
            permitted_referer = excluded.permitted_referer,
            application_id = excluded.application_id,
            tier = excluded.tier,
            revoked_at = CASE WHEN opaque_keys.revoked = 1 THEN opaque_keys.revoked_at
                              ELSE excluded.revoked_at END,
            revoked = max(opaque_keys.revoked, excluded.revoked))sql");
      stmt.bindText(1, r.id)
          .bindText(2, r.name)
          .bindText(3, r.owner)
          .bindText(4, r.apiName)
          .bindText(5, r.apiVersion)
          .bindText(6, keyTypeName(r.keyType))
          .bindBlob(7, r.keyHash)
          .bindText(8, r.lastFour)
          .bindInt(9, r.createdAt)
          .bindInt(10, r.expiresAt < 0 ? 0 : r.expiresAt)
          .bindText(11, r.permittedIp)
          .bindText(12, r.permittedReferer)
          .bindInt(13, r.revoked ? 1 : 0)
          .bindInt(14, r.revokedAt)
          .bindOptionalText(15, r.applicationId)
          .bindText(16, r.tier)
          .bindInt(18, r.previousUntil)
          .bindInt(19, r.replacedAt)
          .bindInt(20, r.lastUsed)
          .bindInt(21, r.shared ? 1 : 0);
      if (r.previousHash.size() == KeyHasher::kHashBytes)
        stmt.bindBlob(17, r.previousHash);
      else
        stmt.bindNull(17);
      stmt.run();
    });
    return Failure::kNone;
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "replicateOpaqueKey");
  }
}

Failure ReplicaStore::insertApplication(const ApplicationRecord& r) {
  try {
    db_.write([&](const Database::Session& s) {
      s.prepare(R"sql(
          INSERT INTO applications (id, name, owner, created_at, tier, key_mode)
          VALUES (?1, ?2, ?3, ?4, ?5, ?6)
          ON CONFLICT (id) DO UPDATE SET tier = excluded.tier,
            key_mode = CASE WHEN applications.key_mode = '' THEN excluded.key_mode
                            ELSE applications.key_mode END)sql")
          .bindText(1, r.id)
          .bindText(2, r.name)
          .bindText(3, r.owner)
          .bindInt(4, r.createdAt)
          .bindText(5, r.tier)
          .bindText(6, r.keyMode)
          .run();
    });
    return Failure::kNone;
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "replicateApplication");
  }
}

StoreResult<std::vector<RevokedJtiRow>> ReplicaStore::listRevokedJtis() const {
  try {
    return db_.read([&](const Database::Session& s) {
      std::vector<RevokedJtiRow> rows;
      Statement st =
          s.prepare("SELECT jti, sub, expires_at, revoked_by, revoked_at FROM revoked_jtis");
      while (st.step())
        rows.push_back({st.columnText(0), st.columnText(1), st.columnInt(2), st.columnText(3),
                        st.columnInt(4)});
      return StoreResult<std::vector<RevokedJtiRow>>{Failure::kNone, std::move(rows)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "listRevokedJtis"), {}};
  }
}

StoreResult<std::vector<WatermarkRow>> ReplicaStore::listWatermarks() const {
  try {
    return db_.read([&](const Database::Session& s) {
      std::vector<WatermarkRow> rows;
      Statement st =
          s.prepare("SELECT sub, issued_before, revoked_by, revoked_at FROM subject_watermarks");
      while (st.step())
        rows.push_back({st.columnText(0), st.columnInt(1), st.columnText(2), st.columnInt(3)});
      return StoreResult<std::vector<WatermarkRow>>{Failure::kNone, std::move(rows)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "listWatermarks"), {}};
  }
}

}  // namespace mgw::store
