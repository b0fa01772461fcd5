// What a request is counted against, and what the client hears when a counter is exhausted (SPEC
// section 13). Plain strings in, hits and an answer out: the gateway supplies the API, resource and
// key facts it has verified; the counter store does the counting. Trusts its caller.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "throttle/counter_store.h"
#include "throttle/policy.h"

namespace mgw::throttle {

// The four levels, in the order a request is checked (the first exhausted one answers).
enum class Level { kApi, kResource, kSubscription, kApplication };
inline constexpr std::size_t kLevels = 4;
std::string_view levelName(Level level);  // "api", "resource", "subscription", "application"

// Per-process counts by level (atomic; they outlive a reload): requests refused with 429, and
// requests over a stopOnQuotaReach = false policy (counted, not refused). The metrics read these.
class Stats {
 public:
  void addThrottled(Level level) { throttled_[index(level)].fetch_add(1, kRelaxed); }
  void addOverQuota(Level level) { overQuota_[index(level)].fetch_add(1, kRelaxed); }
  std::uint64_t throttled(Level level) const { return throttled_[index(level)].load(kRelaxed); }
  std::uint64_t overQuota(Level level) const { return overQuota_[index(level)].load(kRelaxed); }

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  static std::size_t index(Level level) { return static_cast<std::size_t>(level); }
  std::array<std::atomic<std::uint64_t>, kLevels> throttled_{};
  std::array<std::atomic<std::uint64_t>, kLevels> overQuota_{};
};

// The facts of one request. Empty tier = that level does not apply.
struct Subject {
  std::string_view api;           // "Name:version"
  std::string_view apiTier;       // from the definition
  std::string_view resource;      // "GET /menu/{id}"
  std::string_view resourceTier;  // from the definition
  std::string_view keyId;         // jti, "opaque:<id>"; empty = no key (open resource)
  // Who holds the subscription (an application, else a user): the subscription level is counted
  // per (subscriber, API) as WSO2 counts it per subscription, whatever key or tier the request
  // came with; empty = per key.
  std::string_view subscriber;
  std::string_view subscriptionTier;  // from the key
  std::string_view application;       // application id; empty = none
  std::string_view applicationTier;   // from the key or the micro-gw application
};

struct Plan {
  std::vector<Hit> hits;
  std::array<Level, kLevels> levels{};  // levels[i]: hit i's level
  std::array<const Policy*, kLevels> policies{};
  // A definition names a policy that does not exist: the request answers 500 naming it.
  std::string missingPolicy;
  Level missingLevel = Level::kApi;
  bool empty() const { return hits.empty() && missingPolicy.empty(); }
};

struct Answer {
  Failure failure = Failure::kNone;                          // kNone: go on
  std::string description;                                   // for the client
  std::string reason;                                        // for the log
  std::vector<std::pair<std::string, std::string>> headers;  // Retry-After, RateLimit*
  // Bit (1 << Level) set: the request was over that level's stopOnQuotaReach = false policy
  // (counted, let through), for mgw_throttle_over_quota_total{level}.
  std::uint32_t overQuotaLevels = 0;
};

class Throttler {
 public:
  Throttler(PolicySet policies, std::string unknownTier);

  // The counters this request charges, in check order (API, resource, subscription, application).
  Plan plan(const Subject& subject) const;
  // Turns the store's verdict into the answer, counting refusals and over-quota requests in stats.
  Answer judge(const Plan& plan, const Verdict& verdict, Stats& stats) const;
  // The 500 for plan.missingPolicy.
  static Answer missing(const Plan& plan);

  const PolicySet& policies() const { return policies_; }

 private:
  const Policy* keyTier(PolicyLevel level, std::string_view name) const;
  void add(Plan& plan, Level level, const Policy& policy, std::string key) const;

  PolicySet policies_;
  std::string unknownTier_;
  mutable std::mutex loggedMutex_;
  mutable std::set<std::string, std::less<>> loggedUnknown_;  // each unknown key tier logged once
  // Over-quota log lines (stopOnQuotaReach = false): one per counter per window of its policy, so
  // a flood does not become a log flood (Stats and the metric count every request). counter ->
  // steady-clock milliseconds until which that counter is not logged again; at most
  // kMaxOverQuotaLogged counters (expired ones are pruned; beyond that, new counters are not
  // logged until room frees up; how many went unlogged is said by the next line, unloggedRequests).
  bool shouldLogOverQuota(const std::string& counter, std::chrono::milliseconds window,
                          std::uint64_t* suppressed) const;
  static constexpr std::size_t kMaxOverQuotaLogged = 4096;
  mutable std::mutex overQuotaMutex_;
  mutable std::unordered_map<std::string, std::int64_t> overQuotaQuietUntil_;
  mutable std::uint64_t overQuotaSuppressed_ = 0;
};

// IETF httpapi ratelimit-headers draft (draft-ietf-httpapi-ratelimit-headers-08):
//   RateLimit-Policy: "<name>";q=<count>;w=<window seconds>
//   RateLimit: "<name>";r=<remaining>;t=<seconds until reset>
std::string rateLimitPolicyHeader(const Policy& policy);
std::string rateLimitHeader(const Policy& policy, std::int64_t remaining,
                            std::int64_t resetSeconds);

}  // namespace mgw::throttle
