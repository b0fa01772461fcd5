#include "gateway/key_cache.h"

#include <algorithm>

#include "common/crypto_util.h"

namespace mgw::gateway {

KeyCache::KeyCache(std::size_t capacity, std::int64_t ttlSeconds, std::size_t shards)
    : ttl_(ttlSeconds) {
  if (capacity == 0 || ttlSeconds <= 0) return;
  if (shards == 0) shards = std::clamp<std::size_t>(capacity / 64, 1, 16);
  shards = std::min(shards, capacity);
  for (std::size_t i = 0; i < shards; ++i) {
    auto s = std::make_unique<Shard>();
    // Spread the capacity so the total never exceeds it.
    s->capacity = capacity / shards + (i < capacity % shards ? 1 : 0);
    shards_.push_back(std::move(s));
  }
}

KeyCache::Shard& KeyCache::shardFor(const Sha256Digest& hash) {
  // The hash is uniformly distributed: its first byte is as good a shard index as any (the
  // index's hash takes the next eight).
  return *shards_[hash[0] % shards_.size()];
}

std::shared_ptr<const VerifiedKey> KeyCache::get(std::string_view apiKey, std::int64_t now) {
  if (shards_.empty()) return nullptr;
  const Sha256Digest hash = sha256Digest(apiKey);
  Shard& s = shardFor(hash);
  std::lock_guard lock(s.mutex);
  auto it = s.index.find(hash);
  if (it == s.index.end()) return nullptr;
  if (now >= it->second->deadline) {
    s.lru.erase(it->second);
    s.index.erase(it);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->key;
}

std::shared_ptr<const VerifiedKey> KeyCache::put(std::string_view apiKey,
                                                 const token::Claims& claims, std::int64_t now) {
  auto key = std::make_shared<const VerifiedKey>(claims);
  if (shards_.empty()) return key;
  std::int64_t deadline = now + ttl_;
  if (claims.exp) deadline = std::min(deadline, *claims.exp);
  // A retired signing key's end (issue 25): the cache never serves a key past it.
  if (claims.keyVerifiesUntil) deadline = std::min(deadline, *claims.keyVerifiesUntil + 1);
  if (deadline <= now) return key;  // already unusable: caching it could only serve it past exp
  const Sha256Digest hash = sha256Digest(apiKey);
  Shard& s = shardFor(hash);
  std::lock_guard lock(s.mutex);
  if (auto it = s.index.find(hash); it != s.index.end()) {
    it->second->key = key;
    it->second->deadline = deadline;
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return key;
  }
  s.lru.push_front(Entry{hash, key, deadline});
  s.index.emplace(hash, s.lru.begin());
  while (s.lru.size() > s.capacity) {
    s.index.erase(s.lru.back().hash);
    s.lru.pop_back();
  }
  return key;
}

void KeyCache::clear() {
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    s->lru.clear();
    s->index.clear();
  }
}

std::size_t KeyCache::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->lru.size();
  }
  return n;
}

}  // namespace mgw::gateway
