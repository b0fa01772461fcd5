#include "store/opaque_key_index.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace mgw::store {

OpaqueKeyIndex::OpaqueKeyIndex(Hasher hasher) : hasher_(std::move(hasher)) {}

std::string OpaqueKeyIndex::subscriptionKey(std::string_view applicationId,
                                            std::string_view apiName, std::string_view apiVersion) {
  // NUL cannot occur in an id, an API name or a version read from a definition or the store, so the
  // joined key is unambiguous.
  std::string key;
  key.reserve(applicationId.size() + apiName.size() + apiVersion.size() + 2);
  key.append(applicationId).push_back('\0');
  key.append(apiName).push_back('\0');
  key.append(apiVersion);
  return key;
}

std::shared_ptr<const OpaqueKeyEntry> OpaqueKeyIndex::find(std::string_view keyValue) const {
  // Hash outside the lock: it is the expensive part.
  const std::string hash = hasher_(keyValue);
  std::shared_lock lock(mutex_);
  auto it = byHash_.find(hash);
  return it == byHash_.end() ? nullptr : it->second;
}

bool OpaqueKeyIndex::isSubscribed(std::string_view applicationId, std::string_view apiName,
                                  std::string_view apiVersion) const {
  const std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::shared_lock lock(mutex_);
  return subscriptions_.count(key) != 0;
}

OpaqueKeyIndex::PlanSubscription OpaqueKeyIndex::planSubscription(std::string_view applicationId,
                                                                  std::string_view apiName,
                                                                  std::string_view apiVersion,
                                                                  std::string_view plan,
                                                                  bool orDefault) const {
  const std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::shared_lock lock(mutex_);
  auto api = subscriptions_.find(key);
  if (api == subscriptions_.end()) return PlanSubscription::kNone;
  auto it = api->second.find(std::string(plan));
  if (it == api->second.end() && orDefault && !plan.empty()) it = api->second.find(std::string());
  if (it == api->second.end()) return PlanSubscription::kNone;
  return it->second ? PlanSubscription::kSharedKey : PlanSubscription::kOwnKey;
}

bool OpaqueKeyIndex::sharedKeyCovers(std::string_view applicationId, std::string_view apiName,
                                     std::string_view apiVersion) const {
  const std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::shared_lock lock(mutex_);
  auto api = subscriptions_.find(key);
  if (api == subscriptions_.end()) return false;
  for (const auto& [plan, sharedKey] : api->second)
    if (sharedKey) return true;
  return false;
}

std::string OpaqueKeyIndex::applicationTier(std::string_view applicationId) const {
  const std::string id(applicationId);
  std::shared_lock lock(mutex_);
  auto it = applicationTiers_.find(id);
  return it == applicationTiers_.end() ? std::string() : it->second;
}

void OpaqueKeyIndex::putApplication(const std::string& applicationId, const std::string& tier) {
  std::unique_lock lock(mutex_);
  applicationTiers_[applicationId] = tier;
}

void OpaqueKeyIndex::put(const std::string& keyHash, OpaqueKeyEntry entry) {
  entry.restrictions = KeyRestrictions::compile(entry.permittedIp, entry.permittedReferer);
  entry.isPreviousValue = false;
  std::unique_lock lock(mutex_);
  // The last use survives a replacement of the entry (a regenerate, a revocation).
  auto old = hashById_.find(entry.id);
  if (old != hashById_.end()) {
    auto it = byHash_.find(old->second);
    if (it != byHash_.end() && it->second->lastUsed) {
      const std::int64_t mine = entry.lastUsed ? entry.lastUsed->load() : 0;
      entry.lastUsed = it->second->lastUsed;
      std::int64_t seen = entry.lastUsed->load();
      while (seen < mine && !entry.lastUsed->compare_exchange_weak(seen, mine)) {
      }
    }
  }
  if (!entry.lastUsed) entry.lastUsed = std::make_shared<std::atomic<std::int64_t>>(0);
  putLocked(keyHash, std::make_shared<const OpaqueKeyEntry>(std::move(entry)));
}

void OpaqueKeyIndex::putLocked(const std::string& keyHash,
                               std::shared_ptr<const OpaqueKeyEntry> shared) {
  const std::string& id = shared->id;
  auto old = hashById_.find(id);
  if (old != hashById_.end() && old->second != keyHash) byHash_.erase(old->second);
  auto oldPrevious = previousHashById_.find(id);
  if (oldPrevious != previousHashById_.end()) {
    if (oldPrevious->second != keyHash) byHash_.erase(oldPrevious->second);
    previousHashById_.erase(oldPrevious);
  }
  hashById_[id] = keyHash;
  if (!shared->previousHash.empty() && shared->previousHash != keyHash) {
    auto previous = std::make_shared<OpaqueKeyEntry>(*shared);
    previous->isPreviousValue = true;
    previousHashById_[id] = shared->previousHash;
    byHash_[shared->previousHash] = std::move(previous);
  }
  byHash_[keyHash] = std::move(shared);
}

void OpaqueKeyIndex::markRevoked(const std::string& id) {
  std::unique_lock lock(mutex_);
  auto h = hashById_.find(id);
  if (h == hashById_.end()) return;
  auto it = byHash_.find(h->second);
  if (it == byHash_.end() || it->second->revoked) return;
  auto copy = std::make_shared<OpaqueKeyEntry>(*it->second);
  copy->revoked = true;
  const std::string hash = h->second;
  putLocked(hash, std::move(copy));  // the previous value, if any, is revoked with it
}

void OpaqueKeyIndex::noteUsed(const OpaqueKeyEntry& entry, std::int64_t now) const {
  if (!entry.lastUsed) return;
  const std::int64_t minute = now - now % 60;
  std::int64_t seen = entry.lastUsed->load(std::memory_order_relaxed);
  if (seen >= minute) return;
  if (!entry.lastUsed->compare_exchange_strong(seen, minute, std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(usesMutex_);
  keyUses_.push_back({entry.id, "", minute});
}

void OpaqueKeyIndex::noteJtiUsed(const std::string& jti, const std::string& sub,
                                 std::int64_t now) const {
  if (jti.empty()) return;
  const std::int64_t minute = now - now % 60;
  std::lock_guard<std::mutex> lock(usesMutex_);
  auto [it, fresh] = jtiSeen_.try_emplace(jti, minute);
  if (!fresh) {
    if (it->second >= minute) return;
    it->second = minute;
  }
  jtiUses_.push_back({jti, sub, minute});
}

OpaqueKeyIndex::Uses OpaqueKeyIndex::takeUses() const {
  Uses out;
  std::lock_guard<std::mutex> lock(usesMutex_);
  out.keys.swap(keyUses_);
  out.jtis.swap(jtiUses_);
  // Forget jtis not seen for an hour: the map stays as large as the keys in use.
  if (!out.jtis.empty() || jtiSeen_.size() > 100000) {
    std::int64_t newest = 0;
    for (const auto& [jti, at] : jtiSeen_) newest = std::max(newest, at);
    for (auto it = jtiSeen_.begin(); it != jtiSeen_.end();)
      it = it->second + 3600 < newest ? jtiSeen_.erase(it) : std::next(it);
  }
  return out;
}

void OpaqueKeyIndex::raiseLastUsed(const std::string& id, std::int64_t at) {
  std::shared_lock lock(mutex_);
  auto h = hashById_.find(id);
  if (h == hashById_.end()) return;
  auto it = byHash_.find(h->second);
  if (it == byHash_.end() || !it->second->lastUsed) return;
  std::int64_t seen = it->second->lastUsed->load();
  while (seen < at && !it->second->lastUsed->compare_exchange_weak(seen, at)) {
  }
}

std::size_t OpaqueKeyIndex::countExpiring(std::int64_t now, std::int64_t window) const {
  std::size_t n = 0;
  std::shared_lock lock(mutex_);
  for (const auto& [hash, entry] : byHash_)
    if (!entry->isPreviousValue && !entry->revoked && entry->expiresAt > now &&
        entry->expiresAt <= now + window)
      ++n;
  return n;
}

void OpaqueKeyIndex::removeApplication(const std::string& applicationId) {
  std::unique_lock lock(mutex_);
  applicationTiers_.erase(applicationId);
  const std::string prefix = applicationId + '\0';
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      it = subscriptions_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [hash, entry] : byHash_) {
    if (entry->applicationId && *entry->applicationId == applicationId) {
      auto copy = std::make_shared<OpaqueKeyEntry>(*entry);
      copy->applicationId.reset();
      entry = std::move(copy);
    }
  }
}

void OpaqueKeyIndex::addSubscription(const std::string& applicationId, const std::string& apiName,
                                     const std::string& apiVersion, const std::string& plan,
                                     bool sharedKey) {
  std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::unique_lock lock(mutex_);
  subscriptions_[std::move(key)][plan] = sharedKey;
}

void OpaqueKeyIndex::removeSubscription(const std::string& applicationId,
                                        const std::string& apiName, const std::string& apiVersion,
                                        const std::optional<std::string>& plan) {
  const std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::unique_lock lock(mutex_);
  auto api = subscriptions_.find(key);
  if (api == subscriptions_.end()) return;
  if (plan) api->second.erase(*plan);
  if (!plan || api->second.empty()) subscriptions_.erase(api);
}

void OpaqueKeyIndex::replaceAll(std::vector<std::pair<std::string, OpaqueKeyEntry>> keys,
                                const std::vector<Subscription>& subs,
                                std::unordered_map<std::string, std::string> applicationTiers) {
  std::unordered_map<std::string, std::shared_ptr<const OpaqueKeyEntry>> byHash;
  std::unordered_map<std::string, std::string> hashById;
  std::unordered_map<std::string, std::unordered_map<std::string, bool>> subscriptions;
  byHash.reserve(keys.size());
  hashById.reserve(keys.size());
  std::unordered_map<std::string, std::string> previousHashById;
  for (auto& [hash, entry] : keys) {
    hashById[entry.id] = hash;
    entry.restrictions = KeyRestrictions::compile(entry.permittedIp, entry.permittedReferer);
    if (!entry.lastUsed) entry.lastUsed = std::make_shared<std::atomic<std::int64_t>>(0);
    auto shared = std::make_shared<const OpaqueKeyEntry>(std::move(entry));
    if (!shared->previousHash.empty() && shared->previousHash != hash) {
      auto previous = std::make_shared<OpaqueKeyEntry>(*shared);
      previous->isPreviousValue = true;
      previousHashById[shared->id] = shared->previousHash;
      byHash[shared->previousHash] = std::move(previous);
    }
    byHash[hash] = std::move(shared);
  }
  for (const Subscription& s : subs)
    subscriptions[subscriptionKey(s.applicationId, s.apiName, s.apiVersion)][s.plan] = s.sharedKey;
  std::unique_lock lock(mutex_);
  byHash_.swap(byHash);
  hashById_.swap(hashById);
  previousHashById_.swap(previousHashById);
  subscriptions_.swap(subscriptions);
  applicationTiers_.swap(applicationTiers);
}

std::size_t OpaqueKeyIndex::size() const {
  std::shared_lock lock(mutex_);
  return hashById_.size();
}

std::size_t OpaqueKeyIndex::subscriptionCount() const {
  std::shared_lock lock(mutex_);
  std::size_t n = 0;
  for (const auto& [key, plans] : subscriptions_) n += plans.size();
  return n;
}

}  // namespace mgw::store
