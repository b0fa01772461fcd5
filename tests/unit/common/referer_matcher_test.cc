#include "common/referer_matcher.h"

#include <gtest/gtest.h>

namespace mgw {
namespace {

RefererMatcher parseOk(std::string_view list) {
  std::string error;
  auto m = RefererMatcher::parse(list, &error);
  EXPECT_TRUE(m) << list << ": " << error;
  return m ? *m : RefererMatcher();
}

TEST(RefererMatcherTest, ExactPath) {
  RefererMatcher m = parseOk("www.example.com/path");
  EXPECT_TRUE(m.matches("https://www.example.com/path"));
  EXPECT_TRUE(m.matches("http://www.example.com/path"));
  EXPECT_TRUE(m.matches("https://www.example.com/path?q=1#frag"));
  EXPECT_FALSE(m.matches("https://www.example.com/path/"));
  EXPECT_FALSE(m.matches("https://www.example.com/path2"));
  EXPECT_FALSE(m.matches("https://www.example.com/"));
  EXPECT_FALSE(m.matches("https://www.example.com/PATH"));  // paths are case-sensitive
  EXPECT_FALSE(m.matches("https://example.com/path"));
}

TEST(RefererMatcherTest, SubdomainPrefix) {
  RefererMatcher m = parseOk("sub.example.com/*");
  EXPECT_TRUE(m.matches("https://sub.example.com/"));
  EXPECT_TRUE(m.matches("https://sub.example.com"));
  EXPECT_TRUE(m.matches("https://sub.example.com/a/b/c.html"));
  EXPECT_FALSE(m.matches("https://other.example.com/a"));
  EXPECT_FALSE(m.matches("https://a.sub.example.com/a"));
  EXPECT_FALSE(m.matches("https://sub.example.com.evil.com/a"));
}

TEST(RefererMatcherTest, PathPrefix) {
  RefererMatcher m = parseOk("www.example.com/docs/*");
  EXPECT_TRUE(m.matches("https://www.example.com/docs/"));
  EXPECT_TRUE(m.matches("https://www.example.com/docs/a/b"));
  EXPECT_FALSE(m.matches("https://www.example.com/docs"));
  EXPECT_FALSE(m.matches("https://www.example.com/docsx/a"));
}

TEST(RefererMatcherTest, WildcardSubdomain) {
  RefererMatcher m = parseOk("*.example.com/*");
  EXPECT_TRUE(m.matches("https://a.example.com/"));
  EXPECT_TRUE(m.matches("https://a.b.example.com/x/y"));
  EXPECT_FALSE(m.matches("https://example.com/"));
  EXPECT_FALSE(m.matches("https://evilexample.com/"));
  EXPECT_FALSE(m.matches("https://a.example.com.evil.com/"));
  EXPECT_FALSE(m.matches("https://.example.com/"));
}

TEST(RefererMatcherTest, HostIsCaseInsensitive) {
  RefererMatcher m = parseOk("WWW.Example.COM/path, *.Example.org/*");
  EXPECT_TRUE(m.matches("https://www.example.com/path"));
  EXPECT_TRUE(m.matches("HTTPS://WWW.EXAMPLE.COM/path"));
  EXPECT_TRUE(m.matches("https://A.EXAMPLE.ORG/z"));
}

TEST(RefererMatcherTest, SchemeIsStripped) {
  RefererMatcher m = parseOk("https://www.example.com/path");  // a pattern scheme is ignored too
  EXPECT_TRUE(m.matches("http://www.example.com/path"));
  EXPECT_TRUE(m.matches("www.example.com/path"));
  EXPECT_TRUE(m.matches("chrome-extension://www.example.com/path"));
}

TEST(RefererMatcherTest, Ports) {
  RefererMatcher noPort = parseOk("www.example.com/*");
  EXPECT_TRUE(noPort.matches("https://www.example.com:443/a"));
  EXPECT_TRUE(noPort.matches("http://www.example.com:80/a"));
  EXPECT_FALSE(noPort.matches("https://www.example.com:8443/a"));
  EXPECT_FALSE(noPort.matches("http://www.example.com:443/a"));
  RefererMatcher withPort = parseOk("localhost:3000/*");
  EXPECT_TRUE(withPort.matches("http://localhost:3000/app"));
  EXPECT_FALSE(withPort.matches("http://localhost/app"));
}

TEST(RefererMatcherTest, UserinfoNeverMatches) {
  RefererMatcher m = parseOk("www.example.com/*");
  EXPECT_FALSE(m.matches("https://www.example.com@evil.com/"));
  EXPECT_FALSE(m.matches("https://evil.com@www.example.com/"));
}

TEST(RefererMatcherTest, HostOnlyPattern) {
  RefererMatcher m = parseOk("www.example.com");
  EXPECT_TRUE(m.matches("https://www.example.com"));
  EXPECT_TRUE(m.matches("https://www.example.com/"));
  EXPECT_FALSE(m.matches("https://www.example.com/a"));
}

TEST(RefererMatcherTest, ListOfPatterns) {
  RefererMatcher m = parseOk(" www.example.com/path , sub.example.com/* ");
  EXPECT_TRUE(m.matches("https://www.example.com/path"));
  EXPECT_TRUE(m.matches("https://sub.example.com/x"));
  EXPECT_FALSE(m.matches("https://www.example.com/x"));
  EXPECT_FALSE(m.matches(""));
}

TEST(RefererMatcherTest, MalformedPatterns) {
  for (const char* bad : {"", "a.com/,", "ex*ample.com/", "*example.com/*", "www.*.com/*",
                          "a.com/*/b", "a.com/a*b", "*./x", "user@a.com/*", "a.com/x?y"}) {
    std::string error;
    auto m = RefererMatcher::parse(bad, &error);
    if (std::string_view(bad).empty()) {
      EXPECT_TRUE(m && m->empty());
    } else {
      EXPECT_FALSE(m) << bad;
      EXPECT_FALSE(error.empty()) << bad;
    }
  }
}

}  // namespace
}  // namespace mgw
