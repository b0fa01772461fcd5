// The throttling counters shared by every node (SPEC section 14): the GCRA of
// throttle/counter_store.h as one Lua script in Redis (EVALSHA: read every counter, decide, write
// all or none, in one round trip per request, atomically across nodes, on Redis's clock).
// A thread of its own holds the connection and pipelines whatever requests are waiting, so an I/O
// thread only queues a request and is resumed by `done`. Redis unreachable, slow beyond
// ioTimeout, or erroring: the request is charged in a local store with each limit divided by the
// last known node count (the limits then hold approximately across the nodes), logged on each
// change of state, counted for the metrics; the thread reconnects and Redis takes over again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/redis_url.h"
#include "throttle/counter_store.h"
#include "throttle/local_counter_store.h"

namespace mgw::cluster {

class RedisConnection;

class RedisCounterStore final : public throttle::CounterStore {
 public:
  struct Options {
    RedisUrl url;
    std::string password;
    std::chrono::milliseconds ioTimeout{500};
    std::size_t maxQueued = 100000;  // beyond: charged locally at once
    std::string keyPrefix = "mgw:t:";
  };
  // nodes: the last known number of live nodes (ClusterNode::lastKnownNodes), read at each
  // fallback charge.
  RedisCounterStore(Options options, std::function<std::int64_t()> nodes);
  ~RedisCounterStore() override;  // stop()
  RedisCounterStore(const RedisCounterStore&) = delete;
  RedisCounterStore& operator=(const RedisCounterStore&) = delete;

  void start();
  void stop();

  void charge(std::vector<throttle::Hit> hits, Done done) override;

  bool redisUp() const { return up_.load(); }
  std::uint64_t sharedCharges() const { return sharedCharges_.load(); }
  std::uint64_t localCharges() const { return localCharges_.load(); }

  // The Lua script (for tests and the docs).
  static const char* script();

 private:
  struct Pending {
    std::vector<throttle::Hit> hits;
    Done done;
  };
  void loop();
  void chargeLocally(std::vector<throttle::Hit> hits, const Done& done);
  void setUp(bool up, const std::string& reason);
  std::vector<std::string> evalArgs(const std::vector<throttle::Hit>& hits) const;

  Options options_;
  std::function<std::int64_t()> nodes_;
  throttle::LocalCounterStore fallback_;
  std::string sha_;  // loop thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Pending> queue_;

  std::atomic<bool> up_{false};
  std::atomic<bool> everUp_{false};
  std::atomic<std::uint64_t> sharedCharges_{0}, localCharges_{0};
  std::thread thread_;
};

// Parses the script's answer {allowed, refusedIndex, remaining, resetMicros, overQuota} into a
// Verdict; nullopt when it has another shape. For the store and its unit test.
struct ScriptAnswer {
  long long allowed = 1, refused = 0, remaining = 0, resetMicros = 0, overQuota = 0;
};
throttle::Verdict verdictOf(const ScriptAnswer& answer);

}  // namespace mgw::cluster
