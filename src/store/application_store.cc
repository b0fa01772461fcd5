#include "store/application_store.h"

#include "common/crypto_util.h"

namespace mgw::store {
namespace {

constexpr const char* kApplicationColumns =
    "SELECT id, name, owner, created_at, tier, key_mode FROM applications ";
constexpr const char* kSubscriptionColumns =
    "SELECT application_id, api_name, api_version, created_at, plan, shared_key FROM "
    "subscriptions ";

ApplicationRecord readApplication(const Statement& stmt) {
  return {stmt.columnText(0), stmt.columnText(1), stmt.columnText(2),
          stmt.columnInt(3),  stmt.columnText(4), stmt.columnText(5)};
}

SubscriptionRecord readSubscription(const Statement& stmt) {
  return {stmt.columnText(0), stmt.columnText(1), stmt.columnText(2),
          stmt.columnInt(3),  stmt.columnText(4), stmt.columnInt(5) != 0};
}

}  // namespace

StoreResult<ApplicationRecord> ApplicationStore::create(std::string_view name,
                                                        std::string_view owner, int64_t now,
                                                        std::string_view tier,
                                                        std::string_view keyMode) {
  ApplicationRecord record{uuidV4(), std::string(name), std::string(owner),
                           now,      std::string(tier), std::string(keyMode)};
  try {
    db_.write([&](const Database::Session& s) {
      s.prepare(
           "INSERT INTO applications (id, name, owner, created_at, tier, key_mode) VALUES (?1, ?2, "
           "?3, ?4, ?5, ?6)")
          .bindText(1, record.id)
          .bindText(2, record.name)
          .bindText(3, record.owner)
          .bindInt(4, record.createdAt)
          .bindText(5, record.tier)
          .bindText(6, record.keyMode)
          .run();
    });
    return {Failure::kNone, std::move(record)};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "createApplication"), {}};
  }
}

StoreResult<ApplicationRecord> ApplicationStore::get(std::string_view id) const {
  try {
    return db_.read([&](const Database::Session& s) -> StoreResult<ApplicationRecord> {
      Statement stmt = s.prepare(std::string(kApplicationColumns) + "WHERE id = ?1");
      stmt.bindText(1, id);
      if (!stmt.step()) return {Failure::kNotFound, {}};
      return {Failure::kNone, readApplication(stmt)};
    });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "getApplication"), {}};
  }
}

StoreResult<std::vector<ApplicationRecord>> ApplicationStore::listByOwner(
    std::string_view owner) const {
  try {
    return {Failure::kNone, db_.read([&](const Database::Session& s) {
              std::vector<ApplicationRecord> out;
              Statement stmt = s.prepare(std::string(kApplicationColumns) +
                                         "WHERE owner = ?1 ORDER BY created_at, id");
              stmt.bindText(1, owner);
              while (stmt.step()) out.push_back(readApplication(stmt));
              return out;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "listApplications"), {}};
  }
}

StoreResult<std::vector<ApplicationRecord>> ApplicationStore::listAll() const {
  try {
    return {Failure::kNone, db_.read([&](const Database::Session& s) {
              std::vector<ApplicationRecord> out;
              Statement stmt =
                  s.prepare(std::string(kApplicationColumns) + "ORDER BY owner, created_at, id");
              while (stmt.step()) out.push_back(readApplication(stmt));
              return out;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "listApplications"), {}};
  }
}

Failure ApplicationStore::remove(std::string_view id) {
  try {
    return db_.write([&](const Database::Session& s) {
      // The foreign keys do the rest in the same transaction: subscriptions ON DELETE CASCADE,
      // opaque_keys.application_id ON DELETE SET NULL.
      s.prepare("DELETE FROM applications WHERE id = ?1").bindText(1, id).run();
      return s.changes() == 0 ? Failure::kNotFound : Failure::kNone;
    });
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "deleteApplication");
  }
}

Failure ApplicationStore::subscribe(std::string_view applicationId, std::string_view apiName,
                                    std::string_view apiVersion, int64_t now, std::string_view plan,
                                    bool sharedKey, std::string_view setKeyMode) {
  try {
    db_.write([&](const Database::Session& s) {
      // An unknown application fails the foreign key -> kNotFound; a repeat fails the key ->
      // kConflict.
      s.prepare(
           "INSERT INTO subscriptions (application_id, api_name, api_version, created_at, plan, "
           "shared_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
          .bindText(1, applicationId)
          .bindText(2, apiName)
          .bindText(3, apiVersion)
          .bindInt(4, now)
          .bindText(5, plan)
          .bindInt(6, sharedKey ? 1 : 0)
          .run();
      if (!setKeyMode.empty()) {
        s.prepare("UPDATE applications SET key_mode = ?2 WHERE id = ?1 AND key_mode = ''")
            .bindText(1, applicationId)
            .bindText(2, setKeyMode)
            .run();
        // Gravitee's second-subscription choice: the shared key serves the subscriptions made
        // before it too (at most one, to another API: the caller refuses the rest).
        if (s.changes() == 1 && setKeyMode == kShared)
          s.prepare("UPDATE subscriptions SET shared_key = 1 WHERE application_id = ?1")
              .bindText(1, applicationId)
              .run();
      }
    });
    return Failure::kNone;
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "subscribe");
  }
}

Failure ApplicationStore::unsubscribe(std::string_view applicationId, std::string_view apiName,
                                      std::string_view apiVersion,
                                      const std::optional<std::string>& plan) {
  try {
    return db_.write([&](const Database::Session& s) {
      s.prepare(
           "DELETE FROM subscriptions WHERE application_id = ?1 AND api_name = ?2 AND api_version "
           "= ?3 AND (?4 IS NULL OR plan = ?4)")
          .bindText(1, applicationId)
          .bindText(2, apiName)
          .bindText(3, apiVersion)
          .bindOptionalText(4, plan)
          .run();
      return s.changes() == 0 ? Failure::kNotFound : Failure::kNone;
    });
  } catch (const StoreError& e) {
    return failureFromStoreError(e, "unsubscribe");
  }
}

StoreResult<bool> ApplicationStore::isSubscribed(std::string_view applicationId,
                                                 std::string_view apiName,
                                                 std::string_view apiVersion) const {
  try {
    return {Failure::kNone, db_.read([&](const Database::Session& s) {
              Statement stmt = s.prepare(
                  "SELECT 1 FROM subscriptions WHERE application_id = ?1 AND api_name = ?2 AND "
                  "api_version = ?3");
              stmt.bindText(1, applicationId).bindText(2, apiName).bindText(3, apiVersion);
              return stmt.step();
            })};
  } catch (const StoreError& e) {
    // Fails closed: ok() is false and value is false.
    return {failureFromStoreError(e, "isSubscribed"), false};
  }
}

StoreResult<std::vector<SubscriptionRecord>> ApplicationStore::listSubscriptions(
    std::string_view applicationId) const {
  try {
    return db_.read(
        [&](const Database::Session& s) -> StoreResult<std::vector<SubscriptionRecord>> {
          Statement app = s.prepare("SELECT 1 FROM applications WHERE id = ?1");
          app.bindText(1, applicationId);
          if (!app.step()) return {Failure::kNotFound, {}};
          std::vector<SubscriptionRecord> out;
          Statement stmt =
              s.prepare(std::string(kSubscriptionColumns) +
                        "WHERE application_id = ?1 ORDER BY api_name, api_version, plan");
          stmt.bindText(1, applicationId);
          while (stmt.step()) out.push_back(readSubscription(stmt));
          return {Failure::kNone, std::move(out)};
        });
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "listSubscriptions"), {}};
  }
}

StoreResult<std::vector<SubscriptionRecord>> ApplicationStore::loadAllSubscriptions() const {
  try {
    return {Failure::kNone, db_.read([&](const Database::Session& s) {
              std::vector<SubscriptionRecord> out;
              Statement stmt = s.prepare(std::string(kSubscriptionColumns) +
                                         "ORDER BY application_id, api_name, api_version, plan");
              while (stmt.step()) out.push_back(readSubscription(stmt));
              return out;
            })};
  } catch (const StoreError& e) {
    return {failureFromStoreError(e, "loadSubscriptions"), {}};
  }
}

}  // namespace mgw::store
