#include "sts/tier.h"

namespace mgw::sts {

std::string policyNames(const throttle::PolicySet& policies, throttle::PolicyLevel level) {
  std::string names;
  for (const throttle::Policy* p : policies.all())
    if (p->level == level) names += (names.empty() ? "" : ", ") + p->name;
  return names;
}

std::string subscriptionTierFor(const config::Config& config, const throttle::PolicySet& policies,
                                const std::string& user, const std::string& asked,
                                std::string* error) {
  std::string own = "Unlimited";
  for (const auto& u : config.users)
    if (u.name == user) own = u.tier;
  if (asked.empty() || asked == own) return own;
  const auto* wanted = policies.find(throttle::PolicyLevel::kSubscription, asked);
  if (wanted == nullptr) {
    *error = "tier '" + asked.substr(0, 64) + "' is not a subscription policy (known: " +
             policyNames(policies, throttle::PolicyLevel::kSubscription) + ")";
    return "";
  }
  const auto* mine = policies.find(throttle::PolicyLevel::kSubscription, own);
  if (mine == nullptr)
    mine = policies.find(throttle::PolicyLevel::kSubscription, config.throttling.unknownTier);
  // Lower = a rate no higher than the user's own (Unlimited is above every limit).
  auto above = [](const throttle::Policy& a, const throttle::Policy& b) {
    if (a.unlimited()) return !b.unlimited();
    if (b.unlimited()) return false;
    // a.count / a.window > b.count / b.window, without division.
    return static_cast<long double>(a.count) * b.window.count() >
           static_cast<long double>(b.count) * a.window.count();
  };
  if (mine == nullptr || above(*wanted, *mine)) {
    *error = "tier '" + asked.substr(0, 64) + "' is higher than user '" + user + "' may have ('" +
             own + "')";
    return "";
  }
  return asked;
}

}  // namespace mgw::sts
