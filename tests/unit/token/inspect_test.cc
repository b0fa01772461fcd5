#include "token/inspect.h"

#include <gtest/gtest.h>

#include "common/key_format.h"
#include "token_test_util.h"

namespace mgw::token {
namespace {

using namespace testing;

TEST(Inspect, ShowsHeaderClaimsAndTimesAndSaysNotVerified) {
  // header: {"alg":"RS256"}; claims:
  // {"iss":"joe","exp":1300819380,"http://example.com/is_root":true} (RFC 7515 appendix A.2
  // payload; the signature is irrelevant here and deliberately wrong)
  const std::string token =
      "eyJhbGciOiJSUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ.AAAA";
  bool ok = false;
  std::string text = inspectToken(token + "\n", &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(
      text,
      "NOT VERIFIED: decoded without checking the signature\n"
      "header:\n"
      "{\n  \"alg\": \"RS256\"\n}\n"
      "claims:\n"
      "{\n  \"exp\": 1300819380,\n  \"http://example.com/is_root\": true,\n  \"iss\": \"joe\"\n}\n"
      "times (UTC):\n"
      "  exp: 2011-03-22T18:43:00Z\n"
      "signature: 3 bytes\n");
  EXPECT_EQ(text.find(token), std::string::npos);
}

TEST(Inspect, RendersEveryNumericDate) {
  const SigningKey& key = generatedKey(Algorithm::kEdDSA);
  nlohmann::json claims = goodClaims();
  claims["nbf"] = "soon";
  std::string text = inspectToken(signWith(key, claims));
  EXPECT_NE(
      text.find(
          "  iat: 2023-11-14T22:13:10Z\n  nbf: not a NumericDate\n  exp: 2023-11-14T23:13:20Z\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("NOT VERIFIED: decoded without checking the signature\n", 0), 0u);
}

TEST(Inspect, AFramedKeyIsReadThroughItsFrame) {
  const std::string jws = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLCJqdGkiOiJqdGktNDIifQ.AAAA";
  const std::string framed = frameSignedKey("acme", jws);
  bool ok = false;
  const std::string text = inspectToken(framed, &ok);
  EXPECT_TRUE(ok);
  EXPECT_NE(text.find("framed: acme_<JWS>_<checksum> (checksum right)\n"), std::string::npos);
  EXPECT_NE(text.find("\"jti\": \"jti-42\""), std::string::npos) << text;
  EXPECT_EQ(text.find(framed), std::string::npos);  // never the key itself
  const std::string truncated = inspectToken(framed.substr(0, framed.size() - 1), &ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(truncated.find("checksum is wrong"), std::string::npos) << truncated;
}

TEST(Inspect, MalformedInputGetsAPreciseError) {
  bool ok = true;
  EXPECT_EQ(inspectToken("abc", &ok),
            "malformed key: key has 1 dot-separated segments; a JWS compact key has 3 (RFC 7515 "
            "section 7.1)\n");
  EXPECT_FALSE(ok);
  EXPECT_EQ(inspectToken("e30.e3+.AA"),
            "malformed key: payload is not base64url (RFC 7515 section 2)\n");
  EXPECT_EQ(inspectToken(std::string(9000, 'a')),
            "malformed key: key is 9000 bytes; the limit is 8192\n");
}

}  // namespace
}  // namespace mgw::token
