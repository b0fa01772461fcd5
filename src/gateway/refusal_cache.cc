#include "gateway/refusal_cache.h"

#include <algorithm>

#include "common/crypto_util.h"

namespace mgw::gateway {

RefusalCache::RefusalCache(std::size_t capacity, std::int64_t ttlSeconds) : ttl_(ttlSeconds) {
  if (capacity == 0 || ttlSeconds <= 0) return;
  const std::size_t shards = std::clamp<std::size_t>(capacity / 64, 1, 16);
  for (std::size_t i = 0; i < shards; ++i) {
    auto s = std::make_unique<Shard>();
    s->capacity = std::max<std::size_t>(1, capacity / shards);
    shards_.push_back(std::move(s));
  }
}

bool RefusalCache::cacheable(Failure failure) {
  return failure == Failure::kKeyTooLarge || failure == Failure::kMalformedKey ||
         failure == Failure::kUnknownKey || failure == Failure::kAlgorithmMismatch ||
         failure == Failure::kBadSignature || failure == Failure::kWrongIssuer;
}

std::optional<CachedRefusal> RefusalCache::get(std::string_view apiKey, std::int64_t now) {
  if (shards_.empty()) return std::nullopt;
  const std::string hash = sha256(apiKey);
  Shard& s = shardFor(hash);
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.index.find(hash);
  if (it == s.index.end()) return std::nullopt;
  if (now >= it->second->deadline) {
    s.order.erase(it->second);
    s.index.erase(it);
    return std::nullopt;
  }
  return it->second->refusal;
}

void RefusalCache::put(std::string_view apiKey, CachedRefusal refusal, std::int64_t now) {
  if (shards_.empty() || !cacheable(refusal.failure)) return;
  std::string hash = sha256(apiKey);
  Shard& s = shardFor(hash);
  std::lock_guard<std::mutex> lock(s.mutex);
  if (auto it = s.index.find(hash); it != s.index.end()) {
    s.order.erase(it->second);
    s.index.erase(it);
  }
  while (s.order.size() >= s.capacity) {
    s.index.erase(s.order.back().hash);
    s.order.pop_back();
  }
  s.order.push_front(Entry{hash, std::move(refusal), now + ttl_});
  s.index.emplace(std::move(hash), s.order.begin());
}

std::size_t RefusalCache::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mutex);
    n += s->order.size();
  }
  return n;
}

}  // namespace mgw::gateway
