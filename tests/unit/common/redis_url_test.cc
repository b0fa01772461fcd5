#include "common/redis_url.h"

#include <gtest/gtest.h>

namespace mgw {
namespace {

TEST(RedisUrlTest, HostPortAndDatabase) {
  std::string why;
  auto u = parseRedisUrl("redis://10.0.0.7:6380/2", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "10.0.0.7");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->database, 2);
}

TEST(RedisUrlTest, DefaultsPortAndDatabase) {
  std::string why;
  auto u = parseRedisUrl("redis://redis.internal", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "redis.internal");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->database, 0);
}

TEST(RedisUrlTest, BracketedIpv6) {
  std::string why;
  auto u = parseRedisUrl("redis://[::1]:7000/0", &why);
  ASSERT_TRUE(u) << why;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 7000);
}

TEST(RedisUrlTest, RefusesWhatIsNotTheForm) {
  for (const char* bad :
       {"", "127.0.0.1:6379", "http://127.0.0.1:6379/0", "redis://", "redis://:6379/0",
        "redis://host:0/0", "redis://host:65536/0", "redis://host:port/0", "redis://host:6379/x",
        "redis://host:6379/-1", "redis://host:/0", "redis://[::1/0", "redis://ho st:6379/0"}) {
    std::string why;
    EXPECT_FALSE(parseRedisUrl(bad, &why)) << bad;
    EXPECT_NE(why.find("redis://HOST:PORT/DB"), std::string::npos) << bad << ": " << why;
  }
}

TEST(RedisUrlTest, CredentialsBelongInRedisPassword) {
  std::string why;
  EXPECT_FALSE(parseRedisUrl("redis://:secret@127.0.0.1:6379/0", &why));
  EXPECT_NE(why.find("redisPassword"), std::string::npos);
  EXPECT_EQ(why.find("secret"), std::string::npos);  // never repeated
}

TEST(RedisUrlTest, TlsSchemePointsAtRedisTls) {
  std::string why;
  EXPECT_FALSE(parseRedisUrl("rediss://127.0.0.1:6379/0", &why));
  EXPECT_NE(why.find("redisTls"), std::string::npos);
}

}  // namespace
}  // namespace mgw
