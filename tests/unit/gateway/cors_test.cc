// Preflight answers and actual-response fields of a CORS policy, as plain data.
#include "gateway/cors.h"

#include <gtest/gtest.h>

namespace mgw::gateway {
namespace {

message::HttpRequest preflightFrom(const std::string& origin, const std::string& method,
                                   const std::string& headers = "") {
  message::HttpRequest r;
  r.method = "OPTIONS";
  r.headers.emplace("Origin", origin);
  r.headers.emplace("Access-Control-Request-Method", method);
  if (!headers.empty()) r.headers.emplace("Access-Control-Request-Headers", headers);
  return r;
}

std::string field(const HeaderList& list, const std::string& name) {
  std::string out;
  for (const auto& [n, v] : list)
    if (n == name) out += (out.empty() ? "" : "|") + v;
  return out;
}

config::CorsConfig policy() {
  config::CorsConfig c;
  c.enabled = true;
  c.allowOrigins = {"http://127.0.0.1:8000", "https://*.example.com"};
  c.allowMethods = {"GET", "POST"};
  c.allowHeaders = {"apikey", "Content-Type"};
  c.exposeHeaders = {"X-Request-Id", "X-Total"};
  c.maxAgeSeconds = 600;
  return c;
}

TEST(CorsTest, WhatIsAPreflight) {
  EXPECT_TRUE(isPreflight(preflightFrom("http://a.test", "GET")));
  message::HttpRequest noAcrm;
  noAcrm.method = "OPTIONS";
  noAcrm.headers.emplace("Origin", "http://a.test");
  EXPECT_FALSE(isPreflight(noAcrm));
  message::HttpRequest noOrigin;
  noOrigin.method = "OPTIONS";
  noOrigin.headers.emplace("Access-Control-Request-Method", "GET");
  EXPECT_FALSE(isPreflight(noOrigin));
  auto get = preflightFrom("http://a.test", "GET");
  get.method = "GET";
  EXPECT_FALSE(isPreflight(get));
}

TEST(CorsTest, AllowedPreflightAnswer) {
  const CorsPolicy p(policy());
  auto a = p.preflight(preflightFrom("http://127.0.0.1:8000", "POST", "ApiKey, content-type"));
  ASSERT_TRUE(a.allowed) << a.reason;
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Origin"), "http://127.0.0.1:8000");
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Methods"), "GET, POST");
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Headers"), "apikey, Content-Type");
  EXPECT_EQ(field(a.headers, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Credentials"), "");
  EXPECT_NE(field(a.headers, "Vary").find("Origin"), std::string::npos);
}

TEST(CorsTest, RefusedPreflights) {
  const CorsPolicy p(policy());
  EXPECT_FALSE(p.preflight(preflightFrom("http://127.0.0.1:8001", "GET")).allowed);
  EXPECT_FALSE(p.preflight(preflightFrom("https://a.b.example.com", "GET")).allowed);
  EXPECT_TRUE(p.preflight(preflightFrom("https://a.example.com", "GET")).allowed);
  auto m = p.preflight(preflightFrom("http://127.0.0.1:8000", "DELETE"));
  EXPECT_FALSE(m.allowed);
  EXPECT_NE(m.reason.find("DELETE"), std::string::npos);
  EXPECT_FALSE(p.preflight(preflightFrom("http://127.0.0.1:8000", "get")).allowed);  // case
  auto h = p.preflight(preflightFrom("http://127.0.0.1:8000", "GET", "apikey, X-Secret"));
  EXPECT_FALSE(h.allowed);
  EXPECT_NE(h.reason.find("X-Secret"), std::string::npos);
  EXPECT_TRUE(h.headers.empty());
  auto twoOrigins = preflightFrom("http://127.0.0.1:8000", "GET");
  twoOrigins.headers.emplace("Origin", "http://127.0.0.1:8000");
  EXPECT_FALSE(p.preflight(twoOrigins).allowed);
}

TEST(CorsTest, CredentialsEchoTheOriginNeverStar) {
  config::CorsConfig c = policy();
  c.allowOrigins = {"*"};
  c.allowCredentials = true;
  c.allowMethods = {"*"};
  c.allowHeaders = {"*"};
  const CorsPolicy p(c);
  auto a = p.preflight(preflightFrom("https://x.test", "PURGE", "X-One, X-Two"));
  ASSERT_TRUE(a.allowed);
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Origin"), "https://x.test");
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Methods"), "PURGE");
  EXPECT_EQ(field(a.headers, "Access-Control-Allow-Headers"), "X-One, X-Two");
  message::HttpRequest get;
  get.method = "GET";
  get.headers.emplace("Origin", "https://x.test");
  auto h = p.responseHeaders(get);
  EXPECT_EQ(field(h, "Access-Control-Allow-Origin"), "https://x.test");
  EXPECT_EQ(field(h, "Access-Control-Allow-Credentials"), "true");
}

TEST(CorsTest, ActualResponseFields) {
  const CorsPolicy p(policy());
  message::HttpRequest get;
  get.method = "GET";
  get.headers.emplace("Origin", "http://127.0.0.1:8000");
  auto h = p.responseHeaders(get);
  EXPECT_EQ(field(h, "Access-Control-Allow-Origin"), "http://127.0.0.1:8000");
  EXPECT_EQ(field(h, "Access-Control-Expose-Headers"), "X-Request-Id, X-Total");
  EXPECT_EQ(field(h, "Vary"), "Origin");

  message::HttpRequest other;
  other.method = "GET";
  other.headers.emplace("Origin", "http://evil.test");
  auto o = p.responseHeaders(other);
  EXPECT_EQ(field(o, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(field(o, "Vary"), "Origin");  // the answer still depends on Origin

  message::HttpRequest none;
  none.method = "GET";
  EXPECT_EQ(field(p.responseHeaders(none), "Access-Control-Allow-Origin"), "");

  config::CorsConfig off = policy();
  off.enabled = false;
  EXPECT_TRUE(CorsPolicy(off).responseHeaders(get).empty());
}

}  // namespace
}  // namespace mgw::gateway
