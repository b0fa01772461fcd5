#include "cluster/redis_counter_store.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "cluster/redis_connection.h"
#include "common/log.h"

namespace mgw::cluster {
namespace {

// KEYS: the counters. ARGV: per hit, the emission interval e and the tolerance tau (microseconds)
// and 1/0 for enforce; then k, the number of requests with exactly these hits to decide in turn
// (requests waiting together for the same counters are decided in one call, in arrival order, each
// exactly as if alone). Time is Redis's (TIME), so every node decides on one clock. Numbers are Lua
// doubles: microseconds since 1970 stay below 2^53 for another 200 years; tat is written with %.0f
// so no precision is lost to tostring's 14 digits. Answers 5 integers per request.
constexpr const char* kScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local k = tonumber(ARGV[3 * n + 1]) or 1
local e, tau, enforce, tat, dirty = {}, {}, {}, {}, {}
for i = 1, n do
  e[i], tau[i] = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  enforce[i] = ARGV[3 * i] == '1'
  local v = tonumber(redis.call('GET', KEYS[i]) or now) or now
  if v < now then v = now end
  tat[i] = v
end
local out = {}
for j = 1, k do
  local allowed, refused, overQuota = 1, 0, 0
  local tightest, tightestReset, refusedWait = -1, 0, 0
  local newTat, fits = {}, {}
  for i = 1, n do
    if tat[i] - now <= tau[i] then
      fits[i] = true
      newTat[i] = tat[i] + e[i]
      local remaining = math.floor((now + tau[i] + e[i] - newTat[i]) / e[i])
      if tightest < 0 or remaining < tightest then
        tightest = remaining
        tightestReset = newTat[i] - now
      end
    elseif enforce[i] then
      if allowed == 1 then refused = i - 1 end
      allowed = 0
      refusedWait = math.max(refusedWait, tat[i] - now - tau[i])
    else
      overQuota = overQuota + 2 ^ (i - 1)
      if tightest ~= 0 then
        tightest = 0
        tightestReset = tat[i] - now - tau[i]
      end
    end
  end
  if allowed == 1 then
    for i = 1, n do
      if fits[i] then
        tat[i] = newTat[i]
        dirty[i] = true
      end
    end
    if tightest < 0 then tightest = 0 end
    out[#out + 1], out[#out + 2], out[#out + 3] = 1, 0, tightest
    out[#out + 1], out[#out + 2] = tightestReset, overQuota
  else
    out[#out + 1], out[#out + 2], out[#out + 3] = 0, refused, 0
    out[#out + 1], out[#out + 2] = refusedWait, overQuota
  end
end
for i = 1, n do
  if dirty[i] then
    redis.call('SET', KEYS[i], string.format('%.0f', tat[i]),
               'PXAT', string.format('%.0f', math.ceil(tat[i] / 1000)))
  end
end
return out
)lua";

constexpr std::chrono::milliseconds kReconnectDelay{250};
constexpr std::size_t kBatch = 512;

}  // namespace

const char* RedisCounterStore::script() { return kScript; }

throttle::Verdict verdictOf(const ScriptAnswer& a) {
  throttle::Verdict v;
  v.allowed = a.allowed == 1;
  v.refused = static_cast<std::size_t>(std::max(0LL, a.refused));
  v.remaining = std::max(0LL, a.remaining);
  v.reset = std::chrono::milliseconds(a.resetMicros <= 0 ? 0 : (a.resetMicros + 999) / 1000);
  v.overQuota = static_cast<std::uint32_t>(a.overQuota);
  return v;
}

RedisCounterStore::RedisCounterStore(Options options, std::function<std::int64_t()> nodes)
    : options_(std::move(options)), nodes_(std::move(nodes)) {}

RedisCounterStore::~RedisCounterStore() { stop(); }

void RedisCounterStore::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void RedisCounterStore::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whatever is still queued is answered, so no request waits forever.
  std::deque<Pending> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    left.swap(queue_);
  }
  for (auto& p : left) chargeLocally(std::move(p.hits), p.done);
}

void RedisCounterStore::charge(std::vector<throttle::Hit> hits, Done done) {
  if (hits.empty()) {
    done(throttle::Verdict{});
    return;
  }
  if (up_.load()) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!stop_ && queue_.size() < options_.maxQueued) {
      queue_.push_back({std::move(hits), std::move(done)});
      lock.unlock();
      wake_.notify_one();
      return;
    }
  }
  chargeLocally(std::move(hits), done);
}

void RedisCounterStore::chargeLocally(std::vector<throttle::Hit> hits, const Done& done) {
  // Each node takes its share of every limit while the nodes cannot count together.
  const std::int64_t nodes = std::max<std::int64_t>(1, nodes_ ? nodes_() : 1);
  for (auto& h : hits) h.limit = std::max<std::int64_t>(1, h.limit / nodes);
  localCharges_.fetch_add(1);
  done(fallback_.chargeNow(hits));
}

void RedisCounterStore::setUp(bool up, const std::string& reason) {
  const bool was = up_.exchange(up);
  if (was == up) return;
  if (up)
    log::info("cluster: throttling counters shared through Redis again");
  else
    log::warn(
        "cluster: Redis unreachable for the throttling counters; each node counts locally with "
        "the limits divided by the last known node count",
        {{"reason", reason}, {"nodes", nodes_ ? nodes_() : 1}});
}

std::vector<std::string> RedisCounterStore::evalArgs(const std::vector<throttle::Hit>& hits) const {
  const std::size_t n = std::min<std::size_t>(hits.size(), 32);
  std::vector<std::string> args = {"EVALSHA", sha_, std::to_string(n)};
  args.reserve(3 + n * 4);
  for (std::size_t i = 0; i < n; ++i) args.push_back(options_.keyPrefix + hits[i].key);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t limit = std::max<std::int64_t>(hits[i].limit, 1);
    const std::int64_t windowUs = std::max<std::int64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(hits[i].window).count(), 1);
    const std::int64_t e = std::max<std::int64_t>((windowUs + limit - 1) / limit, 1);
    // Saturated as in the local store: a huge count over a short window is as good as unlimited
    // (and stays an exact Lua double).
    constexpr std::int64_t kMaxTau = std::int64_t{1} << 50;
    const std::int64_t tau = (limit - 1) > kMaxTau / e ? kMaxTau : (limit - 1) * e;
    args.push_back(std::to_string(e));
    args.push_back(std::to_string(tau));
    args.push_back(hits[i].enforce ? "1" : "0");
  }
  return args;
}

void RedisCounterStore::loop() {
  std::unique_ptr<RedisConnection> conn;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) break;
    }
    if (!conn) {
      std::string why;
      conn = RedisConnection::open(options_.url, options_.password, options_.ioTimeout, &why);
      if (conn) {
        Reply loaded = conn->command({"SCRIPT", "LOAD", kScript});
        if (loaded && loaded->type == REDIS_REPLY_STRING) {
          sha_ = replyText(loaded.get());
        } else {
          why = loaded ? "SCRIPT LOAD: " + replyText(loaded.get()) : conn->error();
          conn.reset();
        }
      }
      if (!conn) {
        setUp(false, why);
        std::unique_lock<std::mutex> lock(mutex_);
        if (wake_.wait_for(lock, kReconnectDelay, [this] { return stop_; })) break;
        continue;
      }
      everUp_.store(true);
      setUp(true, "");
    }
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(500),
                     [this] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      while (!queue_.empty() && batch.size() < kBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) {
      // Idle: a PING keeps the state honest (a dead Redis is noticed before the next request).
      Reply pong = conn->command({"PING"});
      if (!pong) {
        setUp(false, conn->error());
        conn.reset();
      }
      continue;
    }
    // Requests for the same counters are decided together: one script call per distinct set of
    // hits in the batch (one key under load: one call for the whole batch).
    std::vector<std::vector<std::string>> commands;
    std::vector<std::vector<std::size_t>> members;
    {
      std::unordered_map<std::string, std::size_t> groupOf;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        std::vector<std::string> args = evalArgs(batch[i].hits);
        std::string signature;
        for (std::size_t a = 3; a < args.size(); ++a) {
          signature += args[a];
          signature.push_back('\0');
        }
        auto [it, fresh] = groupOf.emplace(std::move(signature), commands.size());
        if (fresh) {
          commands.push_back(std::move(args));
          members.emplace_back();
        }
        members[it->second].push_back(i);
      }
      for (std::size_t g = 0; g < commands.size(); ++g)
        commands[g].push_back(std::to_string(members[g].size()));
    }
    std::vector<Reply> replies;
    const bool ok = conn->pipeline(commands, &replies);
    for (std::size_t g = 0; g < commands.size(); ++g) {
      const redisReply* r = ok && g < replies.size() ? replies[g].get() : nullptr;
      Reply retried;
      if (r && r->type == REDIS_REPLY_ERROR && replyText(r).rfind("NOSCRIPT", 0) == 0) {
        // The script cache was flushed: load it again and run this group.
        Reply loaded = conn->command({"SCRIPT", "LOAD", kScript});
        if (loaded && loaded->type == REDIS_REPLY_STRING) sha_ = replyText(loaded.get());
        commands[g][1] = sha_;
        retried = conn->command(commands[g]);
        r = retried.get();
      }
      const std::size_t k = members[g].size();
      bool good = r && r->type == REDIS_REPLY_ARRAY && r->elements == 5 * k;
      for (std::size_t x = 0; good && x < r->elements; ++x)
        good = r->element[x]->type == REDIS_REPLY_INTEGER;
      if (good) {
        for (std::size_t m = 0; m < k; ++m) {
          redisReply* const* v = r->element + 5 * m;
          ScriptAnswer a{v[0]->integer, v[1]->integer, v[2]->integer, v[3]->integer, v[4]->integer};
          sharedCharges_.fetch_add(1);
          batch[members[g][m]].done(verdictOf(a));
        }
        continue;
      }
      if (r && r->type == REDIS_REPLY_ERROR)
        log::error("cluster: the throttling script failed; charged locally",
                   {{"reply", replyText(r).substr(0, 200)}});
      for (std::size_t m : members[g]) chargeLocally(std::move(batch[m].hits), batch[m].done);
    }
    if (!ok || conn->broken()) {
      setUp(false, conn->error());
      conn.reset();
    }
  }
}

}  // namespace mgw::cluster
