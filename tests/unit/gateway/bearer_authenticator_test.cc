#include "gateway/bearer_authenticator.h"

#include <gtest/gtest.h>

#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

class BearerAuthenticatorTest : public GatewayFixture {
 protected:
  const ApiDefinition& api() { return router_->apis().front(); }
  const Resource& at(const std::string& path) {
    for (const Resource& r : api().resources)
      if (r.pathTemplate == path) return r;
    throw std::runtime_error(path);
  }
  AuthVerdict verify(const std::string& token, const std::string& path = "/oauth") {
    auto r = request("GET", "/pizzashack/1.0.0" + path);
    BearerAuthenticator a(*validator_);
    return a.verify(Credential{Scheme::kBearer, token, {}},
                    AuthInput{r, api(), at(path), r.clientAddress, "", kNowMs});
  }
};

TEST_F(BearerAuthenticatorTest, ExtractsOnlyWhereTheResourceTakesOAuth2) {
  BearerAuthenticator a(*validator_);
  auto r = request("GET", "/pizzashack/1.0.0/oauth", {{"Authorization", "bearer  tok "}});
  auto found = a.extract(r, api(), at("/oauth"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value, "tok");
  EXPECT_EQ(found->scheme, Scheme::kBearer);
  EXPECT_FALSE(a.extract(r, api(), at("/menu")));
  auto basic = request("GET", "/pizzashack/1.0.0/oauth", {{"Authorization", "Basic abc"}});
  EXPECT_FALSE(a.extract(basic, api(), at("/oauth")));
}

TEST_F(BearerAuthenticatorTest, OneOfTheResourcesScopesIsNeeded) {
  auto ok = verify(bearerToken("write read"));
  ASSERT_EQ(ok.kind, AuthVerdict::Kind::kAccepted);
  EXPECT_EQ(ok.principal.issuer, kOAuthIssuer);
  auto missing = verify(bearerToken("write"));
  EXPECT_EQ(missing.refusal.failure, Failure::kMissingScope);
  EXPECT_EQ(missing.refusal.description, "the access token needs one of the scopes read");
}

TEST_F(BearerAuthenticatorTest, AnApiKeyIsNoBearerToken) {
  auto v = verify(goodKey());
  EXPECT_EQ(v.refusal.failure, Failure::kWrongIssuer);
  EXPECT_EQ(v.refusal.description, "the bearer token was issued by an API key issuer");
}

}  // namespace
}  // namespace mgw::gateway::testing
