#include "store/opaque_key_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "store/application_store.h"
#include "store_test_util.h"

namespace mgw::store {
namespace {

using testing::TempDir;

constexpr int64_t kNow = 1800000000;

class OpaqueKeyStoreTest : public ::testing::Test {
 protected:
  static NewOpaqueKey pizzaKey(const std::string& owner = "alice") {
    NewOpaqueKey key;
    key.name = "my key";
    key.owner = owner;
    key.apiName = "PizzaShackAPI";
    key.apiVersion = "1.0.0";
    key.keyType = KeyType::kProduction;
    key.createdAt = kNow;
    return key;
  }

  TempDir dir_;
  std::string path_ = dir_.file("micro-gw.db");
  KeyHasher hasher_{std::string(KeyHasher::kSecretBytes, 's')};
};

TEST(KeyTypeTest, NamesRoundTrip) {
  EXPECT_EQ(keyTypeName(KeyType::kProduction), "PRODUCTION");
  EXPECT_EQ(keyTypeName(KeyType::kSandbox), "SANDBOX");
  EXPECT_EQ(parseKeyType("SANDBOX"), KeyType::kSandbox);
  EXPECT_EQ(parseKeyType("PRODUCTION"), KeyType::kProduction);
  EXPECT_EQ(parseKeyType("sandbox"), std::nullopt);
  EXPECT_EQ(parseKeyType(""), std::nullopt);
}

TEST_F(OpaqueKeyStoreTest, CreateStoresEveryFieldAndOnlyTheHash) {
  Database db(path_);
  ApplicationStore apps(db);
  OpaqueKeyStore store(db, hasher_);
  StoreResult<ApplicationRecord> app = apps.create("web", "alice", kNow);
  ASSERT_TRUE(app.ok());

  NewOpaqueKey spec = pizzaKey();
  spec.keyType = KeyType::kSandbox;
  spec.expiresAt = kNow + 86400;
  spec.permittedIp = "192.168.1.2, 152.12.0.0/13";
  spec.permittedReferer = "*.example.com/*";
  spec.applicationId = app.value.id;
  spec.tier = "Bronze";
  std::string value = generateOpaqueKey();
  StoreResult<OpaqueKeyRecord> created = store.create(spec, value);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created.value.id.size(), 36u);
  EXPECT_EQ(created.value.keyHash, hasher_.hash(value));
  EXPECT_EQ(created.value.lastFour, value.substr(value.size() - 4));

  StoreResult<OpaqueKeyRecord> got = store.get(created.value.id);
  ASSERT_TRUE(got.ok());
  const OpaqueKeyRecord& r = got.value;
  EXPECT_EQ(r.id, created.value.id);
  EXPECT_EQ(r.name, "my key");
  EXPECT_EQ(r.owner, "alice");
  EXPECT_EQ(r.apiName, "PizzaShackAPI");
  EXPECT_EQ(r.apiVersion, "1.0.0");
  EXPECT_EQ(r.keyType, KeyType::kSandbox);
  EXPECT_EQ(r.keyHash, hasher_.hash(value));
  EXPECT_EQ(r.lastFour, created.value.lastFour);
  EXPECT_EQ(r.createdAt, kNow);
  EXPECT_EQ(r.expiresAt, kNow + 86400);
  EXPECT_EQ(r.permittedIp, "192.168.1.2, 152.12.0.0/13");
  EXPECT_EQ(r.permittedReferer, "*.example.com/*");
  EXPECT_EQ(r.applicationId, app.value.id);
  EXPECT_FALSE(r.revoked);
  EXPECT_EQ(r.revokedAt, 0);
  EXPECT_EQ(r.tier, "Bronze");
  EXPECT_EQ(created.value.tier, "Bronze");
  // No tier asked for: Unlimited.
  StoreResult<OpaqueKeyRecord> plain = store.create(pizzaKey(), generateOpaqueKey());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(store.get(plain.value.id).value.tier, "Unlimited");

  StoreResult<OpaqueKeyRecord> found = store.findByValue(value);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value.id, r.id);
  EXPECT_EQ(store.findByValue(value + "x").failure, Failure::kNotFound);
  EXPECT_EQ(store.get("no-such-id").failure, Failure::kNotFound);
}

TEST_F(OpaqueKeyStoreTest, DuplicateCustomKeyIsAConflictForAnyOwner) {
  Database db(path_);
  OpaqueKeyStore store(db, hasher_);
  ASSERT_TRUE(store.create(pizzaKey("alice"), "my-custom-key-1").ok());
  EXPECT_EQ(store.create(pizzaKey("alice"), "my-custom-key-1").failure, Failure::kConflict);
  EXPECT_EQ(store.create(pizzaKey("bob"), "my-custom-key-1").failure, Failure::kConflict);
  EXPECT_TRUE(store.create(pizzaKey("bob"), "my-custom-key-2").ok());
  EXPECT_EQ(store.loadAll().value.size(), 2u);
}

TEST_F(OpaqueKeyStoreTest, InvalidValuesAndUnknownApplicationsAreRefused) {
  Database db(path_);
  OpaqueKeyStore store(db, hasher_);
  EXPECT_EQ(store.create(pizzaKey(), "short").failure, Failure::kBadRequestBody);
  EXPECT_EQ(store.create(pizzaKey(), "has/slash-in-it").failure, Failure::kBadRequestBody);
  NewOpaqueKey spec = pizzaKey();
  spec.applicationId = "no-such-application";
  EXPECT_EQ(store.create(spec, generateOpaqueKey()).failure, Failure::kNotFound);
  EXPECT_TRUE(store.loadAll().value.empty());
}

TEST_F(OpaqueKeyStoreTest, RegenerateReplacesTheValueAndKeepsIdentityAndAssociation) {
  Database db(path_);
  ApplicationStore apps(db);
  OpaqueKeyStore store(db, hasher_);
  std::string appId = apps.create("web", "alice", kNow).value.id;
  NewOpaqueKey spec = pizzaKey();
  spec.applicationId = appId;
  spec.permittedIp = "10.0.0.1";
  std::string oldValue = generateOpaqueKey();
  OpaqueKeyRecord original = store.create(spec, oldValue).value;

  std::string newValue = generateOpaqueKey();
  StoreResult<OpaqueKeyRecord> regenerated = store.regenerate(original.id, newValue);
  ASSERT_TRUE(regenerated.ok());
  EXPECT_EQ(regenerated.value.id, original.id);
  EXPECT_EQ(regenerated.value.keyHash, hasher_.hash(newValue));
  EXPECT_EQ(regenerated.value.lastFour, lastFourOf(newValue));

  OpaqueKeyRecord stored = store.get(original.id).value;
  EXPECT_EQ(stored.keyHash, hasher_.hash(newValue));
  EXPECT_EQ(stored.applicationId, appId);
  EXPECT_EQ(stored.permittedIp, "10.0.0.1");
  EXPECT_EQ(stored.createdAt, original.createdAt);
  EXPECT_EQ(store.findByValue(oldValue).failure,
            Failure::kNotFound);  // the old value fails at once
  EXPECT_EQ(store.findByValue(newValue).value.id, original.id);
  EXPECT_EQ(store.regenerate("no-such-id", generateOpaqueKey()).failure, Failure::kNotFound);
  EXPECT_EQ(store.regenerate(original.id, "bad").failure, Failure::kBadRequestBody);
}

TEST_F(OpaqueKeyStoreTest, RegenerateOntoAValueInUseFailsAndChangesNothing) {
  Database db(path_);
  OpaqueKeyStore store(db, hasher_);
  OpaqueKeyRecord a = store.create(pizzaKey(), "value-of-key-a").value;
  ASSERT_TRUE(store.create(pizzaKey(), "value-of-key-b").ok());
  // The UPDATE hits the unique constraint inside the transaction: nothing is half-applied.
  EXPECT_EQ(store.regenerate(a.id, "value-of-key-b").failure, Failure::kConflict);
  OpaqueKeyRecord after = store.get(a.id).value;
  EXPECT_EQ(after.keyHash, hasher_.hash("value-of-key-a"));
  EXPECT_EQ(after.lastFour, "ey-a");
}

TEST_F(OpaqueKeyStoreTest, RevokeIsDurableIdempotentAndFinal) {
  std::string id;
  std::string value = generateOpaqueKey();
  {
    Database db(path_);
    OpaqueKeyStore store(db, hasher_);
    id = store.create(pizzaKey(), value).value.id;
    EXPECT_EQ(store.revoke(id, kNow + 5), Failure::kNone);
    EXPECT_EQ(store.revoke(id, kNow + 9), Failure::kNone);  // idempotent, keeps the first time
    EXPECT_EQ(store.revoke("no-such-id", kNow), Failure::kNotFound);
  }
  Database db(path_);
  OpaqueKeyStore store(db, hasher_);
  OpaqueKeyRecord r = store.get(id).value;
  EXPECT_TRUE(r.revoked);
  EXPECT_EQ(r.revokedAt, kNow + 5);
  // Still known (the gateway answers "revoked", not "unknown"), never reusable, never revived.
  EXPECT_TRUE(store.findByValue(value).value.revoked);
  EXPECT_EQ(store.create(pizzaKey(), value).failure, Failure::kConflict);
  EXPECT_EQ(store.regenerate(id, generateOpaqueKey()).failure, Failure::kConflict);
  std::vector<OpaqueKeyRecord> all = store.loadAll().value;
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].revoked);
}

TEST_F(OpaqueKeyStoreTest, ListByOwnerSeesOnlyThatOwnersKeys) {
  Database db(path_);
  OpaqueKeyStore store(db, hasher_);
  ASSERT_TRUE(store.create(pizzaKey("alice"), generateOpaqueKey()).ok());
  ASSERT_TRUE(store.create(pizzaKey("alice"), generateOpaqueKey()).ok());
  ASSERT_TRUE(store.create(pizzaKey("bob"), generateOpaqueKey()).ok());
  std::vector<OpaqueKeyRecord> alice = store.listByOwner("alice").value;
  EXPECT_EQ(alice.size(), 2u);
  for (const OpaqueKeyRecord& r : alice) EXPECT_EQ(r.owner, "alice");
  EXPECT_EQ(store.listByOwner("bob").value.size(), 1u);
  EXPECT_TRUE(store.listByOwner("carol").value.empty());
  EXPECT_EQ(store.listAll().value.size(), 3u);
}

TEST_F(OpaqueKeyStoreTest, AssociateAndDissociateApplication) {
  Database db(path_);
  ApplicationStore apps(db);
  OpaqueKeyStore store(db, hasher_);
  std::string appId = apps.create("web", "alice", kNow).value.id;
  std::string id = store.create(pizzaKey(), generateOpaqueKey()).value.id;
  EXPECT_EQ(store.associateApplication(id, appId), Failure::kNone);
  EXPECT_EQ(store.get(id).value.applicationId, appId);
  EXPECT_EQ(store.associateApplication(id, "no-such-app"), Failure::kNotFound);
  EXPECT_EQ(store.get(id).value.applicationId, appId);  // unchanged
  EXPECT_EQ(store.associateApplication("no-such-key", appId), Failure::kNotFound);
  EXPECT_EQ(store.dissociateApplication(id), Failure::kNone);
  EXPECT_EQ(store.get(id).value.applicationId, std::nullopt);
  EXPECT_EQ(store.dissociateApplication(id), Failure::kNone);
  EXPECT_EQ(store.dissociateApplication("no-such-key"), Failure::kNotFound);
  ASSERT_EQ(store.revoke(id, kNow), Failure::kNone);
  EXPECT_EQ(store.associateApplication(id, appId), Failure::kConflict);
}

bool containsBytes(const std::string& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

std::string allDatabaseBytes(const std::string& path) {
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    if (std::filesystem::exists(path + suffix)) bytes += testing::readBytes(path + suffix);
  }
  return bytes;
}

TEST_F(OpaqueKeyStoreTest, TheDatabaseFilesNeverContainAKeyValue) {
  std::string generated = generateOpaqueKey();
  std::string custom = "Custom-Key.Value_With!Marks";
  std::string regenerated = generateOpaqueKey();
  {
    Database db(path_);
    OpaqueKeyStore store(db, hasher_);
    ASSERT_TRUE(store.create(pizzaKey(), generated).ok());
    std::string id = store.create(pizzaKey(), custom).value.id;
    ASSERT_TRUE(store.regenerate(id, regenerated).ok());

    // While open: the rows are in the WAL.
    std::string bytes = allDatabaseBytes(path_);
    ASSERT_GT(bytes.size(), 0u);
    EXPECT_TRUE(containsBytes(bytes, hasher_.hash(generated)));  // the check can see stored data
    for (const std::string& value : {generated, custom, regenerated}) {
      EXPECT_FALSE(containsBytes(bytes, value)) << "key value found in the open database files";
    }
  }
  // After close: checkpointed into the main file.
  std::string bytes = allDatabaseBytes(path_);
  EXPECT_TRUE(containsBytes(bytes, hasher_.hash(regenerated)));
  for (const std::string& value : {generated, custom, regenerated}) {
    EXPECT_FALSE(containsBytes(bytes, value)) << "key value found in the closed database files";
  }
}

TEST_F(OpaqueKeyStoreTest, ConcurrentCreatorsAllLand) {
  Database db(path_);
  OpaqueKeyStore store(db, hasher_);
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        StoreResult<OpaqueKeyRecord> r =
            store.create(pizzaKey("user" + std::to_string(t)), generateOpaqueKey());
        if (!r.ok()) ++failures;
        if (i % 5 == 0 && store.revoke(r.value.id, kNow) != Failure::kNone) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  Database reopened(path_);
  OpaqueKeyStore again(reopened, hasher_);
  std::vector<OpaqueKeyRecord> all = again.loadAll().value;
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  std::set<std::string> ids;
  for (const OpaqueKeyRecord& r : all) ids.insert(r.id);
  EXPECT_EQ(ids.size(), all.size());
  EXPECT_EQ(
      std::count_if(all.begin(), all.end(), [](const OpaqueKeyRecord& r) { return r.revoked; }),
      kThreads * kEach / 5);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(again.listByOwner("user" + std::to_string(t)).value.size(),
              static_cast<size_t>(kEach));
  }
}

}  // namespace
}  // namespace mgw::store
