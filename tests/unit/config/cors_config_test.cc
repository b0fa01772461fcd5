// The CORS policy's syntaxes (origin patterns, methods, header names, max age) and the [cors] and
// [[apis.api]] cors tables of micro-gw.conf.
#include "config/cors_config.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace mgw::config {
namespace {

bool allows(std::string_view pattern, std::string_view origin) {
  std::string why;
  auto p = parseOriginPattern(pattern, &why);
  EXPECT_TRUE(p) << pattern << ": " << why;
  auto o = parseOrigin(origin);
  return p && o && originMatches(*p, *o);
}

TEST(CorsOriginTest, ExactOriginsWithDefaultPorts) {
  EXPECT_TRUE(allows("https://app.example.com", "https://app.example.com"));
  EXPECT_TRUE(allows("https://app.example.com", "https://app.example.com:443"));
  EXPECT_TRUE(allows("https://app.example.com:443", "https://app.example.com"));
  EXPECT_TRUE(allows("HTTPS://App.Example.COM", "https://app.example.com"));
  EXPECT_TRUE(allows("http://127.0.0.1:8080", "http://127.0.0.1:8080"));
  EXPECT_TRUE(allows("http://[::1]:8080", "http://[::1]:8080"));
  EXPECT_FALSE(allows("https://app.example.com", "http://app.example.com"));        // scheme
  EXPECT_FALSE(allows("https://app.example.com", "https://app.example.com:8443"));  // port
  EXPECT_FALSE(allows("http://127.0.0.1:8080", "http://127.0.0.1:8081"));
  EXPECT_FALSE(allows("https://app.example.com", "https://app.example.com.evil.test"));
  EXPECT_FALSE(allows("https://app.example.com", "https://evilapp.example.com"));
}

TEST(CorsOriginTest, WildcardMatchesExactlyOneLabel) {
  EXPECT_TRUE(allows("https://*.example.com", "https://a.example.com"));
  EXPECT_TRUE(allows("https://*.example.com", "https://a-b.example.com"));
  EXPECT_FALSE(allows("https://*.example.com", "https://a.b.example.com"));
  EXPECT_FALSE(allows("https://*.example.com", "https://example.com"));
  EXPECT_FALSE(allows("https://*.example.com", "https://.example.com"));
  EXPECT_FALSE(allows("https://*.example.com", "https://aexample.com"));
  EXPECT_FALSE(allows("https://*.example.com", "http://a.example.com"));
  EXPECT_FALSE(allows("https://*.example.com", "https://a.example.com:8443"));
  EXPECT_FALSE(allows("https://*.example.com", "https://a.example.com.evil.test"));
  EXPECT_TRUE(allows("https://*.example.com:8443", "https://a.example.com:8443"));
}

TEST(CorsOriginTest, AnyAllowsEveryOriginButNotGarbage) {
  EXPECT_TRUE(allows("*", "https://anything.test"));
  EXPECT_TRUE(allows("*", "http://localhost:3000"));
  EXPECT_FALSE(allows("*", "null"));
  EXPECT_FALSE(allows("*", "https://a.test https://b.test"));
  EXPECT_FALSE(allows("*", "https://a.test/path"));
  EXPECT_FALSE(allows("*", ""));
}

TEST(CorsOriginTest, RequestOriginsAreNeverPatterns) {
  EXPECT_FALSE(parseOrigin("*"));
  EXPECT_FALSE(parseOrigin("https://*.example.com"));
  EXPECT_FALSE(parseOrigin("null"));
  EXPECT_FALSE(parseOrigin("https://user@example.com"));
  EXPECT_FALSE(parseOrigin("https://example.com/"));
  EXPECT_FALSE(parseOrigin("https://example.com:0"));
  EXPECT_FALSE(parseOrigin("https://example.com:65536"));
  EXPECT_FALSE(parseOrigin("https://example.com:"));
  EXPECT_FALSE(parseOrigin("https://a..b"));
  EXPECT_FALSE(parseOrigin("example.com"));
  EXPECT_TRUE(parseOrigin(" https://example.com "));  // OWS around a field value
}

TEST(CorsOriginTest, PatternsRefusedWithTheRule) {
  for (const char* bad :
       {"null", "https://*", "https://*.com", "https://a.*.example.com", "https://*example.com",
        "https://**.example.com", "example.com", "https://example.com/app", "https://example.com?x",
        "https://x:99999", "https://[zz]:1", "1https://example.com"}) {
    std::string why;
    EXPECT_FALSE(parseOriginPattern(bad, &why)) << bad;
    EXPECT_NE(why.find("scheme://host[:port]"), std::string::npos) << bad << ": " << why;
  }
}

TEST(CorsSyntaxTest, MethodsHeadersAndMaxAge) {
  EXPECT_EQ(checkCorsMethod("GET"), "");
  EXPECT_EQ(checkCorsMethod("*"), "");
  EXPECT_NE(checkCorsMethod("GE T"), "");
  EXPECT_NE(checkCorsMethod(""), "");
  EXPECT_EQ(checkCorsHeader("X-Api-Key"), "");
  EXPECT_NE(checkCorsHeader("X Api"), "");
  EXPECT_NE(checkCorsHeader("a:b"), "");
  EXPECT_EQ(checkCorsMaxAge(-1), "");
  EXPECT_EQ(checkCorsMaxAge(86400), "");
  EXPECT_NE(checkCorsMaxAge(86401), "");
  EXPECT_NE(checkCorsMaxAge(-2), "");
}

LoadResult load(std::string_view toml) { return loadConfigFromString(toml, "test.conf", "/tmp"); }

std::string errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.toString() + "\n";
  return out;
}

TEST(CorsConfigTest, GlobalTableDefaultsAndValues) {
  auto none = load("");
  ASSERT_TRUE(none.config) << errors(none);
  EXPECT_FALSE(none.config->cors.enabled);

  auto r = load(R"(
[cors]
accessControlAllowOrigins = ["https://app.example.com", "https://*.example.org"]
accessControlAllowCredentials = true
accessControlAllowHeaders = ["apikey", "Content-Type"]
accessControlAllowMethods = ["GET", "POST"]
accessControlExposeHeaders = ["X-Request-Id"]
accessControlMaxAge = 600
)");
  ASSERT_TRUE(r.config) << errors(r);
  const CorsConfig& c = r.config->cors;
  EXPECT_TRUE(c.enabled);  // writing the table is the opt-in
  EXPECT_EQ(c.allowOrigins.size(), 2u);
  EXPECT_TRUE(c.allowCredentials);
  EXPECT_EQ(c.allowHeaders, (std::vector<std::string>{"apikey", "Content-Type"}));
  EXPECT_EQ(c.allowMethods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(c.exposeHeaders, (std::vector<std::string>{"X-Request-Id"}));
  EXPECT_EQ(c.maxAgeSeconds, 600);

  auto off = load("[cors]\ncorsConfigurationEnabled = false\n");
  ASSERT_TRUE(off.config) << errors(off);
  EXPECT_FALSE(off.config->cors.enabled);
}

// Issue 22 item 8: "*" with credentials would make the gateway echo every origin with
// Access-Control-Allow-Credentials: true; the Fetch standard forbids the combination.
TEST(CorsConfigTest, WildcardOriginWithCredentialsIsRefusedAtLoad) {
  for (const char* toml : {"[cors]\naccessControlAllowOrigins = [\"*\"]\n"
                           "accessControlAllowCredentials = true\n",
                           "[cors]\naccessControlAllowCredentials = true\n",  // "*" by default
                           "[cors]\naccessControlAllowOrigins = [\"https://a.test\", \"*\"]\n"
                           "accessControlAllowCredentials = true\n",
                           "[[apis.api]]\nname = \"A\"\nversion = \"1\"\ncontext = \"/a\"\n"
                           "production = \"http://127.0.0.1:1\"\n[apis.api.cors]\n"
                           "accessControlAllowOrigins = [\"*\"]\n"
                           "accessControlAllowCredentials = true\n"}) {
    auto r = load(toml);
    EXPECT_FALSE(r.config) << toml;
    EXPECT_NE(errors(r).find("accessControlAllowOrigins = [\"*\"] cannot be combined with "
                             "accessControlAllowCredentials = true"),
              std::string::npos)
        << errors(r);
  }
  CorsConfig c;
  c.enabled = true;
  c.allowCredentials = true;
  EXPECT_NE(checkCorsConfig(c), "");
  c.allowOrigins = {"https://a.test", "https://*.example.com"};
  EXPECT_EQ(checkCorsConfig(c), "");
  c.allowOrigins = {"*"};
  c.allowCredentials = false;
  EXPECT_EQ(checkCorsConfig(c), "");
}

TEST(CorsConfigTest, InlineApiTable) {
  auto r = load(R"(
[[apis.api]]
name = "A"
version = "1"
context = "/a"
production = "http://127.0.0.1:1"
[apis.api.cors]
accessControlAllowOrigins = ["http://127.0.0.1:8000"]
)");
  ASSERT_TRUE(r.config) << errors(r);
  ASSERT_EQ(r.config->apis.inlineApis.size(), 1u);
  const auto& cors = r.config->apis.inlineApis[0].cors;
  ASSERT_TRUE(cors);
  EXPECT_TRUE(cors->enabled);
  EXPECT_EQ(cors->allowOrigins, (std::vector<std::string>{"http://127.0.0.1:8000"}));
  EXPECT_FALSE(r.config->cors.enabled);
}

TEST(CorsConfigTest, BadValuesFailAtLoadWithTheLine) {
  struct Case {
    const char* toml;
    const char* expect;
  };
  for (const Case& c : {
           Case{"[cors]\naccessControlAllowOrigins = [\"https://*.com\"]\n",
                "test.conf:2: [cors] accessControlAllowOrigins"},
           Case{"[cors]\naccessControlAllowOrigins = [\"null\"]\n", "opaque origin"},
           Case{"[cors]\naccessControlAllowOrigins = []\n", "is empty"},
           Case{"[cors]\naccessControlAllowMethods = [\"GE T\"]\n", "HTTP method"},
           Case{"[cors]\naccessControlAllowHeaders = [\"a b\"]\n", "header field name"},
           Case{"[cors]\naccessControlMaxAge = 100000\n", "86400"},
           Case{"[cors]\naccessControlAllowOrigin = [\"*\"]\n", "did you mean"},
           Case{"[cors]\naccessControlAllowCredentials = \"yes\"\n", "boolean"},
       }) {
    auto r = load(c.toml);
    EXPECT_FALSE(r.config) << c.toml;
    EXPECT_NE(errors(r).find(c.expect), std::string::npos) << c.toml << "\n" << errors(r);
  }
}

TEST(JwtGeneratorConfigTest, DefaultsValuesAndChecks) {
  auto none = load("");
  ASSERT_TRUE(none.config) << errors(none);
  const auto& d = none.config->jwtGenerator;
  EXPECT_FALSE(d.enabled);
  EXPECT_EQ(d.header, "X-JWT-Assertion");
  EXPECT_EQ(d.validitySeconds, 900);
  EXPECT_EQ(d.claims,
            (std::vector<std::string>{"sub", "keytype", "application", "tier", "subscriber"}));

  auto r = load(
      "[jwtGenerator]\nenabled = true\nheader = \"X-Caller\"\nissuer = \"gw\"\n"
      "validitySeconds = 120\nclaims = [\"sub\"]\nsigningKey = \"k.pem\"\n");
  ASSERT_TRUE(r.config) << errors(r);
  EXPECT_EQ(r.config->jwtGenerator.header, "X-Caller");
  EXPECT_EQ(r.config->jwtGenerator.signingKey, "/tmp/k.pem");
  EXPECT_EQ(r.config->jwtGenerator.claims, (std::vector<std::string>{"sub"}));

  for (const char* bad :
       {"[jwtGenerator]\nclaims = [\"password\"]\n", "[jwtGenerator]\nvaliditySeconds = 5\n",
        "[jwtGenerator]\nheader = \"X Bad\"\n",
        "[jwtGenerator]\nenabled = true\nkid = \"ballerina\"\n",
        "[apikey.issuer.tokenConfig]\nenabled = false\n"
        "[jwtGenerator]\nenabled = true\n"}) {
    auto b = load(bad);
    EXPECT_FALSE(b.config) << bad;
  }
}

}  // namespace
}  // namespace mgw::config
