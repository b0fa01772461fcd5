#include "sts/tier.h"

#include <gtest/gtest.h>

namespace mgw::sts {
namespace {

config::Config withUser(const std::string& name, const std::string& tier) {
  config::Config c;
  config::UserConfig u;
  u.name = name;
  u.tier = tier;
  c.users.push_back(u);
  return c;
}

TEST(TierTest, TheUsersOwnTierByDefault) {
  const throttle::PolicySet policies;
  std::string error;
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Silver"), policies, "alice", "", &error),
            "Silver");
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Silver"), policies, "alice", "Silver", &error),
            "Silver");
  // A user without a [b7a.users] table is Unlimited.
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Silver"), policies, "bob", "", &error),
            "Unlimited");
  EXPECT_TRUE(error.empty()) << error;
}

TEST(TierTest, ALowerKnownTierMayBeAskedFor) {
  const throttle::PolicySet policies;
  std::string error;
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Gold"), policies, "alice", "Bronze", &error),
            "Bronze");
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Unlimited"), policies, "alice", "Gold", &error),
            "Gold");
  EXPECT_TRUE(error.empty()) << error;
}

TEST(TierTest, AHigherOrUnknownTierIsRefused) {
  const throttle::PolicySet policies;
  std::string error;
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Bronze"), policies, "alice", "Gold", &error),
            "");
  EXPECT_EQ(error, "tier 'Gold' is higher than user 'alice' may have ('Bronze')");
  error.clear();
  EXPECT_EQ(
      subscriptionTierFor(withUser("alice", "Bronze"), policies, "alice", "Unlimited", &error), "");
  EXPECT_NE(error.find("is higher than"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(subscriptionTierFor(withUser("alice", "Gold"), policies, "alice", "Platinum", &error),
            "");
  EXPECT_EQ(error, "tier 'Platinum' is not a subscription policy (known: " +
                       policyNames(policies, throttle::PolicyLevel::kSubscription) + ")");
}

TEST(TierTest, PolicyNamesListOneLevel) {
  const throttle::PolicySet policies;
  const std::string names = policyNames(policies, throttle::PolicyLevel::kSubscription);
  for (const char* n : {"Gold", "Silver", "Bronze", "Unlimited"})
    EXPECT_NE(names.find(n), std::string::npos) << names;
  EXPECT_EQ(names.find(", ,"), std::string::npos);
}

}  // namespace
}  // namespace mgw::sts
