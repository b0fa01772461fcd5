#include "common/key_restrictions.h"

#include <gtest/gtest.h>

namespace mgw {
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

}  // namespace
}  // namespace mgw
