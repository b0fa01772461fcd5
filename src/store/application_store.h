// Applications (owned by a user) and their API subscriptions, which the gateway checks for opaque
// keys on APIs with subscriptionRequired. Ownership checks are the caller's: records carry owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace mgw::store {

struct ApplicationRecord {
  std::string id;  // UUID v4
  std::string name;
  std::string owner;
  int64_t createdAt = 0;
  std::string tier = "Unlimited";  // application-level throttling policy (schema version 4)
};

struct SubscriptionRecord {
  std::string applicationId;
  std::string apiName;
  std::string apiVersion;
  int64_t createdAt = 0;
};

class ApplicationStore {
 public:
  explicit ApplicationStore(Database& db) : db_(db) {}

  // kConflict when owner already has an application of that name. tier: an application-level
  // policy name, checked by the caller.
  [[nodiscard]] StoreResult<ApplicationRecord> create(std::string_view name, std::string_view owner,
                                                      int64_t now,
                                                      std::string_view tier = "Unlimited");
  [[nodiscard]] StoreResult<ApplicationRecord> get(std::string_view id) const;  // kNotFound
  [[nodiscard]] StoreResult<std::vector<ApplicationRecord>> listByOwner(
      std::string_view owner) const;
  [[nodiscard]] StoreResult<std::vector<ApplicationRecord>> listAll() const;  // for an admin
  // Deletes the application with its subscriptions and dissociates its keys (the keys stay valid).
  // kNotFound when there is no such application.
  [[nodiscard]] Failure remove(std::string_view id);

  // kNotFound: no such application; kConflict: already subscribed.
  [[nodiscard]] Failure subscribe(std::string_view applicationId, std::string_view apiName,
                                  std::string_view apiVersion, int64_t now);
  // kNotFound: no such subscription.
  [[nodiscard]] Failure unsubscribe(std::string_view applicationId, std::string_view apiName,
                                    std::string_view apiVersion);
  [[nodiscard]] StoreResult<bool> isSubscribed(std::string_view applicationId,
                                               std::string_view apiName,
                                               std::string_view apiVersion) const;
  [[nodiscard]] StoreResult<std::vector<SubscriptionRecord>> listSubscriptions(
      std::string_view applicationId) const;
  // Every subscription, for the gateway's in-memory index.
  [[nodiscard]] StoreResult<std::vector<SubscriptionRecord>> loadAllSubscriptions() const;

 private:
  Database& db_;
};

}  // namespace mgw::store
