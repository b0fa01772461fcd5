#include "message/http_message.h"

#include <gtest/gtest.h>

namespace mgw::message {
namespace {

std::string refusal(std::string_view target) {
  HttpRequest r;
  return parseTarget(target, &r);
}

TEST(ParseTargetTest, SplitsPathAndQueryKeepingTheRawForms) {
  HttpRequest r;
  ASSERT_EQ(parseTarget("/pizza/1.0.0/menu%20item?b=2&a=%3D1+x&apikey=k", &r), "");
  EXPECT_EQ(r.rawPath, "/pizza/1.0.0/menu%20item");
  EXPECT_EQ(r.path, "/pizza/1.0.0/menu item");
  EXPECT_EQ(r.rawQuery, "b=2&a=%3D1+x&apikey=k");
  ASSERT_EQ(r.query.size(), 3u);
  EXPECT_EQ(r.query[1], (std::pair<std::string, std::string>{"a", "=1 x"}));
  EXPECT_EQ(r.query[2].second, "k");
}

TEST(ParseTargetTest, AbsoluteFormUsesItsPath) {
  HttpRequest r;
  ASSERT_EQ(parseTarget("http://example.com:9090/echo/x?q=1", &r), "");
  EXPECT_EQ(r.rawPath, "/echo/x");
  EXPECT_EQ(r.rawQuery, "q=1");
  EXPECT_EQ(r.authority, "example.com:9090");
  ASSERT_EQ(parseTarget("HTTPS://example.com", &r), "");
  EXPECT_EQ(r.rawPath, "/");
  EXPECT_EQ(r.authority, "example.com");
  ASSERT_EQ(parseTarget("http://[2001:db8::1]:80?q", &r), "the request target has no path");
  ASSERT_EQ(parseTarget("/origin/form", &r), "");
  EXPECT_EQ(r.authority, "");  // origin-form: the Host field names the host
}

// The authority replaces Host (issue 22 item 8), so it is held to Host's syntax.
TEST(ParseTargetTest, AbsoluteFormAuthorityIsHostAndPort) {
  for (const char* bad : {"http:///x", "http://user:pw@example.com/x", "http://a b/x",
                          "http://example.com:x/x", "http://exa\"mple/x"}) {
    HttpRequest r;
    EXPECT_NE(parseTarget(bad, &r).find("authority"), std::string::npos) << bad;
  }
}

TEST(ParseTargetTest, RefusesWhatABackendCouldReadAsAnotherPath) {
  EXPECT_NE(refusal("*"), "");
  EXPECT_NE(refusal("echo"), "");
  EXPECT_NE(refusal("/echo/../admin"), "");
  EXPECT_NE(refusal("/echo/./x"), "");
  EXPECT_NE(refusal("/echo/%2e%2e/admin"), "");
  EXPECT_NE(refusal("/echo/%2E/admin"), "");
  EXPECT_NE(refusal("/echo/..;/admin"), "");
  EXPECT_NE(refusal("/echo/%2e%2e;x/admin"), "");
  EXPECT_NE(refusal("/echo/a%2fb"), "");
  EXPECT_NE(refusal("/echo/a%5Cb"), "");
  EXPECT_NE(refusal("/echo/a\\b"), "");
  EXPECT_NE(refusal("/echo/a%00b"), "");
  EXPECT_NE(refusal("/echo/%zz"), "");
  EXPECT_NE(refusal("/echo/%4"), "");
  EXPECT_NE(refusal("/echo#frag"), "");
  EXPECT_EQ(refusal("/echo/..a/.b/a..;c"), "");  // names that only look like dots
}

TEST(RemoveQueryParamsTest, RemovesOnlyTheNamedParametersAndKeepsTheRestAsReceived) {
  EXPECT_EQ(removeQueryParams("b=2&apikey=k&a=%3d+1", {"apikey"}), "b=2&a=%3d+1");
  EXPECT_EQ(removeQueryParams("apikey=k", {"apikey"}), "");
  EXPECT_EQ(removeQueryParams("api%6Bey=k&x", {"apikey"}), "x");  // the name is compared decoded
  EXPECT_EQ(removeQueryParams("z=1&&y=%zz", {"apikey"}), "z=1&&y=%zz");  // untouched
  EXPECT_EQ(removeQueryParams("apikey=1&apikey=2&q", {"apikey"}), "q");
  EXPECT_EQ(removeQueryParams("a=1&apikey=k&&b=2", {"apikey"}), "a=1&&b=2");
  EXPECT_EQ(removeQueryParams("", {"apikey"}), "");
}

TEST(HttpRequestTest, JoinedHeaderKeepsEveryLineInOrder) {
  HttpRequest r;
  r.headers.emplace("X-Forwarded-For", "1.1.1.1");
  r.headers.emplace("x-forwarded-for", "2.2.2.2, 3.3.3.3");
  EXPECT_EQ(r.joinedHeader("X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 3.3.3.3");
  EXPECT_EQ(r.header("X-FORWARDED-FOR"), "1.1.1.1");
  EXPECT_EQ(r.header("Referer"), "");
}

}  // namespace
}  // namespace mgw::message
