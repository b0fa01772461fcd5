// Throttling policies (SPEC section 13): WSO2's defaults, then WSO2 MGW 3.x's policies.yaml, then
// [[throttling.policy]], each later one replacing an earlier one of the same level and name.
// Load-time code: trusts nothing in policies.yaml, reports every problem with file and line.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mgw::throttle {

// Where a policy may be named: "api" policies serve the API and resource levels (WSO2's
// resourcePolicies), "application" and "subscription" policies their own level.
enum class PolicyLevel { kApi, kApplication, kSubscription };

std::string_view policyLevelName(PolicyLevel level);  // "api", "application", "subscription"

struct Policy {
  std::string name;
  PolicyLevel level = PolicyLevel::kApi;
  std::int64_t count = 0;  // requests per window; 0 = unlimited (WSO2's "Unlimited")
  std::chrono::milliseconds window{60000};
  bool stopOnQuotaReach = true;
  std::string source;  // "built in", "policies.yaml:12", "conf/micro-gw.conf:40"
  bool unlimited() const { return count <= 0; }
};

class PolicySet {
 public:
  // WSO2's default policies only.
  PolicySet();

  // Defaults, then policies.yaml (config.throttling.policiesFile, or <runtimeHome>/policies.yaml
  // when present), then the TOML policies. Errors (unreadable file, bad entry) are appended to
  // *errors as "file:line: message".
  static PolicySet build(const config::Config& config, std::vector<std::string>* errors);

  // Reads WSO2 MGW 3.x's policies.yaml text (resourcePolicies, applicationPolicies,
  // subscriptionPolicies: lists of "- Name: {count, unitTime, timeUnit, stopOnQuota}") over this
  // set. Returns false with *errors appended on any problem (the good entries stay).
  bool readPoliciesYaml(std::string_view text, const std::string& source,
                        std::vector<std::string>* errors);

  void put(Policy policy);  // replaces the one of the same level and name
  const Policy* find(PolicyLevel level, std::string_view name) const;
  std::vector<const Policy*> all() const;

 private:
  std::map<std::pair<PolicyLevel, std::string>, Policy, std::less<>> policies_;
};

// "sec"/"min"/"hour"/"day"/"ms" (and WSO2's spellings "second(s)", "minute(s)", "s", "m", "h",
// "d") x unitTime; 0 for an unknown unit.
std::chrono::milliseconds windowOf(std::int64_t unitTime, std::string_view timeUnit);

}  // namespace mgw::throttle
