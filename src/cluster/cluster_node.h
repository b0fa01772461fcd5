// Several micro-gw nodes as one gateway over Redis (SPEC section 14). Two threads of its own, each
// with one blocking hiredis connection, so no I/O thread ever waits on Redis:
// - the publisher appends this node's changes to the stream "mgw:changes" (XADD, pipelined), keeps
//   a heartbeat key "mgw:node:<id>" (TTL 3 s) and counts the live nodes;
// - the follower reads the stream from the last entry it applied (XREAD BLOCK: pushed, not
//   polled) and applies other nodes' changes to the local store and memory. Its offset is the
//   resynchronisation point after a disconnect; a node that starts reads the retained stream.
// Redis losing its data (a restart without persistence, FLUSHALL) shows as a new "mgw:epoch":
// every node then shares everything it holds again, so the nodes agree without a restart. So does
// a stream gap: the stream is trimmed (MAXLEN ~ streamMaxLen) and a node that was behind (or starts
// late) would miss changes it never read, a revocation among them; it sees the gap through XINFO
// STREAM (entries-added and recorded-first-entry-id, Redis >= 7.0) and starts a new stream and
// epoch.
// Redis unreachable: requests go on with what the node knows (nothing is forgotten); a change
// answers kClusterUnavailable (503) instead of succeeding on this node alone.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster/change_codec.h"
#include "common/redis_url.h"
#include "config/config.h"
#include "lifecycle/change.h"
#include "lifecycle/lifecycle_service.h"

struct redisReply;  // hiredis

namespace mgw::cluster {

class RedisConnection;

// What the node knows of the cluster, for /metrics and the logs.
struct ClusterStatus {
  bool enabled = false;
  bool connected = false;      // both connections up and the key hash check passed
  bool misconfigured = false;  // the key hash secret differs from the cluster's
  std::int64_t nodes = 0;      // live nodes at the last heartbeat (this one included); 0 = unknown
  std::uint64_t changesShared = 0;
  std::uint64_t changesApplied = 0;
  std::uint64_t changesRefused = 0;  // answered 503
  std::uint64_t applyFailures = 0;
  std::uint64_t resyncs = 0;  // the stream was read again from its start (new epoch)
  std::uint64_t gaps = 0;     // changes this node had not read were trimmed from the stream
  // Entries of other nodes dropped, by EntryRejection (index kNone unused).
  std::array<std::uint64_t, static_cast<std::size_t>(kLastEntryRejection) + 1> rejected{};
  std::size_t queued = 0;  // changes waiting to be shared
};

class ClusterNode final : public lifecycle::ChangeSink {
 public:
  struct Options {
    RedisUrl url;
    std::string password;
    // The stream entries' MAC key (EntryAuthenticator::kKeyBytes), derived from the key hash
    // secret every node shares (LifecycleService::clusterMacKey).
    std::string macKey;
    // How long a change waits for Redis to confirm it before answering 503.
    std::chrono::milliseconds shareTimeout{1000};
    // Socket timeout of each Redis call (the publisher's; the follower adds its block time).
    std::chrono::milliseconds ioTimeout{1000};
    // Changes that may wait on Redis at once: the rest answer 503 at once, so a slow Redis never
    // holds every worker (the STS and key management share the pool).
    int maxWaiting = 1;
    std::size_t maxQueued = 100000;
    std::size_t streamMaxLen = 100000;  // XADD MAXLEN ~: what a late node can still read
    // Stream gaps closer together than this start no new epoch (the shared state itself does
    // not fit in the stream: an error is logged instead, naming changeStreamLength).
    std::chrono::milliseconds minResetInterval{60000};
  };

  // Null (and *error) when config.redis is not a valid URL. Does not connect yet: start() does,
  // and keeps trying while Redis is down.
  static std::unique_ptr<ClusterNode> create(const config::ClusterConfig& config,
                                             std::shared_ptr<lifecycle::LifecycleService> lifecycle,
                                             int workerThreads, std::string* error);
  ClusterNode(Options options, std::shared_ptr<lifecycle::LifecycleService> lifecycle);
  ~ClusterNode() override;  // stop()
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // The STS signing key this node issues keys with (its kid and a fingerprint of its public key),
  // compared with the one Redis names (the first node's): a node with a key of its own issues keys
  // no other node accepts, and logs an error saying so. Set before start(); empty = not checked.
  void expectSigningKey(std::string kid, std::string fingerprint) {
    signingKid_ = std::move(kid);
    signingFingerprint_ = std::move(fingerprint);
  }

  void start();
  void stop();
  // Waits until the follower has read the stream to its end once (a starting node applies what it
  // missed before it serves), or timeout (Redis down: the node serves with what it knows).
  bool waitUntilCaughtUp(std::chrono::milliseconds timeout);

  // ChangeSink.
  [[nodiscard]] Failure admit() override;
  [[nodiscard]] Failure share(const lifecycle::Change& change) override;
  void release() override;

  ClusterStatus status() const;
  // Prometheus text (format 0.0.4) of status(), for the /metrics endpoint: mgw_cluster_up,
  // mgw_cluster_nodes, mgw_cluster_changes_*_total, mgw_cluster_queued_changes.
  std::string metricsText() const;
  // The last node count seen through the heartbeats (>= 1): what local limits are divided by
  // when Redis is unreachable.
  std::int64_t lastKnownNodes() const;
  const std::string& nodeId() const { return nodeId_; }
  // The shared throttling counters, reported in metricsText() (mgw_cluster_counters_up,
  // mgw_cluster_counter_charges_total{store="redis"|"local"}). Set once, before serving.
  void attachCounters(std::shared_ptr<class RedisCounterStore> counters) {
    counters_ = std::move(counters);
  }

 private:
  struct Pending {
    std::string payload;
    std::uint64_t seq = 0;                  // this node's sequence number, from 1
    std::string mac;                        // over node id, seq and payload
    std::shared_ptr<struct Ticket> ticket;  // null: nobody waits (a resynchronisation)
  };

  void publisherLoop();
  void followerLoop();
  // Waits up to d or until stop(); false when stopping.
  bool sleepFor(std::chrono::milliseconds d);
  void enqueue(std::string payload, std::shared_ptr<struct Ticket> ticket);
  void setPublisherUp(bool up, const std::string& reason);
  void setFollowerUp(bool up, const std::string& reason);
  void logTransition();
  bool checkKeyHash(RedisConnection& conn);
  void checkSigningKey(RedisConnection& conn);
  void heartbeat(RedisConnection& conn);
  // Reads the epoch, creating it when Redis has none; true when the follower must read the
  // stream from its start (and this node must share everything it holds).
  bool syncEpoch(RedisConnection& conn, bool* republish);
  // True when the stream lost entries after `position` (trimmed before this node read them).
  // Null on a Redis error.
  std::optional<bool> streamGap(RedisConnection& conn, const std::string& position);
  // After a gap: a new stream and a new epoch, so that every node shares its state again and
  // reads it from the start. False on a Redis error.
  bool resetStream(RedisConnection& conn);
  // Checks for a gap at the follower's position and, unless the last reset was under
  // minResetInterval ago (then an error is logged), resets the stream: true when it did, false
  // when the follower reads on, null on a Redis error.
  std::optional<bool> resetOnGap(RedisConnection& conn);
  // The follower's connection failed: marked down, dropped, and a pause before the next attempt.
  // False when stopping.
  bool dropConnection(std::unique_ptr<RedisConnection>& conn);
  void republish();
  // Applies the entries of an XREAD answer; advances lastId_.
  void applyEntries(const ::redisReply* reply);

  Options options_;
  std::shared_ptr<lifecycle::LifecycleService> lifecycle_;
  std::string nodeId_;

  // Free waiting slots (a mutex and a condition variable: GCC 12's std::counting_semaphore
  // try_acquire_for can miss a release, PR libstdc++/104928).
  std::mutex slotMutex_;
  std::condition_variable slotFreed_;
  int freeSlots_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<Pending> queue_;

  std::atomic<bool> publisherUp_{false};
  std::atomic<bool> followerUp_{false};
  std::atomic<bool> misconfigured_{false};
  bool caughtUp_ = false;  // under mutex_
  bool loggedUp_ = false;  // under mutex_
  bool loggedOnce_ = false;
  std::atomic<std::int64_t> nodes_{0};
  std::atomic<std::int64_t> lastKnownNodes_{1};
  std::atomic<std::uint64_t> shared_{0}, applied_{0}, refused_{0}, applyFailures_{0}, resyncs_{0},
      gaps_{0};
  std::chrono::steady_clock::time_point lastReset_{};  // follower thread only

  // The follower's position (follower thread only) and the epoch it belongs to.
  std::string lastId_ = "0";
  std::string epoch_;
  // The highest seq applied per node id (follower thread only): a copied entry is refused.
  std::map<std::string, std::uint64_t> lastSeq_;

  EntryAuthenticator auth_;
  std::string signingKid_, signingFingerprint_;
  bool signingKeyLogged_ = false;  // publisher thread only
  std::uint64_t nextSeq_ = 0;      // under mutex_
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(kLastEntryRejection) + 1>
      rejected_{};

  std::shared_ptr<class RedisCounterStore> counters_;
  std::thread publisher_;
  std::thread follower_;
};

}  // namespace mgw::cluster
