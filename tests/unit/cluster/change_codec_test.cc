#include "cluster/change_codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster/redis_counter_store.h"

namespace mgw::cluster {
namespace {

using lifecycle::Change;

store::OpaqueKeyRecord sampleKey() {
  store::OpaqueKeyRecord k;
  k.id = "0b5c3f0e-1111-4222-8333-944445555666";
  k.name = "shop";
  k.owner = "alice";
  k.apiName = "PizzaShackAPI";
  k.apiVersion = "1.0.0";
  k.keyType = store::KeyType::kSandbox;
  k.keyHash = std::string(32, '\x7f');
  k.keyHash[0] = '\0';  // binary, NUL included
  k.lastFour = "abcd";
  k.createdAt = 1700000000;
  k.expiresAt = 1800000000;
  k.permittedIp = "10.0.0.0/8";
  k.permittedReferer = "*.example.com";
  k.applicationId = "app-1";
  k.revoked = true;
  k.revokedAt = 1700000500;
  k.tier = "Bronze";
  return k;
}

TEST(ChangeCodecTest, EveryKindRoundTrips) {
  std::vector<Change> changes;
  Change c;
  c.kind = Change::Kind::kRevokeJti;
  c.id = "jti-1";
  c.sub = "alice";
  c.expiresAt = 1800000000;
  c.by = "admin";
  c.at = 1700000000;
  changes.push_back(c);
  c = {};
  c.kind = Change::Kind::kSubjectWatermark;
  c.sub = "bob";
  c.issuedBefore = 1700000001;
  c.by = "admin";
  c.at = 1700000002;
  changes.push_back(c);
  c = {};
  c.kind = Change::Kind::kKey;
  c.key = sampleKey();
  changes.push_back(c);
  c = {};
  c.kind = Change::Kind::kApplication;
  c.application = store::ApplicationRecord{"app-1", "web shop", "alice", 1700000003, "10PerMin"};
  changes.push_back(c);
  c = {};
  c.kind = Change::Kind::kApplicationRemoved;
  c.id = "app-1";
  changes.push_back(c);
  for (auto kind : {Change::Kind::kSubscribed, Change::Kind::kUnsubscribed}) {
    c = {};
    c.kind = kind;
    c.id = "app-1";
    c.apiName = "PizzaShackAPI";
    c.apiVersion = "1.0.0";
    c.at = 1700000004;
    changes.push_back(c);
  }
  for (const Change& in : changes) {
    auto out = decodeChange(encodeChange(in));
    ASSERT_TRUE(out) << encodeChange(in);
    EXPECT_EQ(out->kind, in.kind);
    EXPECT_EQ(out->id, in.id);
    EXPECT_EQ(out->sub, in.sub);
    EXPECT_EQ(out->expiresAt, in.expiresAt);
    EXPECT_EQ(out->issuedBefore, in.issuedBefore);
    EXPECT_EQ(out->by, in.by);
    EXPECT_EQ(out->apiName, in.apiName);
    EXPECT_EQ(out->apiVersion, in.apiVersion);
    ASSERT_EQ(out->key.has_value(), in.key.has_value());
    if (in.key) {
      EXPECT_EQ(out->key->keyHash, in.key->keyHash);
      EXPECT_EQ(out->key->applicationId, in.key->applicationId);
      EXPECT_EQ(out->key->keyType, in.key->keyType);
      EXPECT_EQ(out->key->revoked, in.key->revoked);
      EXPECT_EQ(out->key->permittedReferer, in.key->permittedReferer);
      EXPECT_EQ(out->key->revokedAt, in.key->revokedAt);
      EXPECT_EQ(out->key->tier, "Bronze");
    }
    ASSERT_EQ(out->application.has_value(), in.application.has_value());
    if (in.application) {
      EXPECT_EQ(out->application->name, in.application->name);
      EXPECT_EQ(out->application->tier, "10PerMin");
    }
  }
}

// The tiers came after the first cluster release: an entry from a node of that version has no
// "tier" and still decodes, as Unlimited (what that node's keys and applications are). Ours carry
// the field, which the previous version's decoder ignores (it reads only the fields it knows).
TEST(ChangeCodecTest, AnEntryOfThePreviousVersionWithoutTiersDecodesAsUnlimited) {
  Change key;
  key.kind = Change::Kind::kKey;
  key.key = sampleKey();
  auto j = nlohmann::json::parse(encodeChange(key));
  ASSERT_EQ(j["key"]["tier"], "Bronze");
  j["key"].erase("tier");
  auto decoded = decodeChange(j.dump());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->key->tier, "Unlimited");
  EXPECT_EQ(decoded->key->id, sampleKey().id);

  Change app;
  app.kind = Change::Kind::kApplication;
  app.application = store::ApplicationRecord{"app-1", "web shop", "alice", 1700000003, "20PerMin"};
  j = nlohmann::json::parse(encodeChange(app));
  ASSERT_EQ(j["application"]["tier"], "20PerMin");
  j["application"].erase("tier");
  decoded = decodeChange(j.dump());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->application->tier, "Unlimited");

  // Present but not a non-empty string: refused, like any other field of the wrong type.
  for (const char* bad : {R"(1)", R"("")", R"(null)"}) {
    auto k = nlohmann::json::parse(encodeChange(key));
    k["key"]["tier"] = nlohmann::json::parse(bad);
    EXPECT_FALSE(decodeChange(k.dump())) << bad;
    auto a = nlohmann::json::parse(encodeChange(app));
    a["application"]["tier"] = nlohmann::json::parse(bad);
    EXPECT_FALSE(decodeChange(a.dump())) << bad;
  }
}

TEST(ChangeCodecTest, NoKeyValueOnTheWire) {
  Change c;
  c.kind = Change::Kind::kKey;
  c.key = sampleKey();
  const std::string wire = encodeChange(c);
  EXPECT_EQ(wire.find("apiKey"), std::string::npos);
  EXPECT_EQ(wire.find("value"), std::string::npos);
}

TEST(ChangeCodecTest, RefusesMalformedEntries) {
  for (const char* bad :
       {"", "[]", "{}", R"({"kind":"nope"})", R"({"kind":"revoke_jti"})",
        R"({"kind":"revoke_jti","jti":"","sub":"","expiresAt":0,"by":"","at":0})",
        R"({"kind":"revoke_jti","jti":"x","sub":"","expiresAt":"0","by":"","at":0})",
        R"({"kind":"key","key":{"id":"x"}})", R"({"kind":"application","application":[]})",
        R"({"kind":"subscribed","id":"a","apiName":"n","apiVersion":1,"at":0})"}) {
    EXPECT_FALSE(decodeChange(bad)) << bad;
  }
  // A hash of the wrong length is refused.
  Change c;
  c.kind = Change::Kind::kKey;
  c.key = sampleKey();
  auto j = nlohmann::json::parse(encodeChange(c));
  j["key"]["hash"] = "AAAA";
  EXPECT_FALSE(decodeChange(j.dump()));
}

// Issue 22 item 7: entries are authenticated; what someone with Redis write access adds is
// dropped with its reason.
struct SignedEntryTest : ::testing::Test {
  static constexpr std::int64_t kNow = 1700000000;
  EntryAuthenticator auth{std::string(32, 'k')};
  std::map<std::string, std::uint64_t> lastSeq;

  StreamEntry signedEntry(const Change& c, std::uint64_t seq, std::string node = "node-a") {
    StreamEntry e{node, std::to_string(seq), encodeChange(c), ""};
    e.mac = auth.mac(e.node, seq, e.change);
    return e;
  }
  static Change watermark(std::int64_t issuedBefore) {
    Change c;
    c.kind = Change::Kind::kSubjectWatermark;
    c.sub = "alice";
    c.issuedBefore = issuedBefore;
    c.by = "admin";
    c.at = kNow;
    return c;
  }
  static Change key() {
    Change c;
    c.kind = Change::Kind::kKey;
    c.key = sampleKey();
    c.key->revoked = false;
    return c;
  }
  EntryRejection accept(const StreamEntry& e, Change* out = nullptr) {
    Change ignored;
    return acceptEntry(e, auth, &lastSeq, kNow, out ? out : &ignored);
  }
};

TEST_F(SignedEntryTest, ASignedEntryIsAccepted) {
  Change out;
  ASSERT_EQ(accept(signedEntry(key(), 1), &out), EntryRejection::kNone);
  ASSERT_TRUE(out.key);
  EXPECT_EQ(out.key->permittedIp, "10.0.0.0/8");
  EXPECT_EQ(lastSeq["node-a"], 1u);
  EXPECT_EQ(auth.mac("node-a", 1, "x").size(), 43u);  // base64url of 32 bytes
}

TEST_F(SignedEntryTest, TamperedPayloadNodeSeqOrMacIsRejected) {
  const StreamEntry good = signedEntry(key(), 5);
  // The payload widened: no IP restriction, no expiry.
  StreamEntry e = good;
  auto j = nlohmann::json::parse(e.change);
  j["key"]["permittedIp"] = "";
  j["key"]["expiresAt"] = 0;
  e.change = j.dump();
  EXPECT_EQ(accept(e), EntryRejection::kBadMac);
  e = good;
  e.node = "node-b";
  EXPECT_EQ(accept(e), EntryRejection::kBadMac);
  e = good;
  e.seq = "6";
  EXPECT_EQ(accept(e), EntryRejection::kBadMac);
  for (std::size_t i = 0; i < good.mac.size(); ++i) {
    e = good;
    e.mac[i] = e.mac[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(accept(e), EntryRejection::kBadMac) << i;
  }
  e = good;
  e.mac.pop_back();
  EXPECT_EQ(accept(e), EntryRejection::kBadMac);
  // Signed with another cluster's secret.
  EntryAuthenticator other{std::string(32, 'o')};
  e = good;
  e.mac = other.mac(e.node, 5, e.change);
  EXPECT_EQ(accept(e), EntryRejection::kBadMac);
  EXPECT_TRUE(lastSeq.empty());  // nothing rejected moved the sequence
  EXPECT_EQ(accept(good), EntryRejection::kNone);
}

TEST_F(SignedEntryTest, UnsignedEntriesAreRejected) {
  StreamEntry e = signedEntry(key(), 1);
  e.mac.clear();
  EXPECT_EQ(accept(e), EntryRejection::kUnsigned);
  for (const char* seq : {"", "0", "01", "-1", "x", "99999999999999999999"}) {
    e = signedEntry(key(), 1);
    e.seq = seq;
    EXPECT_EQ(accept(e), EntryRejection::kUnsigned) << seq;
  }
  e = signedEntry(key(), 1, "");
  EXPECT_EQ(accept(e), EntryRejection::kUnsigned);
}

TEST_F(SignedEntryTest, ACopiedEntryIsRejectedAsReplayed) {
  const StreamEntry first = signedEntry(key(), 1);
  const StreamEntry second = signedEntry(watermark(kNow - 10), 2);
  EXPECT_EQ(accept(first), EntryRejection::kNone);
  EXPECT_EQ(accept(second), EntryRejection::kNone);
  EXPECT_EQ(accept(first), EntryRejection::kReplayed);
  EXPECT_EQ(accept(second), EntryRejection::kReplayed);
  // Another node's sequence is its own.
  EXPECT_EQ(accept(signedEntry(key(), 1, "node-b")), EntryRejection::kNone);
}

TEST_F(SignedEntryTest, AWatermarkInTheFutureIsRejected) {
  // "Revoke every key of alice until 2100", even when signed (a node's clock far ahead).
  EXPECT_EQ(accept(signedEntry(watermark(4102444800), 1)), EntryRejection::kFutureWatermark);
  EXPECT_EQ(accept(signedEntry(watermark(kNow + kMaxClockSkewSeconds + 1), 2)),
            EntryRejection::kFutureWatermark);
  EXPECT_EQ(accept(signedEntry(watermark(kNow + kMaxClockSkewSeconds), 3)), EntryRejection::kNone);
}

TEST_F(SignedEntryTest, AnAuthenticatedUnreadableChangeIsMalformed) {
  StreamEntry e{"node-a", "1", "filler", ""};
  e.mac = auth.mac(e.node, 1, e.change);
  EXPECT_EQ(accept(e), EntryRejection::kMalformed);
}

TEST(EntryRejectionTest, EveryReasonHasAName) {
  for (int r = 0; r <= static_cast<int>(kLastEntryRejection); ++r)
    EXPECT_NE(rejectionName(static_cast<EntryRejection>(r)), "unknown") << r;
  EXPECT_THROW({ EntryAuthenticator tooShort(std::string(31, 'k')); }, std::invalid_argument);
}

TEST(CounterScriptTest, AnswerBecomesVerdict) {
  auto allowed = verdictOf({1, 0, 4, 12001, 0});
  EXPECT_TRUE(allowed.allowed);
  EXPECT_EQ(allowed.remaining, 4);
  EXPECT_EQ(allowed.reset.count(), 13);  // microseconds rounded up to milliseconds
  auto refused = verdictOf({0, 2, 0, 5000000, 1});
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.refused, 2u);
  EXPECT_EQ(refused.reset.count(), 5000);
  EXPECT_EQ(refused.overQuota, 1u);
}

}  // namespace
}  // namespace mgw::cluster

namespace mgw::cluster {
namespace {

// Issue 26: a subscription's plan, whether the shared key serves it and the key mode chosen with
// it travel; an unsubscription without a plan (a node of the version before plans) is from every
// plan; a shared key and an application's key mode travel with their records.
TEST(ChangeCodecTest, PlansSharedKeysAndKeyModesRoundTrip) {
  Change sub;
  sub.kind = Change::Kind::kSubscribed;
  sub.id = "app-1";
  sub.apiName = "Tiered";
  sub.apiVersion = "1.0.0";
  sub.at = 1700000004;
  sub.plan = "gold";
  sub.sharedKey = true;
  sub.keyMode = "shared";
  auto out = decodeChange(encodeChange(sub));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->plan, "gold");
  EXPECT_TRUE(out->sharedKey);
  EXPECT_EQ(out->keyMode, "shared");

  Change unsub = sub;
  unsub.kind = Change::Kind::kUnsubscribed;
  unsub.keyMode.clear();
  unsub.sharedKey = false;
  out = decodeChange(encodeChange(unsub));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->plan, "gold");
  EXPECT_FALSE(out->allPlans);
  unsub.allPlans = true;
  auto j = nlohmann::json::parse(encodeChange(unsub));
  EXPECT_FALSE(j.contains("plan"));
  out = decodeChange(j.dump());
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->allPlans);

  Change key;
  key.kind = Change::Kind::kKey;
  key.key = sampleKey();
  key.key->shared = true;
  key.key->apiName.clear();
  key.key->apiVersion.clear();
  out = decodeChange(encodeChange(key));
  ASSERT_TRUE(out && out->key);
  EXPECT_TRUE(out->key->shared);
  key.key->shared = false;
  EXPECT_FALSE(nlohmann::json::parse(encodeChange(key))["key"].contains("shared"));

  Change app;
  app.kind = Change::Kind::kApplication;
  app.application =
      store::ApplicationRecord{"app-1", "shop", "alice", 1700000000, "Gold", "perSubscription"};
  out = decodeChange(encodeChange(app));
  ASSERT_TRUE(out && out->application);
  EXPECT_EQ(out->application->keyMode, "perSubscription");

  // A key mode this version does not know is refused, not stored.
  auto bad = nlohmann::json::parse(encodeChange(sub));
  bad["keyMode"] = "everything";
  EXPECT_FALSE(decodeChange(bad.dump()));
  bad = nlohmann::json::parse(encodeChange(sub));
  bad["sharedKey"] = "yes";
  EXPECT_FALSE(decodeChange(bad.dump()));
}

}  // namespace
}  // namespace mgw::cluster
