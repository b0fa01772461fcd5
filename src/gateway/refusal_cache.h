// A bounded negative cache: the verification refusals that depend only on the key's bytes and
// the trusted key set (malformed, unknown kid, pinned-algorithm mismatch, bad signature, wrong
// issuer, too large), keyed by SHA-256 of the key, so a flood of the same bad key costs a hash
// instead of a signature check. Time-dependent refusals (expired, not yet valid) and everything
// after verification (revocation, API, IP, referrer) are never cached: each keeps its own reason.
// Lives in the KeyValidator, so a reload (a new key set) starts it empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace mgw::gateway {

struct CachedRefusal {
  Failure failure = Failure::kNone;
  std::string reason;
  std::string description;
};

class RefusalCache {
 public:
  // capacity 0 disables it.
  RefusalCache(std::size_t capacity, std::int64_t ttlSeconds);

  // True for the failures that may be cached (see above).
  static bool cacheable(Failure failure);

  std::optional<CachedRefusal> get(std::string_view apiKey, std::int64_t now);
  void put(std::string_view apiKey, CachedRefusal refusal, std::int64_t now);
  std::size_t size() const;

 private:
  struct Entry {
    std::string hash;
    CachedRefusal refusal;
    std::int64_t deadline;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> order;  // front = newest; the oldest is evicted when full
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
    std::size_t capacity = 0;
  };
  Shard& shardFor(const std::string& hash) {
    return *shards_[static_cast<unsigned char>(hash[0]) % shards_.size()];
  }

  std::int64_t ttl_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace mgw::gateway
