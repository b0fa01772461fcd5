#include "gateway/key_restrictions.h"

#include <gtest/gtest.h>

#include "gateway/key_cache.h"

namespace mgw::gateway {
namespace {

TEST(KeyRestrictionsTest, EmptyListsRestrictNothing) {
  auto r = KeyRestrictions::compile("", "  ");
  EXPECT_FALSE(r.restrictsIp);
  EXPECT_FALSE(r.restrictsReferer);
}

TEST(KeyRestrictionsTest, ListsAreCompiledOnce) {
  auto r = KeyRestrictions::compile("10.0.0.0/8, 192.0.2.7", "https://shop.example/*");
  ASSERT_TRUE(r.restrictsIp && r.ip);
  EXPECT_TRUE(r.ip->matches("10.1.2.3"));
  EXPECT_TRUE(r.ip->matches("192.0.2.7"));
  EXPECT_FALSE(r.ip->matches("192.0.2.8"));
  ASSERT_TRUE(r.restrictsReferer && r.referer);
  EXPECT_TRUE(r.referer->matches("https://shop.example/a"));
  EXPECT_FALSE(r.referer->matches("https://evil.example/a"));
}

TEST(KeyRestrictionsTest, AMalformedListFailsClosedWithItsReason) {
  auto r = KeyRestrictions::compile("10.0.0.0/99", "not a url");
  EXPECT_TRUE(r.restrictsIp);
  EXPECT_FALSE(r.ip);
  EXPECT_FALSE(r.ipError.empty());
  EXPECT_TRUE(r.restrictsReferer);
  EXPECT_FALSE(r.referer);
  EXPECT_FALSE(r.refererError.empty());
}

TEST(KeyRestrictionsTest, TheKeyCacheKeepsThemCompiledWithTheClaims) {
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
