#include "store/revocation_list.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mgw::store {
namespace {

TEST(RevocationListTest, RevokedByJti) {
  RevocationList list;
  EXPECT_FALSE(list.isRevoked("j1", "alice", 100));
  list.revokeJti("j1", 2000);
  EXPECT_TRUE(list.isRevoked("j1", "alice", 100));
  EXPECT_TRUE(list.isRevoked("j1", "", 0));
  EXPECT_FALSE(list.isRevoked("j2", "alice", 100));
  EXPECT_EQ(list.size(), 1u);
}

TEST(RevocationListTest, EmptyJtiNeverRevokesEverything) {
  RevocationList list;
  list.revokeJti("", 2000);
  EXPECT_EQ(list.size(), 0u);
  EXPECT_FALSE(list.isRevoked("", "alice", 1));
}

TEST(RevocationListTest, SubjectWatermarkCoversIatAtOrBefore) {
  RevocationList list;
  list.setSubjectWatermark("alice", 1000);
  EXPECT_TRUE(list.isRevoked("any", "alice", 999));
  EXPECT_TRUE(list.isRevoked("any", "alice", 1000));  // same second: revoked (see header)
  EXPECT_FALSE(list.isRevoked("any", "alice", 1001));
  EXPECT_FALSE(list.isRevoked("any", "bob", 10));
  EXPECT_FALSE(list.isRevoked("any", "", 10));
}

TEST(RevocationListTest, WatermarkOnlyRises) {
  RevocationList list;
  list.setSubjectWatermark("alice", 1000);
  list.setSubjectWatermark("alice", 500);
  EXPECT_TRUE(list.isRevoked("x", "alice", 900));
  list.setSubjectWatermark("alice", 2000);
  EXPECT_TRUE(list.isRevoked("x", "alice", 1500));
  EXPECT_EQ(list.size(), 1u);
}

TEST(RevocationListTest, PurgeDropsOnlyExpiredJtis) {
  RevocationList list;
  list.revokeJti("old", 100);
  list.revokeJti("new", 300);
  list.revokeJti("forever", 0);
  list.setSubjectWatermark("alice", 50);
  list.purgeExpired(200);
  EXPECT_FALSE(list.isRevoked("old", "", 0));
  EXPECT_TRUE(list.isRevoked("new", "", 0));
  EXPECT_TRUE(list.isRevoked("forever", "", 0));
  EXPECT_TRUE(list.isRevoked("x", "alice", 10));
  EXPECT_EQ(list.size(), 3u);
  list.purgeExpired(300);  // exp itself is still a valid second
  EXPECT_TRUE(list.isRevoked("new", "", 0));
}

TEST(RevocationListTest, SecondRevokeDoesNotShortenLife) {
  RevocationList list;
  list.revokeJti("j", 0);
  list.revokeJti("j", 100);
  list.purgeExpired(1000);
  EXPECT_TRUE(list.isRevoked("j", "", 0));
  list.revokeJti("k", 100);
  list.revokeJti("k", 500);
  list.purgeExpired(200);
  EXPECT_TRUE(list.isRevoked("k", "", 0));
}

TEST(RevocationListTest, ClearEmpties) {
  RevocationList list;
  list.revokeJti("j", 0);
  list.setSubjectWatermark("s", 1);
  list.clear();
  EXPECT_EQ(list.size(), 0u);
}

TEST(RevocationListTest, ConcurrentReadersAndWriters) {
  RevocationList list;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&list, t] {
      for (int i = 0; i < 1000; ++i) {
        list.revokeJti("j" + std::to_string(t) + "-" + std::to_string(i), 10 + i);
        (void)list.isRevoked("j0-1", "s", i);
        if (i % 100 == 0) list.purgeExpired(5);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(list.size(), 4000u);
  EXPECT_TRUE(list.isRevoked("j3-999", "", 0));
}

}  // namespace
}  // namespace mgw::store
