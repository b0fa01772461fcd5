#include "throttle/throttler.h"

#include <chrono>
#include <utility>

#include "common/log.h"

namespace mgw::throttle {

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kApi:
      return "api";
    case Level::kResource:
      return "resource";
    case Level::kSubscription:
      return "subscription";
    case Level::kApplication:
      return "application";
  }
  return "api";
}

namespace {

Failure failureOf(Level level) {
  switch (level) {
    case Level::kApi:
      return Failure::kApiThrottled;
    case Level::kResource:
      return Failure::kResourceThrottled;
    case Level::kSubscription:
      return Failure::kSubscriptionThrottled;
    case Level::kApplication:
      return Failure::kApplicationThrottled;
  }
  return Failure::kApiThrottled;
}

std::string sfString(std::string_view name) {
  // A structured-field string (RFC 8941 section 3.3.3): printable ASCII, '"' and '\' escaped.
  std::string out = "\"";
  for (char c : name) {
    if (c < 0x20 || c > 0x7e) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::int64_t ceilSeconds(std::chrono::milliseconds ms) { return (ms.count() + 999) / 1000; }

}  // namespace

std::string rateLimitPolicyHeader(const Policy& policy) {
  return sfString(policy.name) + ";q=" + std::to_string(policy.count) +
         ";w=" + std::to_string(std::max<std::int64_t>(1, ceilSeconds(policy.window)));
}

std::string rateLimitHeader(const Policy& policy, std::int64_t remaining,
                            std::int64_t resetSeconds) {
  return sfString(policy.name) + ";r=" + std::to_string(remaining) +
         ";t=" + std::to_string(resetSeconds);
}

Throttler::Throttler(PolicySet policies, std::string unknownTier)
    : policies_(std::move(policies)), unknownTier_(std::move(unknownTier)) {}

const Policy* Throttler::keyTier(PolicyLevel level, std::string_view name) const {
  if (name.empty()) name = "Unlimited";
  if (const Policy* p = policies_.find(level, name)) return p;
  {
    std::lock_guard lock(loggedMutex_);
    std::string id = std::string(policyLevelName(level)) + ":" + std::string(name);
    if (loggedUnknown_.size() < 1000 && loggedUnknown_.insert(id).second) {
      log::warn("a key names an unknown throttling tier; it counts as [throttling] unknownTier",
                {{"level", std::string(policyLevelName(level))},
                 {"tier", std::string(name.substr(0, 64))},
                 {"unknownTier", unknownTier_}});
    }
  }
  return policies_.find(level, unknownTier_);
}

void Throttler::add(Plan& plan, Level level, const Policy& policy, std::string key) const {
  if (policy.unlimited()) return;
  const std::size_t i = plan.hits.size();
  Hit hit;
  hit.key = std::move(key);
  hit.limit = policy.count;
  hit.window = policy.window;
  hit.enforce = policy.stopOnQuotaReach;
  plan.hits.push_back(std::move(hit));
  plan.levels[i] = level;
  plan.policies[i] = &policy;
}

Plan Throttler::plan(const Subject& s) const {
  Plan plan;
  auto named = [&](Level level, std::string_view tier) -> const Policy* {
    const Policy* p = policies_.find(PolicyLevel::kApi, tier);
    if (p == nullptr && plan.missingPolicy.empty()) {
      plan.missingPolicy = std::string(tier);
      plan.missingLevel = level;
    }
    return p;
  };
  // A separator that cannot occur in a name, so two subjects never share a counter.
  constexpr char kSep = '\x1f';
  if (!s.apiTier.empty()) {
    if (const Policy* p = named(Level::kApi, s.apiTier))
      add(plan, Level::kApi, *p,
          "api" + std::string(1, kSep) + p->name + kSep + std::string(s.api));
  }
  if (!s.resourceTier.empty()) {
    if (const Policy* p = named(Level::kResource, s.resourceTier))
      add(plan, Level::kResource, *p,
          "res" + std::string(1, kSep) + p->name + kSep + std::string(s.api) + kSep +
              std::string(s.resource));
  }
  if (!plan.missingPolicy.empty()) return plan;
  if (!s.keyId.empty()) {
    // One counter per subscription (issue 22 item 5): three keys of one user, or keys of one user
    // with different tiers, draw on one quota; each request is checked against its own key's tier.
    // Not per key: holding more keys must not multiply the quota.
    if (const Policy* p = keyTier(PolicyLevel::kSubscription, s.subscriptionTier))
      add(plan, Level::kSubscription, *p,
          "sub" + std::string(1, kSep) +
              (s.subscriber.empty() ? "key" + std::string(1, kSep) + std::string(s.keyId)
                                    : std::string(s.subscriber)) +
              kSep + std::string(s.api));
  }
  if (!s.application.empty()) {
    if (const Policy* p = keyTier(PolicyLevel::kApplication, s.applicationTier))
      add(plan, Level::kApplication, *p,
          "app" + std::string(1, kSep) + p->name + kSep + std::string(s.application));
  }
  return plan;
}

Answer Throttler::missing(const Plan& plan) {
  Answer a;
  a.failure = Failure::kThrottlePolicyMissing;
  a.description = "the " + std::string(levelName(plan.missingLevel)) + " throttling policy '" +
                  plan.missingPolicy.substr(0, 64) + "' does not exist";
  a.reason = "unknown throttling policy " + plan.missingPolicy.substr(0, 64);
  return a;
}

bool Throttler::shouldLogOverQuota(const std::string& counter, std::chrono::milliseconds window,
                                   std::uint64_t* suppressed) const {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::lock_guard lock(overQuotaMutex_);
  auto it = overQuotaQuietUntil_.find(counter);
  if (it != overQuotaQuietUntil_.end()) {
    if (now < it->second) return false;
    it->second = now + window.count();
  } else {
    if (overQuotaQuietUntil_.size() >= kMaxOverQuotaLogged) {
      std::erase_if(overQuotaQuietUntil_, [now](const auto& e) { return e.second <= now; });
      if (overQuotaQuietUntil_.size() >= kMaxOverQuotaLogged) {
        ++overQuotaSuppressed_;
        return false;
      }
    }
    overQuotaQuietUntil_.emplace(counter, now + window.count());
  }
  *suppressed = std::exchange(overQuotaSuppressed_, 0);
  return true;
}

Answer Throttler::judge(const Plan& plan, const Verdict& verdict, Stats& stats) const {
  Answer a;
  for (std::size_t i = 0; i < plan.hits.size(); ++i) {
    if ((verdict.overQuota & (std::uint32_t{1} << i)) == 0) continue;
    const Level level = plan.levels[i];
    stats.addOverQuota(level);
    a.overQuotaLevels |= std::uint32_t{1} << static_cast<std::uint32_t>(level);
    std::uint64_t suppressed = 0;
    if (shouldLogOverQuota(plan.hits[i].key, plan.hits[i].window, &suppressed)) {
      // The counter's subject (API, resource, key id or application id; never a key value),
      // readable: the separators become spaces, the level and policy prefix is dropped.
      std::string subject = plan.hits[i].key;
      std::size_t start = subject.find('\x1f', subject.find('\x1f') + 1);
      subject = start == std::string::npos ? subject : subject.substr(start + 1);
      for (char& c : subject)
        if (c == '\x1f') c = ' ';
      nlohmann::json fields = {{"level", std::string(levelName(level))},
                               {"policy", plan.policies[i]->name},
                               {"counter", subject},
                               {"windowSeconds", ceilSeconds(plan.hits[i].window)},
                               {"overQuotaTotal", stats.overQuota(level)}};
      if (suppressed > 0) fields["unloggedRequests"] = suppressed;
      log::warn(
          "over a throttling quota (stopOnQuotaReach = false: counted, not refused; logged once "
          "per counter and window)",
          fields);
    }
  }
  if (verdict.allowed) return a;
  const std::size_t i = verdict.refused < plan.hits.size() ? verdict.refused : 0;
  const Level level = plan.levels[i];
  const Policy& policy = *plan.policies[i];
  stats.addThrottled(level);
  const std::int64_t retry = std::max<std::int64_t>(1, ceilSeconds(verdict.reset));
  a.failure = failureOf(level);
  a.description = "the " + std::string(levelName(level)) + " throttling policy " + policy.name +
                  " allows " + std::to_string(policy.count) + " requests per " +
                  std::to_string(ceilSeconds(policy.window)) + " s; retry after " +
                  std::to_string(retry) + " s";
  a.reason = std::string(levelName(level)) + " quota " + policy.name + " exhausted";
  a.headers.emplace_back("Retry-After", std::to_string(retry));
  a.headers.emplace_back("RateLimit-Policy", rateLimitPolicyHeader(policy));
  a.headers.emplace_back("RateLimit", rateLimitHeader(policy, 0, retry));
  return a;
}

}  // namespace mgw::throttle
