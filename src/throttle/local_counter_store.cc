#include "throttle/local_counter_store.h"

#include <algorithm>
#include <limits>

namespace mgw::throttle {

namespace {

constexpr std::size_t kSweepBucketsPerCharge = 4;

std::int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Gcra {
  std::int64_t interval;   // e, ns
  std::int64_t tolerance;  // tau = (limit - 1) * e, ns
};

Gcra gcraOf(const Hit& hit) {
  const std::int64_t limit = std::max<std::int64_t>(hit.limit, 1);
  const std::int64_t windowNs = std::max<std::int64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(hit.window).count(), 1);
  const std::int64_t interval = std::max<std::int64_t>((windowNs + limit - 1) / limit, 1);
  // Saturate: a huge count over a short window is as good as unlimited.
  const std::int64_t tolerance = (limit - 1) > std::numeric_limits<std::int64_t>::max() / interval
                                     ? std::numeric_limits<std::int64_t>::max() / 4
                                     : (limit - 1) * interval;
  return {interval, tolerance};
}

std::chrono::milliseconds ceilMs(std::int64_t ns) {
  return std::chrono::milliseconds(ns <= 0 ? 0 : (ns + 999999) / 1000000);
}

}  // namespace

LocalCounterStore::LocalCounterStore(Clock clock)
    : clock_(clock ? std::move(clock) : Clock(steadyNowNs)),
      shards_(std::make_unique<std::array<Shard, kShards>>()) {}

LocalCounterStore::~LocalCounterStore() = default;

std::size_t LocalCounterStore::shardOf(const std::string& key) {
  return std::hash<std::string>{}(key) % kShards;
}

void LocalCounterStore::charge(std::vector<Hit> hits, Done done) { done(chargeNow(hits)); }

Verdict LocalCounterStore::chargeNow(const std::vector<Hit>& hits) {
  if (hits.empty()) return {};
  return chargeAt(hits, clock_());
}

Verdict LocalCounterStore::chargeAt(const std::vector<Hit>& hits, std::int64_t now) {
  Verdict verdict;
  if (hits.empty()) return verdict;
  const std::size_t n = std::min(hits.size(), kMaxHits);

  // Lock the shards involved, in index order, each once.
  std::array<std::size_t, kMaxHits> shardIndex{};
  std::array<std::size_t, kMaxHits> order{};
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    shardIndex[i] = shardOf(hits[i].key);
    order[distinct++] = shardIndex[i];
  }
  std::sort(order.begin(), order.begin() + distinct);
  distinct = static_cast<std::size_t>(std::unique(order.begin(), order.begin() + distinct) -
                                      order.begin());
  auto& shards = *shards_;
  for (std::size_t k = 0; k < distinct; ++k) shards[order[k]].mutex.lock();

  // Decide every hit before writing any. Two hits on the same key (not expected) see the same
  // stored value; the later write wins, so at most one charge is lost, never an extra request.
  std::array<std::int64_t, kMaxHits> newTat{};
  std::array<bool, kMaxHits> fits{};
  std::int64_t tightestRemaining = std::numeric_limits<std::int64_t>::max();
  std::int64_t tightestResetNs = 0;
  std::int64_t refusedWaitNs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Gcra g = gcraOf(hits[i]);
    auto& map = shards[shardIndex[i]].tat;
    auto it = map.find(hits[i].key);
    const std::int64_t tat = std::max(it == map.end() ? now : it->second, now);
    fits[i] = tat - now <= g.tolerance;
    if (fits[i]) {
      newTat[i] = tat + g.interval;
      // Requests that still fit after this one: (now + tau - newTat) / e + 1, never negative.
      const std::int64_t remaining = (now + g.tolerance + g.interval - newTat[i]) / g.interval;
      if (remaining < tightestRemaining) {
        tightestRemaining = remaining;
        tightestResetNs = newTat[i] - now;
      }
    } else if (hits[i].enforce) {
      if (verdict.allowed) verdict.refused = i;
      verdict.allowed = false;
      refusedWaitNs = std::max(refusedWaitNs, tat - now - g.tolerance);
    } else {
      verdict.overQuota |= (std::uint32_t{1} << i);
      if (0 < tightestRemaining) {
        tightestRemaining = 0;
        tightestResetNs = tat - now - g.tolerance;
      }
    }
  }

  if (verdict.allowed) {
    for (std::size_t i = 0; i < n; ++i) {
      if (fits[i]) shards[shardIndex[i]].tat[hits[i].key] = newTat[i];
    }
    verdict.remaining =
        tightestRemaining == std::numeric_limits<std::int64_t>::max() ? 0 : tightestRemaining;
    verdict.reset = ceilMs(tightestResetNs);
  } else {
    verdict.remaining = 0;
    verdict.reset = ceilMs(refusedWaitNs);
  }
  for (std::size_t k = 0; k < distinct; ++k) {
    sweepSome(shards[order[k]], now, kSweepBucketsPerCharge);
    shards[order[k]].mutex.unlock();
  }
  // And a few buckets of one more shard, in turn (a per-thread cursor: nothing shared), skipped
  // when busy: idle counters expire even in shards no current request touches.
  thread_local std::size_t rotation = 0;
  Shard& other = shards[rotation++ % kShards];
  if (other.mutex.try_lock()) {
    sweepSome(other, now, kSweepBucketsPerCharge);
    other.mutex.unlock();
  }
  return verdict;
}

void LocalCounterStore::sweepSome(Shard& shard, std::int64_t now, std::size_t buckets) {
  auto& map = shard.tat;
  const std::size_t count = map.bucket_count();
  if (map.empty() || count == 0) return;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t bucket = shard.sweepCursor++ % count;
    // Collect first: erasing invalidates the bucket's local iterators.
    std::array<const std::string*, 8> expired{};
    std::size_t found = 0;
    for (auto it = map.begin(bucket); it != map.end(bucket) && found < expired.size(); ++it) {
      if (it->second <= now) expired[found++] = &it->first;
    }
    for (std::size_t k = 0; k < found; ++k) map.erase(*expired[k]);
  }
}

void LocalCounterStore::sweep() {
  const std::int64_t now = clock_();
  for (auto& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    std::erase_if(shard.tat, [now](const auto& entry) { return entry.second <= now; });
  }
}

std::size_t LocalCounterStore::size() const {
  std::size_t total = 0;
  for (auto& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.tat.size();
  }
  return total;
}

std::size_t LocalCounterStore::bytesPerCounter(std::size_t keyLength) {
  // libstdc++: a node holds the next pointer, the pair and the cached hash; one bucket pointer
  // per element at load factor 1; the key's heap block past the 15-byte small-string buffer.
  constexpr std::size_t kNode =
      sizeof(void*) + sizeof(std::pair<const std::string, std::int64_t>) + sizeof(std::size_t);
  const std::size_t keyHeap = keyLength > 15 ? keyLength + 1 : 0;
  return kNode + sizeof(void*) + keyHeap;
}

}  // namespace mgw::throttle
