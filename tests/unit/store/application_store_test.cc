#include "store/application_store.h"

#include <gtest/gtest.h>

#include "store/opaque_key_store.h"
#include "store_test_util.h"

namespace mgw::store {
namespace {

using testing::TempDir;

constexpr int64_t kNow = 1800000000;

class ApplicationStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("micro-gw.db");
};

TEST_F(ApplicationStoreTest, CreateGetAndList) {
  Database db(path_);
  ApplicationStore apps(db);
  StoreResult<ApplicationRecord> web = apps.create("web", "alice", kNow);
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web.value.id.size(), 36u);
  EXPECT_EQ(web.value.name, "web");
  EXPECT_EQ(web.value.owner, "alice");
  EXPECT_EQ(web.value.createdAt, kNow);
  ASSERT_TRUE(apps.create("mobile", "alice", kNow + 1).ok());
  ASSERT_TRUE(apps.create("web", "bob", kNow).ok());  // names are unique per owner only

  StoreResult<ApplicationRecord> got = apps.get(web.value.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value.name, "web");
  EXPECT_EQ(got.value.owner, "alice");
  EXPECT_EQ(got.value.createdAt, kNow);
  EXPECT_EQ(apps.get("no-such-app").failure, Failure::kNotFound);

  std::vector<ApplicationRecord> alice = apps.listByOwner("alice").value;
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].name, "web");  // oldest first
  EXPECT_EQ(alice[1].name, "mobile");
  EXPECT_EQ(apps.listByOwner("bob").value.size(), 1u);
  EXPECT_EQ(apps.listAll().value.size(), 3u);
  EXPECT_EQ(got.value.tier, "Unlimited");  // none asked for
}

TEST_F(ApplicationStoreTest, TierIsStoredAndListed) {
  Database db(path_);
  ApplicationStore apps(db);
  StoreResult<ApplicationRecord> app = apps.create("limited", "alice", kNow, "10PerMin");
  ASSERT_TRUE(app.ok());
  EXPECT_EQ(app.value.tier, "10PerMin");
  EXPECT_EQ(apps.get(app.value.id).value.tier, "10PerMin");
  ASSERT_EQ(apps.listAll().value.size(), 1u);
  EXPECT_EQ(apps.listAll().value[0].tier, "10PerMin");
}

TEST_F(ApplicationStoreTest, DuplicateNameForTheSameOwnerIsAConflict) {
  Database db(path_);
  ApplicationStore apps(db);
  ASSERT_TRUE(apps.create("web", "alice", kNow).ok());
  EXPECT_EQ(apps.create("web", "alice", kNow).failure, Failure::kConflict);
  EXPECT_EQ(apps.listAll().value.size(), 1u);
}

TEST_F(ApplicationStoreTest, SubscribeCheckAndUnsubscribe) {
  Database db(path_);
  ApplicationStore apps(db);
  std::string id = apps.create("web", "alice", kNow).value.id;
  EXPECT_FALSE(apps.isSubscribed(id, "PizzaShackAPI", "1.0.0").value);
  EXPECT_EQ(apps.subscribe(id, "PizzaShackAPI", "1.0.0", kNow), Failure::kNone);
  EXPECT_EQ(apps.subscribe(id, "PizzaShackAPI", "1.0.0", kNow), Failure::kConflict);
  EXPECT_EQ(apps.subscribe(id, "PizzaShackAPI", "2.0.0", kNow), Failure::kNone);
  EXPECT_EQ(apps.subscribe("no-such-app", "PizzaShackAPI", "1.0.0", kNow), Failure::kNotFound);

  StoreResult<bool> subscribed = apps.isSubscribed(id, "PizzaShackAPI", "1.0.0");
  ASSERT_TRUE(subscribed.ok());
  EXPECT_TRUE(subscribed.value);
  EXPECT_FALSE(apps.isSubscribed(id, "PizzaShackAPI", "3.0.0").value);
  EXPECT_FALSE(apps.isSubscribed(id, "pizzashackapi", "1.0.0").value);  // exact names

  std::vector<SubscriptionRecord> subs = apps.listSubscriptions(id).value;
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].applicationId, id);
  EXPECT_EQ(subs[0].apiName, "PizzaShackAPI");
  EXPECT_EQ(subs[0].apiVersion, "1.0.0");
  EXPECT_EQ(subs[0].createdAt, kNow);
  EXPECT_EQ(apps.listSubscriptions("no-such-app").failure, Failure::kNotFound);

  EXPECT_EQ(apps.unsubscribe(id, "PizzaShackAPI", "1.0.0"), Failure::kNone);
  EXPECT_EQ(apps.unsubscribe(id, "PizzaShackAPI", "1.0.0"), Failure::kNotFound);
  EXPECT_FALSE(apps.isSubscribed(id, "PizzaShackAPI", "1.0.0").value);
  EXPECT_TRUE(apps.isSubscribed(id, "PizzaShackAPI", "2.0.0").value);
}

TEST_F(ApplicationStoreTest, LoadAllSubscriptionsSurvivesReopen) {
  {
    Database db(path_);
    ApplicationStore apps(db);
    std::string a = apps.create("a", "alice", kNow).value.id;
    std::string b = apps.create("b", "bob", kNow).value.id;
    ASSERT_EQ(apps.subscribe(a, "Api", "v1", kNow), Failure::kNone);
    ASSERT_EQ(apps.subscribe(b, "Api", "v1", kNow), Failure::kNone);
    ASSERT_EQ(apps.subscribe(b, "Other", "v2", kNow), Failure::kNone);
  }
  Database db(path_);
  ApplicationStore apps(db);
  StoreResult<std::vector<SubscriptionRecord>> all = apps.loadAllSubscriptions();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all.value.size(), 3u);
}

TEST_F(ApplicationStoreTest, RemoveDeletesSubscriptionsAndDissociatesKeys) {
  Database db(path_);
  ApplicationStore apps(db);
  KeyHasher hasher(std::string(KeyHasher::kSecretBytes, 'h'));
  OpaqueKeyStore keys(db, hasher);
  std::string doomed = apps.create("doomed", "alice", kNow).value.id;
  std::string kept = apps.create("kept", "alice", kNow).value.id;
  ASSERT_EQ(apps.subscribe(doomed, "Api", "v1", kNow), Failure::kNone);
  ASSERT_EQ(apps.subscribe(kept, "Api", "v1", kNow), Failure::kNone);
  NewOpaqueKey spec;
  spec.name = "k";
  spec.owner = "alice";
  spec.apiName = "Api";
  spec.apiVersion = "v1";
  spec.createdAt = kNow;
  spec.applicationId = doomed;
  std::string keyOfDoomed = keys.create(spec, generateOpaqueKey()).value.id;
  spec.applicationId = kept;
  std::string keyOfKept = keys.create(spec, generateOpaqueKey()).value.id;

  EXPECT_EQ(apps.remove(doomed), Failure::kNone);
  EXPECT_EQ(apps.get(doomed).failure, Failure::kNotFound);
  EXPECT_EQ(apps.remove(doomed), Failure::kNotFound);
  EXPECT_FALSE(apps.isSubscribed(doomed, "Api", "v1").value);
  std::vector<SubscriptionRecord> left = apps.loadAllSubscriptions().value;
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].applicationId, kept);

  StoreResult<OpaqueKeyRecord> dissociated = keys.get(keyOfDoomed);
  ASSERT_TRUE(dissociated.ok());  // the key itself stays
  EXPECT_EQ(dissociated.value.applicationId, std::nullopt);
  EXPECT_FALSE(dissociated.value.revoked);
  EXPECT_EQ(keys.get(keyOfKept).value.applicationId, kept);
}

}  // namespace
}  // namespace mgw::store
