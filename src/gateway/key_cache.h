// A bounded LRU of verifyToken results (claims, with the issuer, and the key's restrictions
// compiled), keyed by SHA-256 of the key so the key itself is never held. It caches only
// signature/issuer/expiry verification: revocation, API, IP and referrer checks run on every
// request (against the compiled matchers), so a revocation takes effect without invalidation.
#pragma once

#include <atomic>
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

#include "common/crypto_util.h"
#include "common/key_restrictions.h"
#include "token/jws.h"

namespace mgw::gateway {

// A verified key: its claims and its permittedIP / permittedReferer compiled once. Immutable and
// shared: a cache hit copies a pointer, not the claims.
struct VerifiedKey : token::Claims {
  explicit VerifiedKey(const token::Claims& c)
      : token::Claims(c),
        restrictions(KeyRestrictions::compile(c.permittedIP, c.permittedReferer)) {}
  KeyRestrictions restrictions;
  // [apikey] trackLastUsed: the minute this key's use was last noted (issue 25), so that the
  // index is asked at most once a minute per cached key.
  mutable std::atomic<std::int64_t> lastUsedMinute{0};
};

class KeyCache {
 public:
  // capacity 0 or ttlSeconds <= 0 disables the cache. shards 0 picks one shard per 64 entries (up
  // to 16), so small caches are one exact LRU.
  KeyCache(std::size_t capacity, std::int64_t ttlSeconds, std::size_t shards = 0);

  // The claims put for this key, unless now is at or past the entry's deadline: put time + TTL, or
  // the key's exp, whichever is first. An entry past its deadline is dropped.
  std::shared_ptr<const VerifiedKey> get(std::string_view apiKey, std::int64_t now);
  // Compiles the claims' restrictions and keeps the result (when the cache is on and the key is
  // not already past exp); returns it either way.
  std::shared_ptr<const VerifiedKey> put(std::string_view apiKey, const token::Claims& claims,
                                         std::int64_t now);
  void clear();
  std::size_t size() const;
  bool enabled() const { return !shards_.empty(); }

 private:
  // The digest is uniformly distributed: its first bytes are as good a hash as any.
  struct DigestHash {
    std::size_t operator()(const Sha256Digest& d) const {
      std::size_t h = 0;
      for (std::size_t i = 0; i < sizeof h; ++i) h = (h << 8) | d[i + 1];
      return h;
    }
  };
  struct Entry {
    Sha256Digest hash;
    std::shared_ptr<const VerifiedKey> key;
    std::int64_t deadline;  // exclusive
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<Sha256Digest, std::list<Entry>::iterator, DigestHash> index;
    std::size_t capacity = 0;
  };
  Shard& shardFor(const Sha256Digest& hash);

  std::int64_t ttl_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace mgw::gateway
