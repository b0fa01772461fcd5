#include "cluster/cluster_node.h"

#include <algorithm>
#include <future>

#include "cluster/change_codec.h"
#include "cluster/redis_connection.h"
#include "cluster/redis_counter_store.h"
#include "common/crypto_util.h"
#include "common/log.h"

namespace mgw::cluster {

// One waiting change: done when Redis confirmed its XADD.
struct Ticket {
  std::promise<void> confirmed;
};

namespace {

constexpr const char* kStream = "mgw:changes";
constexpr const char* kEpochKey = "mgw:epoch";
constexpr const char* kKeyHashKey = "mgw:keyhash";
constexpr const char* kSigningKeyKey = "mgw:signingkey";
constexpr const char* kNodePrefix = "mgw:node:";
constexpr std::chrono::milliseconds kRetry{250};
constexpr std::chrono::milliseconds kHeartbeatEvery{1000};
constexpr int kHeartbeatTtlMs = 3000;
constexpr int kBlockMs = 1000;

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::unique_ptr<ClusterNode> ClusterNode::create(
    const config::ClusterConfig& config, std::shared_ptr<lifecycle::LifecycleService> lifecycle,
    int workerThreads, std::string* error) {
  auto url = parseRedisUrl(config.redis, error);
  if (!url) return nullptr;
  Options o;
  o.url = *url;
  o.password = config.redisPassword;
  o.macKey = lifecycle->clusterMacKey();
  o.streamMaxLen = static_cast<std::size_t>(config.changeStreamLength);
  // One worker always stays free of Redis for the STS and everything else on the pool.
  o.maxWaiting = std::clamp(workerThreads - 1, 1, 64);
  return std::make_unique<ClusterNode>(std::move(o), std::move(lifecycle));
}

ClusterNode::ClusterNode(Options options, std::shared_ptr<lifecycle::LifecycleService> lifecycle)
    : options_(std::move(options)),
      lifecycle_(std::move(lifecycle)),
      nodeId_(hexEncode(randomBytes(8))),
      freeSlots_(std::clamp(options_.maxWaiting, 1, 64)),
      auth_(options_.macKey) {
  secureWipe(options_.macKey);  // one copy of the key, in auth_
}

ClusterNode::~ClusterNode() { stop(); }

void ClusterNode::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (publisher_.joinable()) return;
  stop_ = false;
  log::info("cluster: joining",
            {{"redis", options_.url.host + ":" + std::to_string(options_.url.port) + "/" +
                           std::to_string(options_.url.database)},
             {"node", nodeId_}});
  publisher_ = std::thread([this] { publisherLoop(); });
  follower_ = std::thread([this] { followerLoop(); });
}

void ClusterNode::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  if (follower_.joinable()) follower_.join();
}

bool ClusterNode::waitUntilCaughtUp(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return wake_.wait_for(lock, timeout, [this] { return caughtUp_ || stop_; }) && caughtUp_;
}

bool ClusterNode::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stop_; });
}

// --- ChangeSink ---------------------------------------------------------------------------------

Failure ClusterNode::admit() {
  if (!publisherUp_.load() || !followerUp_.load() || misconfigured_.load()) {
    refused_.fetch_add(1);
    return Failure::kClusterUnavailable;
  }
  // A short wait only: the slot holder confirms within shareTimeout or gives up.
  {
    std::unique_lock<std::mutex> lock(slotMutex_);
    if (slotFreed_.wait_for(lock, std::chrono::milliseconds(250),
                            [this] { return freeSlots_ > 0; })) {
      --freeSlots_;
      return Failure::kNone;
    }
  }
  refused_.fetch_add(1);
  return Failure::kClusterUnavailable;
}

void ClusterNode::release() {
  {
    std::lock_guard<std::mutex> lock(slotMutex_);
    ++freeSlots_;
  }
  slotFreed_.notify_one();
}

Failure ClusterNode::share(const lifecycle::Change& change) {
  auto ticket = std::make_shared<Ticket>();
  auto confirmed = ticket->confirmed.get_future();
  enqueue(encodeChange(change), ticket);
  const bool ok = confirmed.wait_for(options_.shareTimeout) == std::future_status::ready;
  release();
  if (!ok) {
    // Applied here and still queued: Redis gets it when it answers again, so no node keeps it
    // alone for good. The caller is told it is not confirmed; retrying is harmless (idempotent).
    refused_.fetch_add(1);
    log::warn("cluster: a change was not confirmed by Redis in time; answered 503",
              {{"change", std::string(changeKindName(change.kind))},
               {"timeoutMs", options_.shareTimeout.count()}});
    return Failure::kClusterUnavailable;
  }
  return Failure::kNone;
}

void ClusterNode::enqueue(std::string payload, std::shared_ptr<Ticket> ticket) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= options_.maxQueued) {
      log::error("cluster: the queue of changes to share is full; a change is dropped",
                 {{"queued", queue_.size()}});
      return;  // the waiter times out and answers 503
    }
    const std::uint64_t seq = ++nextSeq_;
    std::string mac = auth_.mac(nodeId_, seq, payload);
    queue_.push_back({std::move(payload), seq, std::move(mac), std::move(ticket)});
  }
  wake_.notify_all();
}

// --- State and logs -----------------------------------------------------------------------------

void ClusterNode::logTransition() {
  // Called with mutex_ not held by the caller.
  const bool up = publisherUp_.load() && followerUp_.load() && !misconfigured_.load();
  std::lock_guard<std::mutex> lock(mutex_);
  if (loggedOnce_ && up == loggedUp_) return;
  loggedOnce_ = true;
  loggedUp_ = up;
  if (up)
    log::info("cluster: Redis reachable; changes are shared with every node", {{"node", nodeId_}});
  else
    log::warn(
        "cluster: Redis unreachable; serving with what this node knows, changes answer 503 "
        "until it is back",
        {{"node", nodeId_}});
}

void ClusterNode::setPublisherUp(bool up, const std::string& reason) {
  const bool was = publisherUp_.exchange(up);
  if (was != up && !up && !reason.empty())
    log::warn("cluster: publisher connection lost", {{"reason", reason}});
  logTransition();
}

void ClusterNode::setFollowerUp(bool up, const std::string& reason) {
  const bool was = followerUp_.exchange(up);
  if (was != up && !up && !reason.empty())
    log::warn("cluster: follower connection lost", {{"reason", reason}});
  logTransition();
}

ClusterStatus ClusterNode::status() const {
  ClusterStatus s;
  s.enabled = true;
  s.misconfigured = misconfigured_.load();
  s.connected = publisherUp_.load() && followerUp_.load() && !s.misconfigured;
  s.nodes = nodes_.load();
  s.changesShared = shared_.load();
  s.changesApplied = applied_.load();
  s.changesRefused = refused_.load();
  s.applyFailures = applyFailures_.load();
  s.resyncs = resyncs_.load();
  s.gaps = gaps_.load();
  for (std::size_t r = 0; r < s.rejected.size(); ++r) s.rejected[r] = rejected_[r].load();
  std::lock_guard<std::mutex> lock(mutex_);
  s.queued = queue_.size();
  return s;
}

std::int64_t ClusterNode::lastKnownNodes() const {
  return std::max<std::int64_t>(1, lastKnownNodes_.load());
}

std::string ClusterNode::metricsText() const {
  const ClusterStatus s = status();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(v) + "\n";
  };
  metric("mgw_cluster_up", "gauge",
         "1 when Redis is reachable and changes are shared, 0 when they answer 503",
         s.connected ? 1 : 0);
  metric("mgw_cluster_nodes", "gauge", "Live nodes seen through the Redis heartbeats",
         static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.nodes)));
  metric("mgw_cluster_changes_shared_total", "counter", "Changes of this node confirmed by Redis",
         s.changesShared);
  metric("mgw_cluster_changes_applied_total", "counter", "Changes of other nodes applied here",
         s.changesApplied);
  metric("mgw_cluster_changes_refused_total", "counter",
         "Changes answered 503 because they could not be shared", s.changesRefused);
  metric("mgw_cluster_apply_failures_total", "counter",
         "Changes of other nodes this node could not apply", s.applyFailures);
  metric("mgw_cluster_resyncs_total", "counter",
         "Times the change stream was read again from its start", s.resyncs);
  metric("mgw_cluster_stream_gaps_total", "counter",
         "Times changes this node had not read were trimmed from the stream (each starts a new "
         "epoch: every node shares its state again)",
         s.gaps);
  metric("mgw_cluster_queued_changes", "gauge", "Changes waiting to be shared", s.queued);
  out +=
      "# HELP mgw_cluster_rejected_entries_total Stream entries of other nodes dropped: unsigned, "
      "a MAC that does not verify, replayed, malformed, or a watermark in the future\n"
      "# TYPE mgw_cluster_rejected_entries_total counter\n";
  for (std::size_t r = 1; r < s.rejected.size(); ++r)
    out += "mgw_cluster_rejected_entries_total{reason=\"" +
           std::string(rejectionName(static_cast<EntryRejection>(r))) + "\"} " +
           std::to_string(s.rejected[r]) + "\n";
  if (counters_) {
    metric("mgw_cluster_counters_up", "gauge",
           "1 when the throttling counters are shared through Redis, 0 when counted locally with "
           "the limits divided by the last known node count",
           counters_->redisUp() ? 1 : 0);
    out +=
        "# HELP mgw_cluster_counter_charges_total Throttled requests charged, by counter store\n"
        "# TYPE mgw_cluster_counter_charges_total counter\n"
        "mgw_cluster_counter_charges_total{store=\"redis\"} " +
        std::to_string(counters_->sharedCharges()) +
        "\n"
        "mgw_cluster_counter_charges_total{store=\"local\"} " +
        std::to_string(counters_->localCharges()) + "\n";
  }
  return out;
}

// --- Publisher ----------------------------------------------------------------------------------

bool ClusterNode::checkKeyHash(RedisConnection& conn) {
  const std::string mine = lifecycle_->keyHashCheck();
  Reply set = conn.command({"SET", kKeyHashKey, mine, "NX"});
  Reply got = conn.command({"GET", kKeyHashKey});
  if (!got || got->type != REDIS_REPLY_STRING) return false;
  const bool same = replyText(got.get()) == mine;
  if (!same && !misconfigured_.exchange(true))
    log::error(
        "cluster: this node's key hash secret differs from the cluster's: opaque keys made on one "
        "node would not work on another. Copy <storage path>.key from a running node (same "
        "mode 0600) and restart; until then changes answer 503",
        {{"node", nodeId_}});
  if (same) misconfigured_.store(false);
  return same;
}

void ClusterNode::checkSigningKey(RedisConnection& conn) {
  if (signingFingerprint_.empty() || signingKeyLogged_) return;
  Reply set = conn.command({"SET", kSigningKeyKey, signingFingerprint_, "NX"});
  Reply got = conn.command({"GET", kSigningKeyKey});
  if (!got || got->type != REDIS_REPLY_STRING) return;
  signingKeyLogged_ = true;  // once per process: the key does not change without a restart
  const std::string cluster = replyText(got.get());
  if (cluster == signingFingerprint_) return;
  log::error(
      "cluster: this node signs API keys with a key of its own, not the cluster's: keys it issues "
      "are refused by the other nodes (401, bad signature) and theirs here. Stop it, copy the STS "
      "signing keystore ([apikey.issuer.tokenConfig] keyStorePath, by default "
      "runtime/security/micro-gw-signing.pem) from a running node, and start it again",
      {{"node", nodeId_},
       {"kid", signingKid_},
       {"keyFingerprint", signingFingerprint_},
       {"clusterKeyFingerprint", cluster.substr(0, 64)}});
}

void ClusterNode::heartbeat(RedisConnection& conn) {
  Reply set = conn.command({"SET", std::string(kNodePrefix) + nodeId_, std::to_string(nowMs()),
                            "PX", std::to_string(kHeartbeatTtlMs)});
  if (isError(set.get())) return;
  std::int64_t count = 0;
  std::string cursor = "0";
  do {
    Reply r =
        conn.command({"SCAN", cursor, "MATCH", std::string(kNodePrefix) + "*", "COUNT", "1000"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return;
    cursor = replyText(r->element[0]);
    count += static_cast<std::int64_t>(r->element[1]->elements);
  } while (cursor != "0");
  const std::int64_t before = nodes_.exchange(count);
  if (count > 0) lastKnownNodes_.store(count);
  if (before != count) log::info("cluster: live nodes", {{"nodes", count}});
}

void ClusterNode::publisherLoop() {
  std::unique_ptr<RedisConnection> conn;
  auto lastBeat = std::chrono::steady_clock::time_point{};
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) break;
    }
    if (!conn) {
      std::string why;
      conn = RedisConnection::open(options_.url, options_.password, options_.ioTimeout, &why);
      if (conn) checkSigningKey(*conn);  // also when the key hash secret differs (both copied)
      if (!conn || !checkKeyHash(*conn)) {
        if (conn && conn->broken()) why = conn->error();
        conn.reset();
        setPublisherUp(false, why);
        if (!sleepFor(misconfigured_.load() ? std::chrono::milliseconds(5000) : kRetry)) break;
        continue;
      }
      setPublisherUp(true, "");
      lastBeat = {};
    }
    if (std::chrono::steady_clock::now() - lastBeat >= kHeartbeatEvery) {
      heartbeat(*conn);
      lastBeat = std::chrono::steady_clock::now();
      if (conn->broken()) {
        setPublisherUp(false, conn->error());
        conn.reset();
        continue;
      }
    }
    // Take what is queued (up to a batch), waiting for work until the next heartbeat.
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, kHeartbeatEvery / 2, [this] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      while (!queue_.empty() && batch.size() < 256) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) continue;
    std::vector<std::vector<std::string>> commands;
    commands.reserve(batch.size());
    for (const auto& p : batch)
      commands.push_back({"XADD", kStream, "MAXLEN", "~", std::to_string(options_.streamMaxLen),
                          "*", "node", nodeId_, "seq", std::to_string(p.seq), "change", p.payload,
                          "mac", p.mac});
    std::vector<Reply> replies;
    const bool ok = conn->pipeline(commands, &replies);
    std::size_t done = 0;
    if (ok) {
      for (; done < batch.size(); ++done) {
        if (isError(replies[done].get())) {
          log::error("cluster: Redis refused a change",
                     {{"reply", replyText(replies[done].get()).substr(0, 200)}});
          break;
        }
        if (batch[done].ticket) batch[done].ticket->confirmed.set_value();
        shared_.fetch_add(1);
      }
    }
    if (done < batch.size()) {
      // Not confirmed: back to the front, in order, for the next connection.
      std::lock_guard<std::mutex> lock(mutex_);
      for (std::size_t i = batch.size(); i > done; --i) queue_.push_front(std::move(batch[i - 1]));
    }
    if (!ok || conn->broken()) {
      setPublisherUp(false, conn->error());
      conn.reset();
      if (!sleepFor(kRetry)) break;
    }
  }
  // Stopping: waiters time out and answer 503.
  if (conn) conn->command({"DEL", std::string(kNodePrefix) + nodeId_});
}

// --- Follower -----------------------------------------------------------------------------------

bool ClusterNode::syncEpoch(RedisConnection& conn, bool* republishAll) {
  *republishAll = false;
  Reply got = conn.command({"GET", kEpochKey});
  if (!got) return false;
  std::string epoch = replyText(got.get());
  bool created = false;
  if (got->type == REDIS_REPLY_NIL) {
    const std::string fresh = hexEncode(randomBytes(8));
    Reply set = conn.command({"SET", kEpochKey, fresh, "NX"});
    if (!set) return false;
    created = set->type == REDIS_REPLY_STATUS;
    Reply again = conn.command({"GET", kEpochKey});
    if (!again || again->type != REDIS_REPLY_STRING) return false;
    epoch = replyText(again.get());
  }
  if (epoch == epoch_) return true;
  // A new epoch: read the stream from its start. Share everything this node holds when Redis lost
  // what it had (a known epoch changed) or when this node is the one that created it.
  const bool hadEpoch = !epoch_.empty();
  *republishAll = hadEpoch || created;
  if (hadEpoch) {
    resyncs_.fetch_add(1);
    log::warn(
        "cluster: a new epoch (Redis lost its data, or a node saw a stream gap); sharing this "
        "node's state again",
        {{"node", nodeId_}});
  }
  epoch_ = epoch;
  lastId_ = "0";
  return true;
}

namespace {

// A stream entry id "ms-seq" (or "ms"), compared as the pair Redis orders by.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parseStreamId(const std::string& id) {
  std::pair<std::uint64_t, std::uint64_t> out{0, 0};
  const auto dash = id.find('-');
  const std::string ms = id.substr(0, dash);
  const std::string seq = dash == std::string::npos ? "0" : id.substr(dash + 1);
  auto number = [](const std::string& s, std::uint64_t& v) {
    if (s.empty() || s.size() > 20) return false;
    v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
  };
  if (!number(ms, out.first) || !number(seq, out.second)) return std::nullopt;
  return out;
}

}  // namespace

std::optional<bool> ClusterNode::streamGap(RedisConnection& conn, const std::string& position) {
  Reply info = conn.command({"XINFO", "STREAM", kStream});
  if (!info) return std::nullopt;
  if (info->type != REDIS_REPLY_ARRAY) return false;  // no stream yet: nothing was trimmed
  // Trimming (MAXLEN) removes entries from the head only, and Redis 7.0 counts what was ever
  // added: entries were trimmed when more were added than remain, and this node missed some of
  // them when it has not read up to the first entry still there. (A node that read exactly the
  // last trimmed entry and none after it counts as a gap too: a needless, harmless resharing.)
  long long length = -1, added = -1;
  std::string first;
  for (std::size_t i = 0; i + 1 < info->elements; i += 2) {
    const std::string field = replyText(info->element[i]);
    const redisReply* value = info->element[i + 1];
    if (field == "length" && value->type == REDIS_REPLY_INTEGER) length = value->integer;
    if (field == "entries-added" && value->type == REDIS_REPLY_INTEGER) added = value->integer;
    if (field == "recorded-first-entry-id") first = replyText(value);
  }
  // Redis before 7.0 does not say what it trimmed: no gap can be seen (the README says 7.0).
  if (length < 0 || added < 0 || first.empty() || added <= length) return false;
  auto firstId = parseStreamId(first);
  auto read = parseStreamId(position);
  return firstId && read && *read < *firstId;
}

bool ClusterNode::resetStream(RedisConnection& conn) {
  const std::string fresh = hexEncode(randomBytes(8));
  std::vector<Reply> replies;
  if (!conn.pipeline({{"MULTI"}, {"DEL", kStream}, {"SET", kEpochKey, fresh}, {"EXEC"}}, &replies))
    return false;
  return replies.size() == 4 && replies[3] && replies[3]->type == REDIS_REPLY_ARRAY;
}

void ClusterNode::republish() {
  auto all = lifecycle_->snapshot();
  if (!all.ok()) {
    log::error("cluster: cannot read the local store to share it",
               {{"failure", std::string(failureName(all.failure))}});
    return;
  }
  for (const auto& c : all.value) enqueue(encodeChange(c), nullptr);
  log::info("cluster: local state queued for sharing", {{"changes", all.value.size()}});
}

void ClusterNode::applyEntries(const redisReply* r) {
  // [[stream, [[id, [field, value, ...]], ...]]]
  for (std::size_t s = 0; s < r->elements; ++s) {
    const redisReply* stream = r->element[s];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) continue;
    const redisReply* entries = stream->element[1];
    for (std::size_t e = 0; e < entries->elements; ++e) {
      const redisReply* entry = entries->element[e];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
      lastId_ = replyText(entry->element[0]);
      const redisReply* fields = entry->element[1];
      StreamEntry got;
      for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
        const std::string name = replyText(fields->element[f]);
        if (name == "node") got.node = replyText(fields->element[f + 1]);
        if (name == "seq") got.seq = replyText(fields->element[f + 1]);
        if (name == "change") got.change = replyText(fields->element[f + 1]);
        if (name == "mac") got.mac = replyText(fields->element[f + 1]);
      }
      if (got.node == nodeId_) continue;  // applied here before it was shared
      lifecycle::Change change;
      const EntryRejection rejected = acceptEntry(got, auth_, &lastSeq_, nowMs() / 1000, &change);
      if (rejected != EntryRejection::kNone) {
        rejected_[static_cast<std::size_t>(rejected)].fetch_add(1);
        log::warn(
            "cluster: a stream entry failed verification and was dropped (anyone who can write "
            "to Redis can add entries; only nodes with this cluster's key hash secret can sign "
            "them)",
            {{"id", lastId_},
             {"node", got.node.substr(0, 32)},
             {"reason", std::string(rejectionName(rejected))}});
        continue;
      }
      Failure f = lifecycle_->apply(change);
      if (f == Failure::kNone) {
        applied_.fetch_add(1);
      } else {
        applyFailures_.fetch_add(1);
        log::warn("cluster: a change from another node could not be applied",
                  {{"id", lastId_},
                   {"change", std::string(changeKindName(change.kind))},
                   {"failure", std::string(failureName(f))}});
      }
    }
  }
}

bool ClusterNode::dropConnection(std::unique_ptr<RedisConnection>& conn) {
  setFollowerUp(false, conn->error());
  conn.reset();
  return sleepFor(kRetry);
}

std::optional<bool> ClusterNode::resetOnGap(RedisConnection& conn) {
  const std::optional<bool> gap = streamGap(conn, lastId_);
  if (!gap || !*gap) return gap;
  gaps_.fetch_add(1);
  const auto now = std::chrono::steady_clock::now();
  if (lastReset_ != std::chrono::steady_clock::time_point{} &&
      now - lastReset_ < options_.minResetInterval) {
    log::error(
        "cluster: changes this node had not read were trimmed from the stream again; the shared "
        "state does not fit in it: raise [cluster] changeStreamLength",
        {{"node", nodeId_},
         {"position", lastId_},
         {"changeStreamLength", static_cast<std::int64_t>(options_.streamMaxLen)}});
    return false;  // read on from here: what is left is still worth applying
  }
  log::warn(
      "cluster: changes this node had not read were trimmed from the stream; starting a new "
      "stream so that every node shares its state again",
      {{"node", nodeId_}, {"position", lastId_}});
  lastReset_ = now;
  if (!resetStream(conn)) return std::nullopt;
  return true;
}

void ClusterNode::followerLoop() {
  std::unique_ptr<RedisConnection> conn;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) break;
    }
    if (!conn) {
      std::string why;
      conn = RedisConnection::open(options_.url, options_.password, options_.ioTimeout, &why);
      if (!conn) {
        setFollowerUp(false, why);
        if (!sleepFor(kRetry)) break;
        continue;
      }
      // XREAD BLOCK holds the socket for kBlockMs: the timeout covers it plus the I/O bound.
      conn->setTimeout(options_.ioTimeout + std::chrono::milliseconds(kBlockMs));
    }
    // Every round: a FLUSHALL or a restarted Redis shows as a new epoch within a second.
    bool republishAll = false;
    if (!syncEpoch(*conn, &republishAll)) {
      if (!dropConnection(conn)) break;
      continue;
    }
    if (republishAll) republish();
    const std::optional<bool> restarted = resetOnGap(*conn);
    if (!restarted) {
      if (!dropConnection(conn)) break;
      continue;
    }
    if (*restarted) continue;  // the next round sees the new epoch: share all, read from the start
    // Up only once the position is known: a change admitted from here on is also followed.
    setFollowerUp(true, "");
    bool caughtUp;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      caughtUp = caughtUp_;
    }
    // Until caught up once, no BLOCK: an empty answer then means "read to the end" at once.
    Reply r = caughtUp ? conn->command({"XREAD", "COUNT", "1000", "BLOCK", std::to_string(kBlockMs),
                                        "STREAMS", kStream, lastId_})
                       : conn->command({"XREAD", "COUNT", "1000", "STREAMS", kStream, lastId_});
    if (!r) {
      if (!dropConnection(conn)) break;
      continue;
    }
    std::size_t read = 0;
    if (r->type == REDIS_REPLY_ARRAY)
      for (std::size_t s = 0; s < r->elements; ++s)
        if (r->element[s]->type == REDIS_REPLY_ARRAY && r->element[s]->elements == 2)
          read += r->element[s]->element[1]->elements;
    if (r->type == REDIS_REPLY_ARRAY) applyEntries(r.get());
    if (!caughtUp && read < 1000) {
      log::info("cluster: caught up with the change stream",
                {{"applied", applied_.load()}, {"position", lastId_}});
      {
        std::lock_guard<std::mutex> lock(mutex_);
        caughtUp_ = true;
      }
      wake_.notify_all();
    }
  }
}

}  // namespace mgw::cluster
