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

// gRPC calls get the same refusal as grpc-status and grpc-message; the refusal's own fields
// (Retry-After) and X-Request-Id stay, as metadata.
TEST(RefusalTest, AGrpcCallGetsGrpcStatusAndTheDescription) {
  message::HttpRequest call;
  call.method = "POST";
  call.headers.emplace("content-type", "application/grpc");
  Refusal throttled{Failure::kSubscriptionThrottled,
                    "the policy Gold allows 5 requests per 60 s; retry after 7 s", "internal"};
  throttled.set("Retry-After", "7");
  auto reply = refusalAnswer(throttled, nullptr, call, "rid");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_EQ(reply.headers.find("Content-Type")->second, "application/grpc");
  EXPECT_EQ(reply.headers.find("grpc-status")->second, "8");
  EXPECT_EQ(reply.headers.find("grpc-message")->second,
            "the policy Gold allows 5 requests per 60 s; retry after 7 s");
  EXPECT_EQ(reply.headers.find("Retry-After")->second, "7");
  EXPECT_EQ(reply.headers.find("X-Request-Id")->second, "rid");

  auto missing =
      refusalAnswer(Refusal{Failure::kMissingCredentials, "no key", ""}, nullptr, call, "rid");
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(missing.headers.find("grpc-status")->second, "16");
  EXPECT_EQ(missing.headers.count("WWW-Authenticate"), 0u);
  EXPECT_EQ(refusalAnswer(Refusal{Failure::kApiNotAllowed, "d", ""}, nullptr, call, "rid")
                .headers.find("grpc-status")
                ->second,
            "7");
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
