#include "message/forward_plan.h"

#include <gtest/gtest.h>

namespace mgw::message {
namespace {

UpstreamTarget target(const std::string& url) {
  std::string error;
  auto t = parseEndpointUrl(url, &error);
  EXPECT_TRUE(t) << error;
  return t.value_or(UpstreamTarget{});
}

TEST(ForwardPlanTest, JoinsBasePathAndRequestPathOnce) {
  ForwardPlan plan;
  plan.rawPath = "/menu%2Bitem";
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1"), plan), "/menu%2Bitem");
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1/"), plan), "/menu%2Bitem");
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1/v1"), plan), "/v1/menu%2Bitem");
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1/v1/"), plan), "/v1/menu%2Bitem");
  plan.rawPath = "/";
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1/v1"), plan), "/v1");
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1"), plan), "/");
}

TEST(ForwardPlanTest, BaseQueryComesFirstAndTheRequestQueryIsKeptAsIs) {
  ForwardPlan plan;
  plan.rawPath = "/x";
  plan.rawQuery = "b=%20&a=1";
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1/p?tenant=t"), plan),
            "/p/x?tenant=t&b=%20&a=1");
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1"), plan), "/x?b=%20&a=1");
  plan.rawQuery.clear();
  EXPECT_EQ(upstreamRequestTarget(target("http://h:1"), plan), "/x");
}

TEST(ForwardPlanTest, RawPathAfterTheContext) {
  EXPECT_EQ(rawPathAfter("/pizzashack/1.0.0/menu/%41", 2), "/menu/%41");
  EXPECT_EQ(rawPathAfter("/pizzashack/1.0.0", 2), "/");
  EXPECT_EQ(rawPathAfter("/pizzashack/1.0.0/", 2), "/");
  EXPECT_EQ(rawPathAfter("/a/b", 0), "/a/b");
}

TEST(EndpointUrlTest, ParsesHostPortAndBase) {
  auto t = target("https://[::1]:8443/base?q=1");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 8443);
  EXPECT_EQ(t.hostHeader, "[::1]:8443");
  EXPECT_EQ(t.basePath, "/base");
  EXPECT_EQ(t.baseQuery, "q=1");
  std::string error;
  EXPECT_FALSE(parseEndpointUrl("ftp://h", &error));
  EXPECT_FALSE(parseEndpointUrl("http://u@h", &error));
  EXPECT_FALSE(parseEndpointUrl("http://h:0", &error));
}

}  // namespace
}  // namespace mgw::message
