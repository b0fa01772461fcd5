#include "store/opaque_key_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace mgw::store {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kValue = "lTiFQrRvNBOkVShNrKG13VhuXoZ2EfgJ_qU529RyXB8";  // the seed's example key

// Stands in for the store's keyed BLAKE2b: the index only needs a deterministic mapping.
std::string testHash(std::string_view value) { return "h(" + std::string(value) + ")"; }

std::shared_ptr<OpaqueKeyIndex> makeIndex() { return std::make_shared<OpaqueKeyIndex>(testHash); }

OpaqueKeyEntry entry(const std::string& id = "k1") {
  OpaqueKeyEntry e;
  e.id = id;
  e.owner = "alice";
  e.apiName = "PizzaShackAPI";
  e.apiVersion = "1.0.0";
  return e;
}

TEST(OpaqueKeyIndexTest, FindsByHashOfTheValueOnly) {
  auto index = makeIndex();
  index->put(testHash(kValue), entry());
  auto found = index->find(kValue);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->id, "k1");
  EXPECT_EQ(index->find(kValue.substr(1)), nullptr);
  EXPECT_EQ(index->find(""), nullptr);
  EXPECT_EQ(index->size(), 1u);
}

TEST(OpaqueKeyIndexTest, PutUnderANewHashDropsTheOldValue) {
  auto index = makeIndex();
  index->put(testHash("old-value-1"), entry());
  index->put(testHash("new-value-2"), entry());  // regenerate: same id, new hash
  EXPECT_EQ(index->find("old-value-1"), nullptr);
  ASSERT_NE(index->find("new-value-2"), nullptr);
  EXPECT_EQ(index->size(), 1u);
}

TEST(OpaqueKeyIndexTest, MarkRevokedKeepsTheEntry) {
  auto index = makeIndex();
  index->put(testHash(kValue), entry());
  auto before = index->find(kValue);
  index->markRevoked("k1");
  index->markRevoked("unknown");  // ignored
  auto after = index->find(kValue);
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(after->revoked);
  EXPECT_FALSE(before->revoked);  // a reader's snapshot never changes under it
}

TEST(OpaqueKeyIndexTest, Subscriptions) {
  auto index = makeIndex();
  index->addSubscription("app1", "PizzaShackAPI", "1.0.0");
  EXPECT_TRUE(index->isSubscribed("app1", "PizzaShackAPI", "1.0.0"));
  EXPECT_FALSE(index->isSubscribed("app1", "PizzaShackAPI", "1.0.1"));
  EXPECT_FALSE(index->isSubscribed("app2", "PizzaShackAPI", "1.0.0"));
  // The joined key cannot be forged by moving characters between the parts.
  EXPECT_FALSE(index->isSubscribed("app1PizzaShackAPI", "", "1.0.0"));
  index->removeSubscription("app1", "PizzaShackAPI", "1.0.0");
  EXPECT_FALSE(index->isSubscribed("app1", "PizzaShackAPI", "1.0.0"));
}

TEST(OpaqueKeyIndexTest, RemovingAnApplicationDissociatesItsKeysAndDropsItsSubscriptions) {
  auto index = makeIndex();
  auto e = entry();
  e.applicationId = "app1";
  index->put(testHash(kValue), e);
  auto other = entry("k2");
  other.applicationId = "app10";  // shares a prefix with app1
  index->put(testHash("other-value"), other);
  index->addSubscription("app1", "PizzaShackAPI", "1.0.0");
  index->addSubscription("app10", "PizzaShackAPI", "1.0.0");
  index->removeApplication("app1");
  EXPECT_FALSE(index->find(kValue)->applicationId.has_value());
  EXPECT_EQ(index->find("other-value")->applicationId, "app10");
  EXPECT_FALSE(index->isSubscribed("app1", "PizzaShackAPI", "1.0.0"));
  EXPECT_TRUE(index->isSubscribed("app10", "PizzaShackAPI", "1.0.0"));
}

TEST(OpaqueKeyIndexTest, ApplicationTiers) {
  auto index = makeIndex();
  EXPECT_EQ(index->applicationTier("app1"), "");  // unknown: counts as Unlimited
  index->putApplication("app1", "10PerMin");
  index->putApplication("app10", "20PerMin");
  EXPECT_EQ(index->applicationTier("app1"), "10PerMin");
  index->removeApplication("app1");
  EXPECT_EQ(index->applicationTier("app1"), "");
  EXPECT_EQ(index->applicationTier("app10"), "20PerMin");
  index->replaceAll({}, {}, {{"app2", "50PerMin"}});
  EXPECT_EQ(index->applicationTier("app10"), "");
  EXPECT_EQ(index->applicationTier("app2"), "50PerMin");
}

TEST(OpaqueKeyIndexTest, ReplaceAll) {
  auto index = makeIndex();
  index->put(testHash("gone-value"), entry("gone"));
  index->replaceAll({{testHash(kValue), entry()}}, {{"app1", "PizzaShackAPI", "1.0.0"}});
  EXPECT_EQ(index->find("gone-value"), nullptr);
  EXPECT_NE(index->find(kValue), nullptr);
  EXPECT_TRUE(index->isSubscribed("app1", "PizzaShackAPI", "1.0.0"));
  EXPECT_EQ(index->size(), 1u);
  EXPECT_EQ(index->subscriptionCount(), 1u);
}

TEST(OpaqueKeyIndexTest, ConcurrentReadersAndWriters) {
  auto index = makeIndex();
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  std::atomic<long> found{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        if (auto e = index->find("value-0")) found += e->id == "k0";
        (void)index->isSubscribed("app", "PizzaShackAPI", "1.0.0");
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    index->put(testHash("value-" + std::to_string(i % 7)), entry("k" + std::to_string(i % 7)));
    if (i % 3 == 0) index->markRevoked("k" + std::to_string(i % 7));
    index->addSubscription("app", "PizzaShackAPI", "1.0.0");
    index->removeSubscription("app", "PizzaShackAPI", "1.0.0");
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(index->size(), 7u);
}

TEST(OpaqueKeyIndexTest, RestrictionsAreCompiledWhenTheEntryIsIndexed) {
  auto index = makeIndex();
  OpaqueKeyEntry e = entry();
  e.permittedIp = "192.0.2.0/24";
  e.permittedReferer = "https://shop.example/*";
  index->put(testHash(kValue), e);
  auto found = index->find(kValue);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->restrictions.ip);
  EXPECT_TRUE(found->restrictions.ip->matches("192.0.2.9"));
  ASSERT_TRUE(found->restrictions.referer);
  EXPECT_TRUE(found->restrictions.referer->matches("https://shop.example/a"));
  index->markRevoked(found->id);  // a copy keeps them
  EXPECT_TRUE(index->find(kValue)->restrictions.ip);
}

}  // namespace
}  // namespace mgw::store

namespace mgw::store {
namespace {

// Issue 26: subscriptions are per plan; a plan-less one counts for the API's first plan; the
// shared key covers an API only through a subscription it serves; unsubscribing without a plan
// drops every plan of the API.
TEST(OpaqueKeyIndexTest, SubscriptionsArePerPlanAndSharedKeyCoverageFollowsThem) {
  using PS = OpaqueKeyIndex::PlanSubscription;
  auto index = makeIndex();
  index->addSubscription("app", "Tiered", "1.0.0", "gold", true);
  index->addSubscription("app", "Tiered", "1.0.0", "silver", false);
  EXPECT_EQ(index->planSubscription("app", "Tiered", "1.0.0", "gold", true), PS::kSharedKey);
  EXPECT_EQ(index->planSubscription("app", "Tiered", "1.0.0", "silver", false), PS::kOwnKey);
  EXPECT_EQ(index->planSubscription("app", "Tiered", "1.0.0", "bronze", false), PS::kNone);
  EXPECT_EQ(index->planSubscription("app", "Tiered", "1.0.1", "gold", true), PS::kNone);
  EXPECT_EQ(index->planSubscription("other", "Tiered", "1.0.0", "gold", true), PS::kNone);
  EXPECT_TRUE(index->sharedKeyCovers("app", "Tiered", "1.0.0"));
  EXPECT_EQ(index->subscriptionCount(), 2u);

  index->removeSubscription("app", "Tiered", "1.0.0", std::string("gold"));
  EXPECT_FALSE(index->sharedKeyCovers("app", "Tiered", "1.0.0"));
  EXPECT_TRUE(index->isSubscribed("app", "Tiered", "1.0.0"));
  index->removeSubscription("app", "Tiered", "1.0.0");  // every plan
  EXPECT_FALSE(index->isSubscribed("app", "Tiered", "1.0.0"));
  EXPECT_EQ(index->subscriptionCount(), 0u);

  // A subscription stored before plans ("") counts for the first plan only.
  index->replaceAll({}, {{"app", "Menu", "1.0.0", "", false}});
  EXPECT_EQ(index->planSubscription("app", "Menu", "1.0.0", "gold", true), PS::kOwnKey);
  EXPECT_EQ(index->planSubscription("app", "Menu", "1.0.0", "silver", false), PS::kNone);
  EXPECT_FALSE(index->sharedKeyCovers("app", "Menu", "1.0.0"));
  index->removeApplication("app");
  EXPECT_EQ(index->planSubscription("app", "Menu", "1.0.0", "gold", true), PS::kNone);
}

}  // namespace
}  // namespace mgw::store
