#include "throttle/policy.h"

#include <gtest/gtest.h>

#include <thread>

#include <filesystem>
#include <fstream>

#include "config/config_loader.h"
#include "throttle/local_counter_store.h"
#include "throttle/throttler.h"

namespace mgw::throttle {
namespace {

using std::chrono::milliseconds;

config::Config loaded(const std::string& toml, const std::string& home = "/nonexistent-home") {
  auto r = config::loadConfigFromString(toml, "test.conf", home);
  std::string errors;
  for (const auto& e : r.errors) errors += e.toString() + "\n";
  EXPECT_TRUE(r.ok()) << errors;
  return r.config.value_or(config::Config{});
}

TEST(PolicySet, Wso2DefaultsAreBuiltIn) {
  PolicySet set;
  struct Row {
    PolicyLevel level;
    const char* name;
    std::int64_t count;
  };
  for (const Row& row :
       {Row{PolicyLevel::kSubscription, "Gold", 5000},
        Row{PolicyLevel::kSubscription, "Silver", 2000},
        Row{PolicyLevel::kSubscription, "Bronze", 1000},
        Row{PolicyLevel::kApplication, "50PerMin", 50},
        Row{PolicyLevel::kApplication, "20PerMin", 20},
        Row{PolicyLevel::kApplication, "10PerMin", 10}, Row{PolicyLevel::kApi, "50KPerMin", 50000},
        Row{PolicyLevel::kApi, "20KPerMin", 20000}, Row{PolicyLevel::kApi, "10KPerMin", 10000}}) {
    const Policy* p = set.find(row.level, row.name);
    ASSERT_NE(p, nullptr) << row.name;
    EXPECT_EQ(p->count, row.count) << row.name;
    EXPECT_EQ(p->window, milliseconds(60000)) << row.name;
    EXPECT_TRUE(p->stopOnQuotaReach);
  }
  for (PolicyLevel level :
       {PolicyLevel::kApi, PolicyLevel::kApplication, PolicyLevel::kSubscription}) {
    ASSERT_NE(set.find(level, "Unlimited"), nullptr);
    EXPECT_TRUE(set.find(level, "Unlimited")->unlimited());
  }
  // Levels are separate name spaces.
  EXPECT_EQ(set.find(PolicyLevel::kApi, "Gold"), nullptr);
  EXPECT_EQ(set.find(PolicyLevel::kSubscription, "50PerMin"), nullptr);
}

TEST(PolicySet, TomlPoliciesOverrideAndAdd) {
  const auto config = loaded(R"([[throttling.policy]]
name = "Gold"
level = "subscription"
count = 3
unitTime = 1
timeUnit = "min"

[[throttling.policy]]
name = "FivePerSecond"
level = "api"
count = 5
timeUnit = "sec"
stopOnQuotaReach = false
)");
  std::vector<std::string> errors;
  PolicySet set = PolicySet::build(config, &errors);
  EXPECT_TRUE(errors.empty());
  const Policy* gold = set.find(PolicyLevel::kSubscription, "Gold");
  ASSERT_NE(gold, nullptr);
  EXPECT_EQ(gold->count, 3);
  EXPECT_EQ(gold->source, "test.conf:1");
  const Policy* five = set.find(PolicyLevel::kApi, "FivePerSecond");
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(five->window, milliseconds(1000));
  EXPECT_FALSE(five->stopOnQuotaReach);
  EXPECT_EQ(set.find(PolicyLevel::kSubscription, "Silver")->count, 2000);  // untouched
}

TEST(PolicySet, TomlErrorsNameTheKey) {
  auto r = config::loadConfigFromString(R"([[throttling.policy]]
name = "X"
level = "tenant"
count = 0
timeUnit = "week"
)",
                                        "test.conf", "/h");
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const auto& e : r.errors) all += e.toString() + "\n";
  EXPECT_NE(all.find("level"), std::string::npos) << all;
  EXPECT_NE(all.find("count"), std::string::npos) << all;
  EXPECT_NE(all.find("timeUnit"), std::string::npos) << all;
  r = config::loadConfigFromString("[[throttling.policy]]\nname = \"X\"\n", "test.conf", "/h");
  EXPECT_FALSE(r.ok());  // level and count missing
  r = config::loadConfigFromString("[throttling]\nunknwnTier = \"Gold\"\n", "test.conf", "/h");
  EXPECT_FALSE(r.ok());  // a typo is an error, not a default
}

constexpr const char* kPoliciesYaml = R"(# WSO2 API Microgateway 3.x policies.yaml
resourcePolicies:
  - 50KPerMin:
      count: 50000
      unitTime: 1
      timeUnit: min
  - ThreePerMin:
      count: 3
      unitTime: 1
      timeUnit: min
applicationPolicies:
  - 10PerMin:
      count: 7
      unitTime: 1
      timeUnit: min
subscriptionPolicies:
  - Gold:
      count: 5
      unitTime: 1
      timeUnit: sec
      stopOnQuota: false
  - Bronze:
      count: 2
      unitTime: 2
      timeUnit: hour
      stopOnQuota: true
)";

TEST(PolicySet, ReadsWso2PoliciesYamlUnchanged) {
  PolicySet set;
  std::vector<std::string> errors;
  EXPECT_TRUE(set.readPoliciesYaml(kPoliciesYaml, "policies.yaml", &errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(set.find(PolicyLevel::kApi, "ThreePerMin")->count, 3);
  EXPECT_EQ(set.find(PolicyLevel::kApplication, "10PerMin")->count, 7);
  const Policy* gold = set.find(PolicyLevel::kSubscription, "Gold");
  EXPECT_EQ(gold->count, 5);
  EXPECT_EQ(gold->window, milliseconds(1000));
  EXPECT_FALSE(gold->stopOnQuotaReach);
  EXPECT_EQ(gold->source, "policies.yaml:17");
  EXPECT_EQ(set.find(PolicyLevel::kSubscription, "Bronze")->window, milliseconds(7200000));
}

TEST(PolicySet, PoliciesYamlErrorsNameTheLine) {
  PolicySet set;
  std::vector<std::string> errors;
  EXPECT_FALSE(set.readPoliciesYaml("subscriptionPolicies:\n  - Gold:\n      count: many\n",
                                    "p.yaml", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("p.yaml:3"), std::string::npos) << errors[0];
  errors.clear();
  EXPECT_FALSE(set.readPoliciesYaml("tenantPolicies: []\n", "p.yaml", &errors));
  errors.clear();
  EXPECT_FALSE(set.readPoliciesYaml(
      "applicationPolicies:\n  - X:\n      count: 1\n      timeUnit: fortnight\n", "p.yaml",
      &errors));
  errors.clear();
  EXPECT_FALSE(set.readPoliciesYaml("resourcePolicies: [a: [\n", "p.yaml", &errors));
  EXPECT_EQ(set.find(PolicyLevel::kSubscription, "Gold")->count, 5000);  // untouched
}

TEST(PolicySet, PoliciesFileFromRuntimeHomeThenToml) {
  const auto home =
      std::filesystem::temp_directory_path() / ("mgw-policy-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(home);
  std::ofstream(home / "policies.yaml") << kPoliciesYaml;
  // The runtime home's policies.yaml is read without being named; TOML wins over it.
  auto config = loaded(R"([[throttling.policy]]
name = "Gold"
level = "subscription"
count = 9
)",
                       home.string());
  std::vector<std::string> errors;
  PolicySet set = PolicySet::build(config, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(set.find(PolicyLevel::kApi, "ThreePerMin")->count, 3);
  EXPECT_EQ(set.find(PolicyLevel::kSubscription, "Gold")->count, 9);
  // A declared file that does not exist is an error.
  config = loaded("[throttling]\npoliciesFile = \"missing.yaml\"\n", home.string());
  errors.clear();
  PolicySet::build(config, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("missing.yaml"), std::string::npos);
  std::filesystem::remove_all(home);
}

TEST(Throttler, PlansEveryLevelInOrderAndSkipsUnlimited) {
  auto config = loaded(R"([[throttling.policy]]
name = "Three"
level = "api"
count = 3

[[throttling.policy]]
name = "Two"
level = "application"
count = 2
)");
  std::vector<std::string> errors;
  Throttler throttler(PolicySet::build(config, &errors), "Unlimited");
  Subject s;
  s.api = "Pizza:1.0.0";
  s.apiTier = "Three";
  s.resource = "GET /menu";
  s.resourceTier = "10KPerMin";
  s.keyId = "jti-1";
  s.subscriptionTier = "Bronze";
  s.application = "app-1";
  s.applicationTier = "Two";
  Plan plan = throttler.plan(s);
  ASSERT_EQ(plan.hits.size(), 4u);
  EXPECT_EQ(plan.levels[0], Level::kApi);
  EXPECT_EQ(plan.levels[1], Level::kResource);
  EXPECT_EQ(plan.levels[2], Level::kSubscription);
  EXPECT_EQ(plan.levels[3], Level::kApplication);
  EXPECT_EQ(plan.hits[2].limit, 1000);
  EXPECT_NE(plan.hits[2].key.find("jti-1"), std::string::npos);
  // Unlimited tiers cost nothing; an unknown key tier counts as unknownTier.
  s.apiTier = "Unlimited";
  s.resourceTier = "";
  s.subscriptionTier = "Platinum";
  s.applicationTier = "";
  plan = throttler.plan(s);
  EXPECT_TRUE(plan.hits.empty());
  Throttler strict(PolicySet::build(config, &errors), "Bronze");
  EXPECT_TRUE(strict.plan(s).missingPolicy.empty());
}

// Issue 22 item 5: the subscription quota is the subscriber's for the API, not each key's: a user
// on a 3-a-minute tier gets 3 whatever number of keys she holds.
TEST(Throttler, SubscriptionIsCountedPerSubscriberAndApiNotPerKey) {
  auto config =
      loaded("[[throttling.policy]]\nname = \"Three\"\nlevel = \"subscription\"\ncount = 3\n");
  std::vector<std::string> errors;
  Throttler throttler(PolicySet::build(config, &errors), "Unlimited");
  auto planFor = [&](std::string_view keyId, std::string_view subscriber, std::string_view api,
                     std::string_view tier = "Three") {
    Subject s;
    s.api = api;
    s.keyId = keyId;
    s.subscriber = subscriber;
    s.subscriptionTier = tier;
    return throttler.plan(s);
  };
  const std::string alice = std::string("user\x1f") + "alice";
  const Plan k1 = planFor("jti-1", alice, "Pizza:1.0.0");
  ASSERT_EQ(k1.hits.size(), 1u);
  EXPECT_EQ(k1.hits[0].key, planFor("jti-2", alice, "Pizza:1.0.0").hits[0].key);
  EXPECT_EQ(k1.hits[0].key, planFor("opaque:3", alice, "Pizza:1.0.0").hits[0].key);
  // Another tier of the same subscriber draws on the same counter, with its own limit.
  const Plan bronze = planFor("jti-4", alice, "Pizza:1.0.0", "Bronze");
  EXPECT_EQ(bronze.hits[0].key, k1.hits[0].key);
  EXPECT_EQ(bronze.hits[0].limit, 1000);
  // Another subscriber, another API, an application: other counters.
  EXPECT_NE(k1.hits[0].key,
            planFor("jti-1", std::string("user\x1f") + "bob", "Pizza:1.0.0").hits[0].key);
  EXPECT_NE(k1.hits[0].key, planFor("jti-1", alice, "Other:1.0.0").hits[0].key);
  EXPECT_NE(k1.hits[0].key,
            planFor("jti-1", std::string("app\x1f") + "alice", "Pizza:1.0.0").hits[0].key);
  // No subscriber known: per key, as before.
  EXPECT_NE(planFor("jti-1", "", "Pizza:1.0.0").hits[0].key,
            planFor("jti-2", "", "Pizza:1.0.0").hits[0].key);
  EXPECT_EQ(k1.hits[0].key.find("jti-1"), std::string::npos);

  // Charged: three keys of alice, nine requests, three pass.
  LocalCounterStore store;
  int passed = 0;
  for (int i = 0; i < 9; ++i) {
    const std::string key = "jti-" + std::to_string(i % 3);
    if (store.chargeNow(planFor(key, alice, "Pizza:1.0.0").hits).allowed) ++passed;
  }
  EXPECT_EQ(passed, 3);
  EXPECT_TRUE(store.chargeNow(planFor("jti-1", std::string("user\x1f") + "bob", "Pizza:1.0.0").hits)
                  .allowed);
}

TEST(Throttler, UnknownDefinitionTierIsA500NamingIt) {
  Throttler throttler(PolicySet(), "Unlimited");
  Subject s;
  s.api = "Pizza:1.0.0";
  s.resourceTier = "NonExistingPolicy";
  Plan plan = throttler.plan(s);
  EXPECT_EQ(plan.missingPolicy, "NonExistingPolicy");
  EXPECT_EQ(plan.missingLevel, Level::kResource);
  Answer a = Throttler::missing(plan);
  EXPECT_EQ(a.failure, Failure::kThrottlePolicyMissing);
  EXPECT_NE(a.description.find("NonExistingPolicy"), std::string::npos);
  EXPECT_EQ(faultFor(a.failure).httpStatus, 500);
}

TEST(Throttler, RefusalHasTheLevelsCodeAndHeaders) {
  auto config = loaded(
      "[[throttling.policy]]\nname = \"Three\"\nlevel = \"subscription\"\n"
      "count = 3\n");
  std::vector<std::string> errors;
  Throttler throttler(PolicySet::build(config, &errors), "Unlimited");
  Subject s;
  s.api = "Pizza:1.0.0";
  s.keyId = "k";
  s.subscriptionTier = "Three";
  const Plan plan = throttler.plan(s);
  Verdict v;
  v.allowed = false;
  v.refused = 0;
  v.reset = milliseconds(19001);
  Stats stats;
  Answer a = throttler.judge(plan, v, stats);
  EXPECT_EQ(a.failure, Failure::kSubscriptionThrottled);
  EXPECT_EQ(faultFor(a.failure).code, 900804);
  EXPECT_EQ(faultFor(a.failure).httpStatus, 429);
  std::map<std::string, std::string> h(a.headers.begin(), a.headers.end());
  EXPECT_EQ(h["Retry-After"], "20");
  EXPECT_EQ(h["RateLimit-Policy"], "\"Three\";q=3;w=60");
  EXPECT_EQ(h["RateLimit"], "\"Three\";r=0;t=20");
  EXPECT_EQ(stats.throttled(Level::kSubscription), 1u);
  EXPECT_EQ(stats.throttled(Level::kApi), 0u);
  EXPECT_EQ(faultFor(Failure::kApiThrottled).code, 900800);
  EXPECT_EQ(faultFor(Failure::kResourceThrottled).code, 900802);
  EXPECT_EQ(faultFor(Failure::kApplicationThrottled).code, 900803);
  EXPECT_NE(faultFor(Failure::kTooManyAttempts).code, 900800);  // the login throttle's own
}

// stopOnQuotaReach = false: every over-quota request is counted (Stats, and Answer's bits for the
// metric), never refused, and logged once per counter and window, not once per request.
TEST(Throttler, OverQuotaIsCountedAndLoggedOncePerCounterAndWindow) {
  auto config = loaded(
      "[[throttling.policy]]\nname = \"Soft\"\nlevel = \"api\"\ncount = 2\nunitTime = 300\n"
      "timeUnit = \"ms\"\nstopOnQuotaReach = false\n");
  std::vector<std::string> errors;
  Throttler throttler(PolicySet::build(config, &errors), "Unlimited");
  ASSERT_TRUE(errors.empty());
  auto planFor = [&](std::string_view api) {
    Subject s;
    s.api = api;
    s.apiTier = "Soft";
    return throttler.plan(s);
  };
  const Plan a = planFor("A:1"), b = planFor("B:1");
  ASSERT_EQ(a.hits.size(), 1u);
  EXPECT_FALSE(a.hits[0].enforce);
  Verdict over;
  over.overQuota = 1;
  Stats stats;
  auto countLines = [](const std::string& text) {
    std::size_t n = 0;
    for (std::size_t at = text.find("over a throttling quota"); at != std::string::npos;
         at = text.find("over a throttling quota", at + 1))
      ++n;
    return n;
  };
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 50; ++i) {
    Answer answer = throttler.judge(a, over, stats);
    EXPECT_EQ(answer.failure, Failure::kNone);
    EXPECT_EQ(answer.overQuotaLevels, 1u << static_cast<unsigned>(Level::kApi));
  }
  (void)throttler.judge(b, over, stats);  // another counter: its own line
  std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(countLines(logged), 2u) << logged;
  EXPECT_NE(logged.find("\"counter\":\"A:1\""), std::string::npos) << logged;
  EXPECT_NE(logged.find("\"counter\":\"B:1\""), std::string::npos) << logged;
  EXPECT_EQ(stats.overQuota(Level::kApi), 51u);
  EXPECT_EQ(stats.throttled(Level::kApi), 0u);

  // A window later, the same counter logs again (once).
  std::this_thread::sleep_for(milliseconds(350));
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) (void)throttler.judge(a, over, stats);
  logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(countLines(logged), 1u) << logged;

  // Within quota: nothing counted, no bit.
  Verdict fine;
  EXPECT_EQ(throttler.judge(a, fine, stats).overQuotaLevels, 0u);
  EXPECT_EQ(stats.overQuota(Level::kApi), 61u);
}

}  // namespace
}  // namespace mgw::throttle
