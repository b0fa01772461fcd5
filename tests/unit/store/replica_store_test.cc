#include "store/replica_store.h"

#include <gtest/gtest.h>

#include "store/application_store.h"
#include "store/revocation_store.h"
#include "store_test_util.h"

namespace mgw::store {
namespace {

using testing::TempDir;

class ReplicaStoreTest : public ::testing::Test {
 protected:
  // A record as another node made it: same secret, so the hash is what this node computes.
  OpaqueKeyRecord remoteKey(const std::string& value) {
    OpaqueKeyRecord r;
    r.id = "1b2c3d4e-0000-4000-8000-000000000001";
    r.name = "remote";
    r.owner = "alice";
    r.apiName = "PizzaShackAPI";
    r.apiVersion = "1.0.0";
    r.keyHash = hasher_.hash(value);
    r.lastFour = lastFourOf(value);
    r.createdAt = 1800000000;
    return r;
  }

  TempDir dir_;
  Database db_{dir_.file("micro-gw.db")};
  KeyHasher hasher_{std::string(KeyHasher::kSecretBytes, 's')};
  OpaqueKeyStore keys_{db_, hasher_};
  ApplicationStore apps_{db_};
  ReplicaStore replica_{db_};
};

TEST_F(ReplicaStoreTest, UpsertInsertsThenFollowsARegenerate) {
  auto r = remoteKey("first-value-123");
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);  // twice: the same row
  auto found = keys_.findByValue("first-value-123");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value.id, r.id);
  r.keyHash = hasher_.hash("second-value-456");
  r.lastFour = "-456";
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  EXPECT_EQ(keys_.findByValue("first-value-123").failure, Failure::kNotFound);
  EXPECT_TRUE(keys_.findByValue("second-value-456").ok());
}

TEST_F(ReplicaStoreTest, TiersAreCopiedAsTheRecordsSayThem) {
  ApplicationRecord app{"app-remote", "shop", "alice", 1800000000, "20PerMin"};
  ASSERT_EQ(replica_.insertApplication(app), Failure::kNone);
  ASSERT_EQ(replica_.insertApplication(app), Failure::kNone);  // twice: the same row
  EXPECT_EQ(apps_.get("app-remote").value.tier, "20PerMin");
  auto r = remoteKey("tiered-value-1");
  r.tier = "Bronze";
  r.applicationId = "app-remote";
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  auto got = keys_.get(r.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value.tier, "Bronze");
  EXPECT_EQ(got.value.applicationId, "app-remote");
  // A later record of the same key and application: its tier wins.
  r.tier = "Silver";
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  EXPECT_EQ(keys_.get(r.id).value.tier, "Silver");
  app.tier = "10PerMin";
  ASSERT_EQ(replica_.insertApplication(app), Failure::kNone);
  EXPECT_EQ(apps_.get("app-remote").value.tier, "10PerMin");
  // A record of the previous version (no tier field on the wire) is Unlimited.
  auto plain = remoteKey("plain-value-2");
  plain.id = "1b2c3d4e-0000-4000-8000-000000000002";
  ASSERT_EQ(replica_.upsertKey(plain), Failure::kNone);
  EXPECT_EQ(keys_.get(plain.id).value.tier, "Unlimited");
}

TEST_F(ReplicaStoreTest, RevocationIsSticky) {
  auto r = remoteKey("sticky-value-1");
  r.revoked = true;
  r.revokedAt = 1800000100;
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  // A late, older copy of the record (not revoked, another hash) changes neither.
  auto late = remoteKey("sticky-value-2");
  ASSERT_EQ(replica_.upsertKey(late), Failure::kNone);
  auto got = keys_.get(r.id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got.value.revoked);
  EXPECT_EQ(got.value.revokedAt, 1800000100);
  EXPECT_EQ(got.value.keyHash, hasher_.hash("sticky-value-1"));
}

TEST_F(ReplicaStoreTest, UnknownApplicationIsDroppedNotAnError) {
  auto r = remoteKey("orphan-value-1");
  r.applicationId = "no-such-application";
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  auto got = keys_.get(r.id);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got.value.applicationId.has_value());
  ASSERT_EQ(replica_.insertApplication({"app-9", "shop", "alice", 1}), Failure::kNone);
  ASSERT_EQ(replica_.insertApplication({"app-9", "shop", "alice", 1}), Failure::kNone);
  r.applicationId = "app-9";
  ASSERT_EQ(replica_.upsertKey(r), Failure::kNone);
  EXPECT_EQ(keys_.get(r.id).value.applicationId, std::optional<std::string>("app-9"));
}

TEST_F(ReplicaStoreTest, AHashHeldByAnotherKeyIsAConflict) {
  NewOpaqueKey local;
  local.name = "local";
  local.owner = "bob";
  local.apiName = "PizzaShackAPI";
  local.apiVersion = "1.0.0";
  ASSERT_TRUE(keys_.create(local, "shared-value-1").ok());
  EXPECT_EQ(replica_.upsertKey(remoteKey("shared-value-1")), Failure::kConflict);
  auto bad = remoteKey("x-value-123");
  bad.keyHash = "short";
  EXPECT_EQ(replica_.upsertKey(bad), Failure::kBadRequestBody);
}

TEST_F(ReplicaStoreTest, ListsRevocationsWithTheirExpiry) {
  RevocationStore revocations(db_);
  ASSERT_EQ(revocations.revokeJti("j1", "alice", 1900000000, "admin", 1800000000), Failure::kNone);
  ASSERT_EQ(revocations.revokeSubjectBefore("bob", 1800000001, "admin", 1800000002),
            Failure::kNone);
  auto jtis = replica_.listRevokedJtis();
  ASSERT_TRUE(jtis.ok());
  ASSERT_EQ(jtis.value.size(), 1u);
  EXPECT_EQ(jtis.value[0].jti, "j1");
  EXPECT_EQ(jtis.value[0].expiresAt, 1900000000);
  auto marks = replica_.listWatermarks();
  ASSERT_TRUE(marks.ok());
  ASSERT_EQ(marks.value.size(), 1u);
  EXPECT_EQ(marks.value[0].issuedBefore, 1800000001);
}

}  // namespace
}  // namespace mgw::store
