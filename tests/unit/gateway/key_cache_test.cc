#include "gateway/key_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mgw::gateway {
namespace {

token::Claims claims(std::string jti, std::optional<std::int64_t> exp = std::nullopt) {
  token::Claims c;
  c.jti = std::move(jti);
  c.iss = "https://localhost:9095/apikey";
  c.exp = exp;
  return c;
}

TEST(KeyCacheTest, HitAndMiss) {
  KeyCache cache(10, 100);
  EXPECT_FALSE(cache.get("k1", 0));
  cache.put("k1", claims("j1"), 0);
  auto c = cache.get("k1", 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->jti, "j1");
  EXPECT_EQ(c->iss, "https://localhost:9095/apikey");
  EXPECT_FALSE(cache.get("k2", 1));
}

TEST(KeyCacheTest, LruEviction) {
  KeyCache cache(2, 100);
  cache.put("a", claims("a"), 0);
  cache.put("b", claims("b"), 0);
  ASSERT_TRUE(cache.get("a", 1));  // a is now most recently used
  cache.put("c", claims("c"), 1);  // evicts b
  EXPECT_TRUE(cache.get("a", 2));
  EXPECT_FALSE(cache.get("b", 2));
  EXPECT_TRUE(cache.get("c", 2));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(KeyCacheTest, ReplacingAnEntryDoesNotGrow) {
  KeyCache cache(2, 100);
  cache.put("a", claims("a1"), 0);
  cache.put("a", claims("a2"), 0);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.get("a", 0)->jti, "a2");
}

TEST(KeyCacheTest, TtlExpires) {
  KeyCache cache(10, 60);
  cache.put("k", claims("j"), 1000);
  EXPECT_TRUE(cache.get("k", 1059));
  EXPECT_FALSE(cache.get("k", 1060));
  EXPECT_EQ(cache.size(), 0u);  // dropped, not just hidden
}

TEST(KeyCacheTest, NeverPastExp) {
  KeyCache cache(10, 900);
  cache.put("k", claims("j", 1010), 1000);
  EXPECT_TRUE(cache.get("k", 1009));
  EXPECT_FALSE(cache.get("k", 1010));
  EXPECT_FALSE(cache.get("k", 1011));
}

TEST(KeyCacheTest, AlreadyExpiredIsNotCached) {
  KeyCache cache(10, 900);
  cache.put("k", claims("j", 1000), 1000);
  cache.put("k2", claims("j", 900), 1000);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(KeyCacheTest, DisabledCache) {
  KeyCache zeroCapacity(0, 900);
  zeroCapacity.put("k", claims("j"), 0);
  EXPECT_FALSE(zeroCapacity.get("k", 0));
  EXPECT_FALSE(zeroCapacity.enabled());
  KeyCache zeroTtl(10, 0);
  zeroTtl.put("k", claims("j"), 0);
  EXPECT_FALSE(zeroTtl.get("k", 0));
}

TEST(KeyCacheTest, ShardedCapacityIsBounded) {
  KeyCache cache(1000, 900);
  for (int i = 0; i < 5000; ++i) cache.put("key" + std::to_string(i), claims("j"), 0);
  EXPECT_LE(cache.size(), 1000u);
  EXPECT_GT(cache.size(), 800u);
}

TEST(KeyCacheTest, ClearEmpties) {
  KeyCache cache(10, 900);
  cache.put("k", claims("j"), 0);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.get("k", 0));
}

TEST(KeyCacheTest, ConcurrentUse) {
  KeyCache cache(256, 900);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string k = "k" + std::to_string((i * 7 + t) % 500);
        if (!cache.get(k, i)) cache.put(k, claims(k), i);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), 256u);
}

TEST(KeyCacheTest, TheKeyCacheKeepsThemCompiledWithTheClaims) {
  KeyCache cache(10, 100);
  token::Claims c;
  c.jti = "j";
  c.permittedIP = "192.0.2.0/24";
  auto put = cache.put("k", c, 0);
  auto hit = cache.get("k", 1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit, put);  // the same compiled entry, not a copy
  EXPECT_TRUE(hit->restrictions.ip->matches("192.0.2.9"));
  EXPECT_EQ(hit->jti, "j");
}

}  // namespace
}  // namespace mgw::gateway
