// The in-process counter store: GCRA (see counter_store.h) over sharded hash maps, one mutex per
// shard, so the counting path takes no global lock. Charging several counters locks their shards
// in index order (no deadlock) and decides all of them before writing any (all or nothing).
// Exact under any concurrency: a decision and its write happen under the same shard locks.
// Memory: one entry per active counter (bytesPerCounter); a counter whose tat has passed is
// equal to an absent one and is erased by an incremental sweep that every charge advances by a
// few buckets of the shards it touched, so idle counters never accumulate.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "throttle/counter_store.h"

namespace mgw::throttle {

class LocalCounterStore final : public CounterStore {
 public:
  using Clock = std::function<std::int64_t()>;  // nanoseconds, monotonic
  static constexpr std::size_t kShards = 64;
  static constexpr std::size_t kMaxHits = 32;

  // clock: injected for tests; default std::chrono::steady_clock.
  explicit LocalCounterStore(Clock clock = {});
  ~LocalCounterStore() override;

  // Completes inline.
  void charge(std::vector<Hit> hits, Done done) override;
  // The same decision, returned (the gateway's fast path and the tests).
  Verdict chargeNow(const std::vector<Hit>& hits);
  Verdict chargeAt(const std::vector<Hit>& hits, std::int64_t nowNs);

  // Erases every expired counter now (the incremental sweep does this over time).
  void sweep();
  std::size_t size() const;  // counters held, expired or not yet swept
  // Approximate heap bytes one counter costs: the map node, the bucket slot and the key's
  // allocation when it does not fit the small-string buffer.
  static std::size_t bytesPerCounter(std::size_t keyLength);

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::int64_t> tat;  // key -> theoretical arrival time (ns)
    std::size_t sweepCursor = 0;                        // next bucket the sweep looks at
  };
  static std::size_t shardOf(const std::string& key);
  static void sweepSome(Shard& shard, std::int64_t nowNs, std::size_t buckets);

  Clock clock_;
  std::unique_ptr<std::array<Shard, kShards>> shards_;
};

}  // namespace mgw::throttle
