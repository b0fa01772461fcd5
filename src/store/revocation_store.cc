#include "store/revocation_store.h"

namespace mgw::store {

Failure RevocationStore::revokeJti(std::string_view jti, std::string_view sub, int64_t expiresAt,
                                   std::string_view revokedBy, int64_t now) {
  try {
    db_.write([&](const Database::Session& s) {
      // "Never" (0) wins over any expiry; otherwise the later expiry wins, so a repeated revocation
      // can only keep the row longer, never drop it early.
      s.prepare(R"sql(
          INSERT INTO revoked_jtis (jti, sub, expires_at, revoked_by, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5)
          ON CONFLICT (jti) DO UPDATE SET expires_at =
            CASE WHEN revoked_jtis.expires_at = 0 OR excluded.expires_at = 0 THEN 0
                 ELSE max(revoked_jtis.expires_at, excluded.expires_at) END)sql")
          .bindText(1, jti)
          .bindText(2, sub)
          .bindInt(3, expiresAt < 0 ? 0 : expiresAt)
          .bindText(4, revokedBy)
          .bindInt(5, now)
          .run();
    });
    return Failure::kNone;
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "revokeJti");
  }
}

Failure RevocationStore::revokeSubjectBefore(std::string_view sub, int64_t issuedBefore,
                                             std::string_view revokedBy, int64_t now) {
  try {
    db_.write([&](const Database::Session& s) {
      s.prepare(R"sql(
          INSERT INTO subject_watermarks (sub, issued_before, revoked_by, revoked_at) VALUES (?1, ?2, ?3, ?4)
          ON CONFLICT (sub) DO UPDATE SET issued_before = excluded.issued_before,
                                          revoked_by = excluded.revoked_by,
                                          revoked_at = excluded.revoked_at
            WHERE excluded.issued_before > subject_watermarks.issued_before)sql")
          .bindText(1, sub)
          .bindInt(2, issuedBefore)
          .bindText(3, revokedBy)
          .bindInt(4, now)
          .run();
    });
    return Failure::kNone;
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "revokeSubjectBefore");
  }
}

StoreResult<RevocationSnapshot> RevocationStore::loadAll() const {
  try {
    return {Failure::kNone, db_.read([](const Database::Session& s) {
              RevocationSnapshot snapshot;
              Statement jtis = s.prepare("SELECT jti FROM revoked_jtis");
              while (jtis.step()) snapshot.jtis.insert(jtis.columnText(0));
              Statement marks = s.prepare("SELECT sub, issued_before FROM subject_watermarks");
              while (marks.step())
                snapshot.subjectIssuedBefore[marks.columnText(0)] = marks.columnInt(1);
              return snapshot;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "loadRevocations"), {}};
  }
}

StoreResult<int64_t> RevocationStore::purgeExpired(int64_t now) {
  try {
    return {Failure::kNone, db_.write([&](const Database::Session& s) {
              s.prepare("DELETE FROM revoked_jtis WHERE expires_at != 0 AND expires_at < ?1")
                  .bindInt(1, now)
                  .run();
              return s.changes();
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "purgeExpiredRevocations"), 0};
  }
}

}  // namespace mgw::store
