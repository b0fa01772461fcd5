// The in-memory copy of the API-bound opaque keys and the application subscriptions that the
// gateway consults on every request (SPEC section 8). The server fills it from the embedded store
// at start and after every write; this module trusts its caller, knows nothing of SQLite, and never
// holds a key value: entries are found by the keyed hash of the presented value (the hasher is the
// store's).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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
  // Rotation with a grace period (issue 25): the keyed hash of the value before the last
  // regenerate ("" = none), accepted until previousUntil; replacedAt: when it was replaced.
  std::string previousHash;
  std::int64_t previousUntil = 0;
  std::int64_t replacedAt = 0;
  // True on the entry found by the previous value (the index makes it from the current one).
  bool isPreviousValue = false;
  // The application's shared key (issue 26, Gravitee's shared API key mode): bound to no API
  // (apiName and apiVersion are ""), valid on every API whose subscription it covers.
  bool shared = false;
  // The key's last use (epoch seconds, a whole minute), shared by every copy of the entry and kept
  // across put(): raised on the request path, written to the store in batches.
  std::shared_ptr<std::atomic<std::int64_t>> lastUsed;
};

// A key's or a signed key's use, as the index collects it for the batched writer.
struct UseRecord {
  std::string id;   // the opaque key's id, or the signed key's jti
  std::string sub;  // signed keys: the subject
  std::int64_t at = 0;
};

class OpaqueKeyIndex {
 public:
  // Maps a presented key value to the hash the entries are stored under (the store's KeyHasher).
  using Hasher = std::function<std::string(std::string_view)>;

  explicit OpaqueKeyIndex(Hasher hasher);

  // The entry for a presented value, or null. Copies a pointer, not the entry: cheap under the
  // lock.
  [[nodiscard]] std::shared_ptr<const OpaqueKeyEntry> find(std::string_view keyValue) const;
  // True when applicationId is subscribed to name:version (to any of its plans).
  [[nodiscard]] bool isSubscribed(std::string_view applicationId, std::string_view apiName,
                                  std::string_view apiVersion) const;
  // Issue 26: applicationId's subscription to one plan of name:version. orDefault: the plan is
  // the API's first, which a subscription stored without a plan ("", made before plans existed)
  // counts for. kNone: not subscribed; kOwnKey: subscribed, the application's per-subscription
  // keys serve it; kSharedKey: subscribed, and the application's shared key serves it too.
  enum class PlanSubscription { kNone, kOwnKey, kSharedKey };
  [[nodiscard]] PlanSubscription planSubscription(std::string_view applicationId,
                                                  std::string_view apiName,
                                                  std::string_view apiVersion,
                                                  std::string_view plan, bool orDefault) const;
  // True when one of applicationId's subscriptions to name:version is served by its shared key.
  [[nodiscard]] bool sharedKeyCovers(std::string_view applicationId, std::string_view apiName,
                                     std::string_view apiVersion) const;
  // The application-level throttling policy of a micro-gw application (SPEC section 13); "" when
  // the application is not known here (it counts as Unlimited).
  [[nodiscard]] std::string applicationTier(std::string_view applicationId) const;
  // An application was created (or copied from another node) with this tier.
  void putApplication(const std::string& applicationId, const std::string& tier);

  // Inserts or replaces the entry with this id under keyHash; an entry of the same id under another
  // hash (the value before a regenerate) is dropped, so the old value stops matching at once,
  // unless it is entry.previousHash: then it stays, as an entry marked isPreviousValue.
  void put(const std::string& keyHash, OpaqueKeyEntry entry);

  // Last use (issue 25). noteUsed raises the entry's lastUsed to the minute of now and, the first
  // time in that minute, queues the key for the store: at most one write per key per minute, and
  // one relaxed atomic load on every other request. noteJtiUsed does the same for a signed key's
  // jti ([apikey] trackLastUsed), under a lock. takeUses hands the queue over (and empties it).
  void noteUsed(const OpaqueKeyEntry& entry, std::int64_t now) const;
  void noteJtiUsed(const std::string& jti, const std::string& sub, std::int64_t now) const;
  struct Uses {
    std::vector<UseRecord> keys;
    std::vector<UseRecord> jtis;
  };
  Uses takeUses() const;
  // Raises a key's last use from another node or the store (never lowers it).
  void raiseLastUsed(const std::string& id, std::int64_t at);
  // Opaque keys neither revoked nor expired whose expiry falls in (now, now + window].
  std::size_t countExpiring(std::int64_t now, std::int64_t window) const;
  // Marks the entry revoked (unknown ids are ignored).
  void markRevoked(const std::string& id);
  // An application is gone: its subscriptions and tier are dropped and its keys dissociated.
  void removeApplication(const std::string& applicationId);
  // plan "": the API has no plans (or the subscription predates them). sharedKey: the
  // application's shared key serves this subscription.
  void addSubscription(const std::string& applicationId, const std::string& apiName,
                       const std::string& apiVersion, const std::string& plan = "",
                       bool sharedKey = false);
  // plan unset: every plan of name:version.
  void removeSubscription(const std::string& applicationId, const std::string& apiName,
                          const std::string& apiVersion,
                          const std::optional<std::string>& plan = std::nullopt);
  // Replaces everything (the load at start).
  struct Subscription {
    std::string applicationId;
    std::string apiName;
    std::string apiVersion;
    std::string plan;
    bool sharedKey = false;
  };
  // applicationTiers: application id -> tier.
  void replaceAll(std::vector<std::pair<std::string, OpaqueKeyEntry>> keys,
                  const std::vector<Subscription>& subs,
                  std::unordered_map<std::string, std::string> applicationTiers = {});

  std::size_t size() const;               // keys, revoked ones included
  std::size_t subscriptionCount() const;  // one per plan subscribed

 private:
  static std::string subscriptionKey(std::string_view applicationId, std::string_view apiName,
                                     std::string_view apiVersion);

  Hasher hasher_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const OpaqueKeyEntry>> byHash_;
  std::unordered_map<std::string, std::string> hashById_;
  std::unordered_map<std::string, std::string> previousHashById_;
  // Installs entry (and its previous-value copy) under the lock; drops the id's other hashes.
  void putLocked(const std::string& keyHash, std::shared_ptr<const OpaqueKeyEntry> entry);

  mutable std::mutex usesMutex_;
  mutable std::vector<UseRecord> keyUses_;
  mutable std::unordered_map<std::string, std::int64_t> jtiSeen_;  // jti -> minute noted
  mutable std::vector<UseRecord> jtiUses_;
  // subscriptionKey() -> plan -> served by the shared key. Two hash lookups per check, no store.
  std::unordered_map<std::string, std::unordered_map<std::string, bool>> subscriptions_;
  std::unordered_map<std::string, std::string> applicationTiers_;
};

}  // namespace mgw::store
