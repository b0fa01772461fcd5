#include "gateway/api_key_authenticator.h"

#include <gtest/gtest.h>

#include "gateway_fixture.h"

namespace mgw::gateway::testing {
namespace {

class ApiKeyAuthenticatorTest : public GatewayFixture {
 protected:
  const ApiDefinition& api() { return router_->apis().front(); }
  const Resource& at(const std::string& path) {
    for (const Resource& r : api().resources)
      if (r.pathTemplate == path) return r;
    throw std::runtime_error(path);
  }
  AuthVerdict verify(const message::HttpRequest& r, const std::string& key,
                     const std::string& path = "/menu") {
    ApiKeyAuthenticator a(*validator_);
    return a.verify(Credential{Scheme::kApiKey, key, {}},
                    AuthInput{r, api(), at(path), r.clientAddress, "", kNowMs});
  }
};

TEST_F(ApiKeyAuthenticatorTest, ExtractsFromTheResourcesLocationsOnly) {
  ApiKeyAuthenticator a(*validator_);
  auto header = request("GET", "/pizzashack/1.0.0/menu", {{"apikey", "  k1  "}});
  auto found = a.extract(header, api(), at("/menu"));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->value, "k1");
  EXPECT_EQ(found->scheme, Scheme::kApiKey);
  auto query = request("GET", "/pizzashack/1.0.0/menu?apikey=k2");
  EXPECT_EQ(a.extract(query, api(), at("/menu"))->value, "k2");
  // /either takes the header only; /oauth the "key" query parameter only.
  EXPECT_FALSE(a.extract(query, api(), at("/either")));
  auto other = request("GET", "/pizzashack/1.0.0/oauth?key=k3", {{"apikey", "k4"}});
  EXPECT_EQ(a.extract(other, api(), at("/oauth"))->value, "k3");
  EXPECT_FALSE(a.extract(request("GET", "/x"), api(), at("/menu")));
}

TEST_F(ApiKeyAuthenticatorTest, AcceptsAValidKeyAsOnePrincipal) {
  auto r = request("GET", "/pizzashack/1.0.0/menu");
  auto v = verify(r, goodKey());
  ASSERT_EQ(v.kind, AuthVerdict::Kind::kAccepted);
  EXPECT_EQ(v.principal.keyId, "jti-1");
  EXPECT_EQ(v.principal.subject, "carol");
  EXPECT_EQ(v.principal.keytype, "PRODUCTION");
  EXPECT_EQ(v.principal.subscriptionTier, "Gold");
  EXPECT_FALSE(v.principal.sandbox);
}

TEST_F(ApiKeyAuthenticatorTest, RefusesWithTheValidatorsFailureAndKeepsTheKeyId) {
  auto r = request("GET", "/pizzashack/1.0.0/menu");
  json other = claims();
  other["allowedAPIs"] = json::array();
  auto v = verify(r, sign(other));
  ASSERT_EQ(v.kind, AuthVerdict::Kind::kRefused);
  EXPECT_EQ(v.refusal.failure, Failure::kApiNotAllowed);
  EXPECT_EQ(v.principal.keyId, "jti-1");
  EXPECT_NE(v.refusal.description.find("PizzaShackAPI:1.0.0"), std::string::npos);
  auto bad = verify(r, "a.b.c");
  EXPECT_EQ(bad.refusal.failure, Failure::kMalformedKey);
  EXPECT_FALSE(bad.principal.keyId.empty());
  // A bearer issuer's token is no API key.
  EXPECT_EQ(verify(r, bearerToken("read")).refusal.failure, Failure::kWrongIssuer);
}

TEST_F(ApiKeyAuthenticatorTest, RestrictionsSeeTheRequest) {
  json limited = claims();
  limited["permittedReferer"] = "https://shop.example/*";
  const std::string key = sign(limited);
  auto without = request("GET", "/pizzashack/1.0.0/menu");
  EXPECT_EQ(verify(without, key).refusal.failure, Failure::kRefererNotPermitted);
  auto with = request("GET", "/pizzashack/1.0.0/menu", {{"Referer", "https://shop.example/a"}});
  EXPECT_EQ(verify(with, key).kind, AuthVerdict::Kind::kAccepted);
}

}  // namespace
}  // namespace mgw::gateway::testing
