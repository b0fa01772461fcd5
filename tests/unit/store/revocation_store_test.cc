#include "store/revocation_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace mgw::store {
namespace {

using testing::TempDir;

constexpr int64_t kNow = 1800000000;

class RevocationStoreTest : public ::testing::Test {
 protected:
  static RevocationSnapshot load(Database& db) {
    RevocationStore store(db);
    StoreResult<RevocationSnapshot> result = store.loadAll();
    EXPECT_TRUE(result.ok());
    return result.value;
  }

  TempDir dir_;
  std::string path_ = dir_.file("micro-gw.db");
};

TEST_F(RevocationStoreTest, RevokedJtiIsLoaded) {
  Database db(path_);
  RevocationStore store(db);
  EXPECT_EQ(load(db).jtis.size(), 0u);
  EXPECT_EQ(store.revokeJti("jti-1", "alice", kNow + 3600, "admin", kNow), Failure::kNone);
  RevocationSnapshot snapshot = load(db);
  EXPECT_EQ(snapshot.jtis.count("jti-1"), 1u);
  EXPECT_EQ(snapshot.jtis.size(), 1u);
}

TEST_F(RevocationStoreTest, RevocationsSurviveReopen) {
  {
    Database db(path_);
    RevocationStore store(db);
    ASSERT_EQ(store.revokeJti("jti-1", "alice", 0, "alice", kNow), Failure::kNone);
    ASSERT_EQ(store.revokeSubjectBefore("bob", kNow - 10, "admin", kNow), Failure::kNone);
  }
  Database db(path_);
  RevocationSnapshot snapshot = load(db);
  EXPECT_EQ(snapshot.jtis.count("jti-1"), 1u);
  EXPECT_EQ(snapshot.subjectIssuedBefore.at("bob"), kNow - 10);
}

TEST_F(RevocationStoreTest, WatermarkKeepsTheMaximum) {
  Database db(path_);
  RevocationStore store(db);
  ASSERT_EQ(store.revokeSubjectBefore("bob", 1000, "admin", kNow), Failure::kNone);
  ASSERT_EQ(store.revokeSubjectBefore("bob", 500, "admin", kNow),
            Failure::kNone);  // never moves back
  EXPECT_EQ(load(db).subjectIssuedBefore.at("bob"), 1000);
  ASSERT_EQ(store.revokeSubjectBefore("bob", 2000, "bob", kNow), Failure::kNone);
  EXPECT_EQ(load(db).subjectIssuedBefore.at("bob"), 2000);
  EXPECT_EQ(load(db).subjectIssuedBefore.size(), 1u);
}

TEST_F(RevocationStoreTest, PurgeDropsOnlyJtisWhoseKeyHasExpired) {
  Database db(path_);
  RevocationStore store(db);
  ASSERT_EQ(store.revokeJti("expired", "alice", kNow - 1, "alice", kNow - 100), Failure::kNone);
  ASSERT_EQ(store.revokeJti("expires-now", "alice", kNow, "alice", kNow - 100), Failure::kNone);
  ASSERT_EQ(store.revokeJti("later", "alice", kNow + 1, "alice", kNow - 100), Failure::kNone);
  ASSERT_EQ(store.revokeJti("never", "alice", 0, "alice", kNow - 100), Failure::kNone);
  ASSERT_EQ(store.revokeSubjectBefore("alice", 10, "admin", kNow - 100), Failure::kNone);

  StoreResult<int64_t> purged = store.purgeExpired(kNow);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(purged.value, 1);
  RevocationSnapshot snapshot = load(db);
  EXPECT_EQ(snapshot.jtis.count("expired"), 0u);
  EXPECT_EQ(snapshot.jtis.count("expires-now"), 1u);  // still inside its last second
  EXPECT_EQ(snapshot.jtis.count("later"), 1u);
  EXPECT_EQ(snapshot.jtis.count("never"), 1u);
  EXPECT_EQ(snapshot.subjectIssuedBefore.count("alice"), 1u);  // watermarks are kept

  EXPECT_EQ(store.purgeExpired(kNow).value, 0);
  EXPECT_EQ(store.purgeExpired(kNow + 2).value, 2);
  EXPECT_EQ(load(db).jtis.size(), 1u);  // only "never"
}

TEST_F(RevocationStoreTest, RepeatedRevocationKeepsTheLongerLife) {
  Database db(path_);
  RevocationStore store(db);
  ASSERT_EQ(store.revokeJti("j", "alice", kNow + 10, "alice", kNow), Failure::kNone);
  ASSERT_EQ(store.revokeJti("j", "alice", kNow + 5, "alice", kNow), Failure::kNone);
  EXPECT_EQ(store.purgeExpired(kNow + 8).value, 0);  // the later expiry was kept
  ASSERT_EQ(store.revokeJti("j", "alice", 0, "admin", kNow), Failure::kNone);
  EXPECT_EQ(store.purgeExpired(kNow + 1000000).value, 0);  // "never" wins
  ASSERT_EQ(store.revokeJti("j", "alice", kNow + 20, "alice", kNow), Failure::kNone);
  EXPECT_EQ(store.purgeExpired(kNow + 1000000).value, 0);  // and is not undone
  EXPECT_EQ(load(db).jtis.size(), 1u);
}

TEST_F(RevocationStoreTest, ConcurrentRevokersAllLand) {
  Database db(path_);
  RevocationStore store(db);
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string jti = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (store.revokeJti(jti, "user" + std::to_string(t), kNow + i, "admin", kNow) !=
            Failure::kNone)
          ++failures;
        if (store.revokeSubjectBefore("user" + std::to_string(t), kNow + i, "admin", kNow) !=
            Failure::kNone) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  Database reopened(path_);
  RevocationSnapshot snapshot = load(reopened);
  EXPECT_EQ(snapshot.jtis.size(), static_cast<size_t>(kThreads * kEach));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(snapshot.subjectIssuedBefore.at("user" + std::to_string(t)), kNow + kEach - 1);
  }
}

}  // namespace
}  // namespace mgw::store
