// The cluster's wire form of issue 25's changes: a key's previous value (grace period) and last
// use travel with its record, and a key's use is a change of its own.
#include <gtest/gtest.h>

#include "cluster/change_codec.h"

namespace mgw::cluster {
namespace {

using lifecycle::Change;

TEST(ChangeCodecRotationTest, APreviousValueAndLastUseRoundTrip) {
  store::OpaqueKeyRecord k;
  k.id = "k1";
  k.name = "n";
  k.owner = "alice";
  k.apiName = "Pizza";
  k.apiVersion = "1.0";
  k.keyHash = std::string(32, 'h');
  k.lastFour = "abcd";
  k.previousHash = std::string(32, 'p');
  k.previousUntil = 1'700'000'600;
  k.replacedAt = 1'700'000'000;
  k.lastUsed = 1'699'999'980;
  Change c;
  c.kind = Change::Kind::kKey;
  c.key = k;
  auto back = decodeChange(encodeChange(c));
  ASSERT_TRUE(back && back->key);
  EXPECT_EQ(back->key->previousHash, k.previousHash);
  EXPECT_EQ(back->key->previousUntil, k.previousUntil);
  EXPECT_EQ(back->key->replacedAt, k.replacedAt);
  EXPECT_EQ(back->key->lastUsed, k.lastUsed);
  // A record without them (a node of the version before) still decodes.
  k.previousHash.clear();
  k.replacedAt = 0;
  k.lastUsed = 0;
  c.key = k;
  const std::string text = encodeChange(c);
  EXPECT_EQ(text.find("previousHash"), std::string::npos);
  back = decodeChange(text);
  ASSERT_TRUE(back && back->key);
  EXPECT_TRUE(back->key->previousHash.empty());
}

TEST(ChangeCodecRotationTest, AKeysUse) {
  Change c;
  c.kind = Change::Kind::kKeyUsed;
  c.id = "k1";
  c.at = 1'700'000'040;
  auto back = decodeChange(encodeChange(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, Change::Kind::kKeyUsed);
  EXPECT_EQ(back->id, "k1");
  EXPECT_EQ(back->at, 1'700'000'040);
  EXPECT_EQ(changeKindName(Change::Kind::kKeyUsed), "key_used");
  EXPECT_FALSE(decodeChange(R"({"kind":"key_used","id":"k1"})"));
  EXPECT_FALSE(decodeChange(R"({"kind":"key_used","id":"","at":5})"));
  EXPECT_FALSE(
      decodeChange(R"({"kind":"key","key":{"id":"k","previousHash":"AAAA","previousUntil":1}})"));
}

}  // namespace
}  // namespace mgw::cluster
