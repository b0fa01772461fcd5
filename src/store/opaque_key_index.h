// The in-memory copy of the API-bound opaque keys and the application subscriptions that the
// gateway consults on every request (SPEC section 8). The server fills it from the embedded store
// at start and after every write; this module trusts its caller, knows nothing of SQLite, and never
// holds a key value: entries are found by the keyed hash of the presented value (the hasher is the
// store's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/key_restrictions.h"

namespace mgw::store {

struct OpaqueKeyEntry {
  std::string id;  // the store's UUID; logged as "opaque:<id>"
  std::string owner;
  std::string apiName;
  std::string apiVersion;
  bool sandbox = false;          // keyType SANDBOX
  std::int64_t expiresAt = 0;    // epoch seconds, 0 = never
  std::string permittedIp;       // "" = any
  std::string permittedReferer;  // "" = any
  // Both compiled once, by the index (put, replaceAll), not on every request.
  KeyRestrictions restrictions;
  std::optional<std::string> applicationId;
  bool revoked = false;  // kept so that a revoked value answers "revoked", not "unknown"
  std::string tier;      // subscription-level throttling policy (SPEC section 13); "" = Unlimited
};

class OpaqueKeyIndex {
 public:
  // Maps a presented key value to the hash the entries are stored under (the store's KeyHasher).
  using Hasher = std::function<std::string(std::string_view)>;

  explicit OpaqueKeyIndex(Hasher hasher);

  // The entry for a presented value, or null. Copies a pointer, not the entry: cheap under the
  // lock.
  [[nodiscard]] std::shared_ptr<const OpaqueKeyEntry> find(std::string_view keyValue) const;
  // True when applicationId is subscribed to name:version.
  [[nodiscard]] bool isSubscribed(std::string_view applicationId, std::string_view apiName,
                                  std::string_view apiVersion) const;
  // The application-level throttling policy of a micro-gw application (SPEC section 13); "" when
  // the application is not known here (it counts as Unlimited).
  [[nodiscard]] std::string applicationTier(std::string_view applicationId) const;
  // An application was created (or copied from another node) with this tier.
  void putApplication(const std::string& applicationId, const std::string& tier);

  // Inserts or replaces the entry with this id under keyHash; an entry of the same id under another
  // hash (the value before a regenerate) is dropped, so the old value stops matching at once.
  void put(const std::string& keyHash, OpaqueKeyEntry entry);
  // Marks the entry revoked (unknown ids are ignored).
  void markRevoked(const std::string& id);
  // An application is gone: its subscriptions and tier are dropped and its keys dissociated.
  void removeApplication(const std::string& applicationId);
  void addSubscription(const std::string& applicationId, const std::string& apiName,
                       const std::string& apiVersion);
  void removeSubscription(const std::string& applicationId, const std::string& apiName,
                          const std::string& apiVersion);
  // Replaces everything (the load at start).
  struct Subscription {
    std::string applicationId;
    std::string apiName;
    std::string apiVersion;
  };
  // applicationTiers: application id -> tier.
  void replaceAll(std::vector<std::pair<std::string, OpaqueKeyEntry>> keys,
                  const std::vector<Subscription>& subs,
                  std::unordered_map<std::string, std::string> applicationTiers = {});

  std::size_t size() const;  // keys, revoked ones included
  std::size_t subscriptionCount() const;

 private:
  static std::string subscriptionKey(std::string_view applicationId, std::string_view apiName,
                                     std::string_view apiVersion);

  Hasher hasher_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const OpaqueKeyEntry>> byHash_;
  std::unordered_map<std::string, std::string> hashById_;
  std::unordered_set<std::string> subscriptions_;  // subscriptionKey()
  std::unordered_map<std::string, std::string> applicationTiers_;
};

}  // namespace mgw::store
