// Applications (owned by a user) and their API subscriptions, which the gateway checks for opaque
// keys on APIs with subscriptionRequired. Ownership checks are the caller's: records carry owner.
#pragma once

#include <cstdint>
#include <optional>
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
  // The API key mode (issue 26, schema version 6): "" = not chosen yet (keys are per
  // subscription), kPerSubscription or kShared; once chosen it never changes.
  std::string keyMode;
};

constexpr std::string_view kPerSubscription = "perSubscription";
constexpr std::string_view kShared = "shared";

struct SubscriptionRecord {
  std::string applicationId;
  std::string apiName;
  std::string apiVersion;
  int64_t createdAt = 0;
  std::string plan;        // "" = the API has no plans (or the row predates them)
  bool sharedKey = false;  // the application's shared key serves this subscription
};

class ApplicationStore {
 public:
  explicit ApplicationStore(Database& db) : db_(db) {}

  // kConflict when owner already has an application of that name. tier: an application-level
  // policy name, checked by the caller.
  [[nodiscard]] StoreResult<ApplicationRecord> create(std::string_view name, std::string_view owner,
                                                      int64_t now,
                                                      std::string_view tier = "Unlimited",
                                                      std::string_view keyMode = "");
  [[nodiscard]] StoreResult<ApplicationRecord> get(std::string_view id) const;  // kNotFound
  [[nodiscard]] StoreResult<std::vector<ApplicationRecord>> listByOwner(
      std::string_view owner) const;
  [[nodiscard]] StoreResult<std::vector<ApplicationRecord>> listAll() const;  // for an admin
  // Deletes the application with its subscriptions and dissociates its keys (the keys stay valid).
  // kNotFound when there is no such application.
  [[nodiscard]] Failure remove(std::string_view id);

  // kNotFound: no such application; kConflict: already subscribed to this plan. setKeyMode
  // non-empty: the application's key mode is set in the same transaction, if not chosen yet;
  // when that makes it shared, the application's earlier subscriptions are served by the shared
  // key too.
  [[nodiscard]] Failure subscribe(std::string_view applicationId, std::string_view apiName,
                                  std::string_view apiVersion, int64_t now,
                                  std::string_view plan = "", bool sharedKey = false,
                                  std::string_view setKeyMode = "");
  // kNotFound: no such subscription. plan unset: every plan of the API.
  [[nodiscard]] Failure unsubscribe(std::string_view applicationId, std::string_view apiName,
                                    std::string_view apiVersion,
                                    const std::optional<std::string>& plan = std::nullopt);
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
