#include <gtest/gtest.h>

#include "token/jws.h"

namespace mgw::token {
namespace {

Claims parseOk(const nlohmann::json& payload) {
  Claims claims;
  std::string reason;
  EXPECT_TRUE(claimsFromJson(payload, &claims, &reason)) << reason;
  return claims;
}

std::string parseError(const nlohmann::json& payload) {
  Claims claims;
  std::string reason;
  EXPECT_FALSE(claimsFromJson(payload, &claims, &reason));
  return reason;
}

// Issue 24 item 6: iat in milliseconds (WSO2's test tokens) is read as seconds; a seconds value is
// kept as it is, the threshold's neighbours included.
TEST(Claims, IatInMillisecondsIsReadAsSeconds) {
  EXPECT_EQ(parseOk({{"iat", 1582017353123LL}}).iat, 1582017353);
  EXPECT_EQ(parseOk({{"iat", 1582017353}}).iat, 1582017353);
  EXPECT_EQ(parseOk({{"iat", kMillisecondIatThreshold - 1}}).iat, kMillisecondIatThreshold - 1);
  EXPECT_EQ(parseOk({{"iat", kMillisecondIatThreshold}}).iat, 1000000000);
  // A future time in milliseconds stays in the future in seconds (the validator refuses it).
  EXPECT_EQ(parseOk({{"iat", 4102444800000LL}}).iat, 4102444800);  // 2100-01-01
}

TEST(Claims, MicroGwShape) {
  Claims c = parseOk({{"sub", "admin"},
                      {"iss", "https://localhost:9095/apikey"},
                      {"iat", 1700000000},
                      {"jti", "j-1"},
                      {"exp", 1700003600},
                      {"keytype", "SANDBOX"},
                      {"allowedAPIs", {{{"name", "PizzaShackAPI"}, {"version", "1.0.0"}}}},
                      {"permittedIP", "10.0.0.0/8"},
                      {"permittedReferer", "*.example.com/*"}});
  EXPECT_EQ(c.sub, "admin");
  EXPECT_EQ(c.iat, 1700000000);
  EXPECT_EQ(c.exp, 1700003600);
  EXPECT_FALSE(c.nbf);
  EXPECT_EQ(c.keytype, "SANDBOX");
  ASSERT_EQ(c.allowedApis.size(), 1u);
  EXPECT_EQ(c.allowedApis[0].version, "1.0.0");
  EXPECT_EQ(c.permittedIP, "10.0.0.0/8");
  EXPECT_EQ(c.permittedReferer, "*.example.com/*");
}

TEST(Claims, Defaults) {
  Claims c = parseOk(nlohmann::json::object());
  EXPECT_EQ(c.keytype, "PRODUCTION");
  EXPECT_EQ(c.iat, 0);
  EXPECT_FALSE(c.exp);
  EXPECT_TRUE(c.allowedApis.empty());
}

TEST(Claims, Wso2ApiManagerSubscribedApis) {
  Claims c = parseOk({{"subscribedAPIs",
                       {{{"name", "PizzaShackAPI"},
                         {"context", "/pizzashack/1.0.0"},
                         {"version", "1.0.0"},
                         {"publisher", "admin"},
                         {"subscriptionTier", "Unlimited"}}}}});
  ASSERT_EQ(c.allowedApis.size(), 1u);
  EXPECT_EQ(c.allowedApis[0].name, "PizzaShackAPI");
  EXPECT_EQ(c.allowedApis[0].version, "1.0.0");
  EXPECT_EQ(c.allowedApis[0].tier, "Unlimited");
}

// Throttling (SPEC section 13): the tiers a key carries.
TEST(Claims, TiersOfApiManagerAndStsKeys) {
  Claims apim = parseOk(
      {{"application",
        {{"owner", "kanchana"}, {"tier", "50PerMin"}, {"name", "DefaultApplication"}, {"id", 35}}},
       {"subscribedAPIs", {{{"name", "A"}, {"version", "1"}, {"subscriptionTier", "Gold"}}}}});
  EXPECT_EQ(apim.applicationId, "35");
  EXPECT_EQ(apim.applicationTier, "50PerMin");
  EXPECT_EQ(apim.allowedApis[0].tier, "Gold");
  EXPECT_EQ(apim.tier, "");
  Claims uuid = parseOk({{"application", {{"id", 35}, {"uuid", "u-1"}, {"tier", "10PerMin"}}}});
  EXPECT_EQ(uuid.applicationId, "u-1");  // the uuid is unique across tenants; the id is not
  Claims named = parseOk({{"application", {{"owner", "o"}, {"name", "n"}}}});
  EXPECT_EQ(named.applicationId, "o/n");
  EXPECT_EQ(named.applicationTier, "");
  Claims sts = parseOk({{"tier", "Bronze"}});
  EXPECT_EQ(sts.tier, "Bronze");
  EXPECT_EQ(sts.applicationId, "");
  EXPECT_NE(parseError({{"tier", 5}}), "");
}

TEST(Claims, NumericDates) {
  EXPECT_EQ(parseOk({{"exp", 1700000000.9}}).exp,
            1700000000);  // RFC 7519 section 2: may be fractional
  EXPECT_EQ(parseOk({{"exp", "1700000000"}}).exp, 1700000000);  // WSO2 string form
  EXPECT_EQ(parseError({{"exp", "1700000000Z"}}),
            "claim \"exp\" is not a NumericDate (RFC 7519 section 2)");
  EXPECT_EQ(parseError({{"nbf", "-1"}}), "claim \"nbf\" is not a NumericDate (RFC 7519 section 2)");
  EXPECT_EQ(parseError({{"iat", nullptr}}),
            "claim \"iat\" is not a NumericDate (RFC 7519 section 2)");
  EXPECT_EQ(parseError({{"exp", 1e300}}),
            "claim \"exp\" is not a NumericDate (RFC 7519 section 2)");
  EXPECT_EQ(parseError({{"exp", 18446744073709551615ULL}}),
            "claim \"exp\" is not a NumericDate (RFC 7519 section 2)");
  EXPECT_EQ(parseError({{"exp", nlohmann::json::array()}}),
            "claim \"exp\" is not a NumericDate (RFC 7519 section 2)");
}

TEST(Claims, WrongTypes) {
  EXPECT_EQ(parseError({{"sub", 1}}), "claim \"sub\" is not a string");
  EXPECT_EQ(parseError({{"iss", nlohmann::json::array()}}), "claim \"iss\" is not a string");
  EXPECT_EQ(parseError({{"keytype", false}}), "claim \"keytype\" is not a string");
  EXPECT_EQ(parseError({{"allowedAPIs", "PizzaShackAPI"}}),
            "claim \"allowedAPIs\" is not an array");
  EXPECT_EQ(parseError({{"allowedAPIs", {"x"}}}), "claim \"allowedAPIs\"[0] is not an object");
  EXPECT_EQ(parseError({{"allowedAPIs", {{{"name", "A"}}}}}),
            "claim \"allowedAPIs\"[0] needs string \"name\" and \"version\"");
  EXPECT_EQ(parseError(nlohmann::json::array()), "claims are not a JSON object");
}

TEST(Claims, NothingIsWrittenOnFailure) {
  Claims claims;
  claims.sub = "before";
  std::string reason;
  EXPECT_FALSE(claimsFromJson({{"sub", "after"}, {"exp", "x"}}, &claims, &reason));
  EXPECT_EQ(claims.sub, "before");
}

}  // namespace
}  // namespace mgw::token
