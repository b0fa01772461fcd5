#include "store/opaque_key_index.h"

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
  auto shared = std::make_shared<const OpaqueKeyEntry>(std::move(entry));
  std::unique_lock lock(mutex_);
  auto old = hashById_.find(shared->id);
  if (old != hashById_.end() && old->second != keyHash) byHash_.erase(old->second);
  hashById_[shared->id] = keyHash;
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
  it->second = std::move(copy);
}

void OpaqueKeyIndex::removeApplication(const std::string& applicationId) {
  std::unique_lock lock(mutex_);
  applicationTiers_.erase(applicationId);
  const std::string prefix = applicationId + '\0';
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    if (it->compare(0, prefix.size(), prefix) == 0) {
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
                                     const std::string& apiVersion) {
  std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::unique_lock lock(mutex_);
  subscriptions_.insert(std::move(key));
}

void OpaqueKeyIndex::removeSubscription(const std::string& applicationId,
                                        const std::string& apiName, const std::string& apiVersion) {
  const std::string key = subscriptionKey(applicationId, apiName, apiVersion);
  std::unique_lock lock(mutex_);
  subscriptions_.erase(key);
}

void OpaqueKeyIndex::replaceAll(std::vector<std::pair<std::string, OpaqueKeyEntry>> keys,
                                const std::vector<Subscription>& subs,
                                std::unordered_map<std::string, std::string> applicationTiers) {
  std::unordered_map<std::string, std::shared_ptr<const OpaqueKeyEntry>> byHash;
  std::unordered_map<std::string, std::string> hashById;
  std::unordered_set<std::string> subscriptions;
  byHash.reserve(keys.size());
  hashById.reserve(keys.size());
  for (auto& [hash, entry] : keys) {
    hashById[entry.id] = hash;
    entry.restrictions = KeyRestrictions::compile(entry.permittedIp, entry.permittedReferer);
    byHash[hash] = std::make_shared<const OpaqueKeyEntry>(std::move(entry));
  }
  for (const Subscription& s : subs)
    subscriptions.insert(subscriptionKey(s.applicationId, s.apiName, s.apiVersion));
  std::unique_lock lock(mutex_);
  byHash_.swap(byHash);
  hashById_.swap(hashById);
  subscriptions_.swap(subscriptions);
  applicationTiers_.swap(applicationTiers);
}

std::size_t OpaqueKeyIndex::size() const {
  std::shared_lock lock(mutex_);
  return byHash_.size();
}

std::size_t OpaqueKeyIndex::subscriptionCount() const {
  std::shared_lock lock(mutex_);
  return subscriptions_.size();
}

}  // namespace mgw::store
