#include "gateway/basic_authenticator.h"

#include <gtest/gtest.h>

#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

class BasicAuthenticatorTest : public GatewayFixture {
 protected:
  const ApiDefinition& api() { return router_->apis().front(); }
  const Resource& at(const std::string& path) {
    for (const Resource& r : api().resources)
      if (r.pathTemplate == path) return r;
    throw std::runtime_error(path);
  }
  BasicAuthenticator authenticator() {
    return BasicAuthenticator(*users_, config_.users, loginThrottle_);
  }
  AuthVerdict verifyBlocking(const std::string& header, const std::string& path = "/basic",
                             const std::string& client = "192.0.2.7") {
    auto r = request("GET", "/pizzashack/1.0.0" + path, {{"Authorization", header}}, true);
    return authenticator().verifyBlocking(Credential{Scheme::kBasic, header, {}},
                                          AuthInput{r, api(), at(path), client, "", kNowMs});
  }
  static std::string header(const HeaderEdit* edit) { return edit ? edit->value : ""; }
  static const HeaderEdit* find(const Refusal& r, const std::string& name) {
    for (const auto& h : r.headers)
      if (h.name == name) return &h;
    return nullptr;
  }
};

TEST_F(BasicAuthenticatorTest, TheSchemeIsCaseInsensitive) {
  for (const char* v : {"Basic abc", "basic abc", "BASIC abc", "  Basic abc"})
    EXPECT_TRUE(carriesBasicAuthorization(request("GET", "/", {{"Authorization", v}}))) << v;
  for (const char* v : {"Basic", "Basic ", "Bearer abc", "Basicabc"})
    EXPECT_FALSE(carriesBasicAuthorization(request("GET", "/", {{"Authorization", v}}))) << v;
  EXPECT_FALSE(carriesBasicAuthorization(request("GET", "/")));
}

TEST_F(BasicAuthenticatorTest, ExtractsOnlyWhereTheResourceTakesBasic) {
  auto a = authenticator();
  auto r = request("GET", "/", {{"Authorization", "Basic abc"}});
  EXPECT_EQ(a.extract(r, api(), at("/basic"))->value, "Basic abc");
  EXPECT_FALSE(a.extract(r, api(), at("/menu")));
}

TEST_F(BasicAuthenticatorTest, PlainHttpIsRefusedWithoutCheckingThePassword) {
  auto r = request("GET", "/pizzashack/1.0.0/basic",
                   {{"Authorization", basicHeader("alice", "alice-secret")}});
  auto v = authenticator().verify(Credential{Scheme::kBasic, r.header("Authorization"), {}},
                                  AuthInput{r, api(), at("/basic"), "192.0.2.7", "", kNowMs});
  ASSERT_EQ(v.kind, AuthVerdict::Kind::kRefused);
  EXPECT_EQ(v.refusal.failure, Failure::kAuthMissing);
  EXPECT_EQ(v.refusal.reason, "basic credentials over plain HTTP");
  EXPECT_EQ(users_->argon2Verifications(), 0u);
  r.tls = true;
  auto deferred =
      authenticator().verify(Credential{Scheme::kBasic, r.header("Authorization"), {}},
                             AuthInput{r, api(), at("/basic"), "192.0.2.7", "", kNowMs});
  EXPECT_EQ(deferred.kind, AuthVerdict::Kind::kDefer);
  EXPECT_EQ(users_->argon2Verifications(), 0u);
}

TEST_F(BasicAuthenticatorTest, AUserBecomesThePrincipal) {
  auto v = verifyBlocking(basicHeader("alice", "alice-secret"));
  ASSERT_EQ(v.kind, AuthVerdict::Kind::kAccepted);
  EXPECT_EQ(v.principal.keyId, "basic:alice");
  EXPECT_EQ(v.principal.subject, "alice");
  EXPECT_EQ(v.principal.keytype, "PRODUCTION");
  EXPECT_EQ(v.principal.tier, "Gold");
  EXPECT_EQ(v.principal.subscriptionTier, "Gold");
  EXPECT_TRUE(v.principal.applicationId.empty());
}

TEST_F(BasicAuthenticatorTest, RefusalsSayWhatToFix) {
  auto bad = verifyBlocking(basicHeader("alice", "wrong"));
  EXPECT_EQ(bad.refusal.failure, Failure::kAuthInvalid);
  EXPECT_EQ(bad.refusal.description, "invalid user name or password");
  EXPECT_EQ(header(find(bad.refusal, "WWW-Authenticate")), kBasicChallenge);
  auto malformed = verifyBlocking("Basic !!!");
  EXPECT_EQ(malformed.refusal.failure, Failure::kAuthMalformed);
  EXPECT_EQ(header(find(malformed.refusal, "WWW-Authenticate")), kBasicChallenge);
  auto notAllowed = verifyBlocking(basicHeader("bob", "alice-secret"));
  EXPECT_EQ(notAllowed.refusal.failure, Failure::kApiNotAllowed);
  EXPECT_EQ(notAllowed.refusal.description,
            "user 'bob' may not call PizzaShackAPI:1.0.0 ([b7a.users.bob] apis)");
  EXPECT_EQ(find(notAllowed.refusal, "WWW-Authenticate"), nullptr);
  // The password never appears in what is said or logged.
  EXPECT_EQ(bad.refusal.reason.find("wrong"), std::string::npos);
}

TEST_F(BasicAuthenticatorTest, ScopesOfTheResourceAreChecked) {
  config_.users[0].scopes = {"write"};
  auto v = verifyBlocking(basicHeader("alice", "alice-secret"), "/oauth");
  EXPECT_EQ(v.refusal.failure, Failure::kMissingScope);
  EXPECT_EQ(v.refusal.description,
            "user 'alice' has none of the scopes read ([b7a.users.alice] scopes)");
}

TEST_F(BasicAuthenticatorTest, TheLoginThrottleAnswers429WithRetryAfter) {
  for (int i = 0; i < config_.auth.maxFailures; ++i)
    EXPECT_EQ(verifyBlocking(basicHeader("alice", "wrong")).refusal.failure, Failure::kAuthInvalid);
  auto v = verifyBlocking(basicHeader("alice", "wrong"));
  EXPECT_EQ(v.refusal.failure, Failure::kTooManyAttempts);
  EXPECT_EQ(v.refusal.description.rfind("too many failed attempts; retry after ", 0), 0u);
  EXPECT_NE(find(v.refusal, "Retry-After"), nullptr);
  EXPECT_EQ(find(v.refusal, "WWW-Authenticate"), nullptr);
}

}  // namespace
}  // namespace mgw::gateway::testing
