#include "gateway/refusal_cache.h"

#include <gtest/gtest.h>

namespace mgw::gateway {
namespace {

TEST(RefusalCacheTest, OnlyRefusalsThatDependOnTheKeyBytesAlone) {
  for (Failure f : {Failure::kKeyTooLarge, Failure::kMalformedKey, Failure::kUnknownKey,
                    Failure::kAlgorithmMismatch, Failure::kBadSignature, Failure::kWrongIssuer})
    EXPECT_TRUE(RefusalCache::cacheable(f)) << failureName(f);
  // Time moves these (a key becomes valid, or expires); the rest is checked on every request.
  for (Failure f : {Failure::kExpired, Failure::kNotYetValid, Failure::kRevoked,
                    Failure::kApiNotAllowed, Failure::kIpNotPermitted, Failure::kNone})
    EXPECT_FALSE(RefusalCache::cacheable(f)) << failureName(f);
  RefusalCache cache(100, 60);
  cache.put("k", {Failure::kExpired, "r", "d"}, 0);
  EXPECT_FALSE(cache.get("k", 1));
}

TEST(RefusalCacheTest, RemembersTheSameReasonUntilTheTtl) {
  RefusalCache cache(100, 60);
  cache.put("bad", {Failure::kBadSignature, "signature", "the API key signature is invalid"}, 1000);
  auto hit = cache.get("bad", 1059);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->failure, Failure::kBadSignature);
  EXPECT_EQ(hit->description, "the API key signature is invalid");
  EXPECT_FALSE(cache.get("bad", 1060));
  EXPECT_FALSE(cache.get("other", 1000));
}

TEST(RefusalCacheTest, BoundedByItsCapacity) {
  RefusalCache cache(64, 60);
  for (int i = 0; i < 10000; ++i)
    cache.put("key-" + std::to_string(i), {Failure::kMalformedKey, "", ""}, 0);
  EXPECT_LE(cache.size(), 64u);
  EXPECT_TRUE(cache.get("key-9999", 1));  // the newest stays
}

TEST(RefusalCacheTest, DisabledWithoutCapacity) {
  RefusalCache cache(0, 60);
  cache.put("bad", {Failure::kBadSignature, "", ""}, 0);
  EXPECT_FALSE(cache.get("bad", 0));
}

}  // namespace
}  // namespace mgw::gateway
