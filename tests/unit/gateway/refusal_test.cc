#include "gateway/refusal.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/cors.h"

namespace mgw::gateway {
namespace {

message::HttpRequest fromOrigin(const std::string& origin) {
  message::HttpRequest r;
  r.method = "GET";
  r.headers.emplace("Origin", origin);
  return r;
}

std::size_t count(const message::HttpResponse& r, const std::string& name) {
  return r.headers.count(name);
}

TEST(RefusalTest, TheFaultBodyStatusAndCodeComeFromFaultFor) {
  for (Failure f : {Failure::kMissingCredentials, Failure::kApiNotAllowed, Failure::kNoApi,
                    Failure::kTooManyInvalidKeys, Failure::kSubscriptionThrottled}) {
    auto reply = refusalAnswer(Refusal{f, "why", "internal"}, nullptr, fromOrigin("x"), "rid");
    EXPECT_EQ(reply.status, faultFor(f).httpStatus);
    auto body = nlohmann::json::parse(reply.body);
    EXPECT_EQ(body["fault"]["code"], faultFor(f).code);
    EXPECT_EQ(body["fault"]["description"], "why");
    EXPECT_EQ(reply.body.find("internal"), std::string::npos);  // the reason is for the log
    EXPECT_EQ(reply.headers.find("X-Request-Id")->second, "rid");
    EXPECT_EQ(count(reply, "WWW-Authenticate"), faultFor(f).httpStatus == 401 ? 1u : 0u);
  }
}

TEST(RefusalTest, HeadersAreSetOrAppendedInOrder) {
  Refusal basic{Failure::kAuthInvalid, "d", ""};
  basic.set("WWW-Authenticate", std::string(kBasicChallenge)).set("Retry-After", "3");
  auto replaced = refusalAnswer(basic, nullptr, fromOrigin("x"), "rid");
  ASSERT_EQ(count(replaced, "WWW-Authenticate"), 1u);
  EXPECT_EQ(replaced.headers.find("WWW-Authenticate")->second, kBasicChallenge);
  EXPECT_EQ(replaced.headers.find("Retry-After")->second, "3");

  Refusal second{Failure::kMissingCredentials, "d", ""};
  second.append("WWW-Authenticate", std::string(kBasicChallenge));
  auto both = refusalAnswer(second, nullptr, fromOrigin("x"), "rid");
  auto [first, last] = both.headers.equal_range("WWW-Authenticate");
  ASSERT_EQ(std::distance(first, last), 2);
  EXPECT_EQ(first->second, "APIKey realm=\"micro-gw\"");
  EXPECT_EQ(std::next(first)->second, kBasicChallenge);
}

TEST(RefusalTest, CorsFieldsAndRequestIdOnlyWhenDecorated) {
  config::CorsConfig c;
  c.enabled = true;
  c.allowOrigins = {"https://app.example"};
  CorsPolicy cors(c);
  Refusal r{Failure::kApiNotAllowed, "d", ""};
  auto decorated = refusalAnswer(r, &cors, fromOrigin("https://app.example"), "rid");
  EXPECT_EQ(decorated.headers.find("Access-Control-Allow-Origin")->second, "https://app.example");
  EXPECT_EQ(count(decorated, "Vary"), 1u);
  r.decorated = false;
  auto plain = refusalAnswer(r, &cors, fromOrigin("https://app.example"), "rid");
  EXPECT_EQ(count(plain, "Access-Control-Allow-Origin"), 0u);
  EXPECT_EQ(count(plain, "X-Request-Id"), 0u);
}

}  // namespace
}  // namespace mgw::gateway
