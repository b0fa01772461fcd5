#include "token/jws.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token/keys.h"
#include "token_test_util.h"

namespace mgw::token {
namespace {

using namespace testing;

// RFC 7515 appendix A.2, RS256 with the RFC's RSA key (tests/testdata/token/rfc7515_a2_rsa_*.pem).
//   header: {"alg":"RS256"}
//   claims: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr const char* kRfcA2Token =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujGbds9uJdbF9CUA"
    "r7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_"
    "eSN9383LcOLn6_dO--"
    "xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igc"
    "N_Io"
    "ypGlUPQGe77Rw";

// RFC 7515 appendix A.3, ES256 with the RFC's P-256 key (tests/testdata/token/rfc7515_a3_ec_*.pem).
//   header: {"alg":"ES256"}
//   claims: as in A.2
constexpr const char* kRfcA3Token =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

constexpr std::int64_t kRfcExp = 1300819380;  // 2011-03-22T18:43:00Z

KeySet rfcKeySet(const std::string& pemFile) {
  std::string error;
  auto key = VerificationKey::fromPemFile(testdata(pemFile), &error);
  EXPECT_TRUE(key) << error;
  KeySet keys;
  keys.add({"rfc", "joe", key, true});  // the RFC tokens carry no kid: the only key is chosen
  return keys;
}

TEST(JwsRfc7515, A2Rs256Verifies) {
  VerifyResult result =
      verifyToken(kRfcA2Token, rfcKeySet("rfc7515_a2_rsa_public.pem"), kRfcExp - 60, 0);
  ASSERT_EQ(result.failure, Failure::kNone) << result.reason;
  EXPECT_EQ(result.claims.iss, "joe");
  EXPECT_EQ(result.claims.exp, kRfcExp);
}

TEST(JwsRfc7515, A2Rs256SigningReproducesTheRfcSignature) {
  // RSASSA-PKCS1-v1_5 is deterministic, so the exact signature is reproducible.
  std::string error;
  auto key = SigningKey::fromPem(readText(testdata("rfc7515_a2_rsa_private.pem")),
                                 Algorithm::kRS256, &error);
  ASSERT_TRUE(key) << error;
  Segments s = split(kRfcA2Token);
  auto signature = key->sign(s.header + "." + s.payload);
  ASSERT_TRUE(signature);
  EXPECT_EQ(base64UrlEncode(*signature), s.signature);
}

TEST(JwsRfc7515, A3Es256Verifies) {
  VerifyResult result = verifyToken(kRfcA3Token, rfcKeySet("rfc7515_a3_ec_public.pem"), kRfcExp, 0);
  ASSERT_EQ(result.failure, Failure::kNone) << result.reason;
  EXPECT_EQ(result.claims.iss, "joe");
}

TEST(JwsRfc7515, ExpiredAfterTheRfcExp) {
  VerifyResult result =
      verifyToken(kRfcA2Token, rfcKeySet("rfc7515_a2_rsa_public.pem"), kRfcExp + 1, 0);
  EXPECT_EQ(result.failure, Failure::kExpired);
  EXPECT_EQ(result.reason,
            "key expired at 2011-03-22T18:43:00Z (now 2011-03-22T18:43:01Z, skew 0 ms)");
}

TEST(JwsRfc7515, KeyOfTheOtherTypeIsAnAlgorithmMismatch) {
  VerifyResult result =
      verifyToken(kRfcA3Token, rfcKeySet("rfc7515_a2_rsa_public.pem"), kRfcExp, 0);
  EXPECT_EQ(result.failure, Failure::kAlgorithmMismatch);
}

// RFC 8037 appendix A.4: Ed25519 over "Example of Ed25519 signing" with the appendix A.1 key.
//   header: {"alg":"EdDSA"}
//   payload: the bytes "Example of Ed25519 signing" (not JSON, so only the key level is tested)
TEST(JwsRfc8037, A4Ed25519SignatureIsExactAndVerifies) {
  const std::string signingInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string expected =
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
  std::string error;
  auto key = SigningKey::fromPem(readText(testdata("rfc8037_a_ed25519_private.pem")),
                                 Algorithm::kEdDSA, &error);
  ASSERT_TRUE(key) << error;
  auto signature = key->sign(signingInput);
  ASSERT_TRUE(signature);
  EXPECT_EQ(base64UrlEncode(*signature), expected);

  auto pub = VerificationKey::fromPemFile(testdata("rfc8037_a_ed25519_public.pem"), &error);
  ASSERT_TRUE(pub) << error;
  EXPECT_EQ(pub->algorithm(), Algorithm::kEdDSA);
  EXPECT_TRUE(pub->verify(signingInput, *base64UrlDecode(expected)));
  EXPECT_FALSE(pub->verify(signingInput + "x", *base64UrlDecode(expected)));
  // RFC 8037 appendix A.2: the public key as a JWK.
  EXPECT_EQ(pub->toJwk("a")["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
}

// RFC 8032 section 5.1.7: S must be below the group order L. The same signature with L added to S
// verifies arithmetically (a malleable copy of a valid token); it must be refused.
TEST(JwsRfc8037, Ed25519SignatureWithSPlusLIsRefused) {
  const std::string signingInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  std::string signature = *base64UrlDecode(
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  std::string error;
  auto pub = VerificationKey::fromPemFile(testdata("rfc8037_a_ed25519_public.pem"), &error);
  ASSERT_TRUE(pub) << error;
  ASSERT_TRUE(pub->verify(signingInput, signature));
  // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
  const unsigned char kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
  unsigned carry = 0;
  for (int i = 0; i < 32; ++i) {
    unsigned sum = static_cast<unsigned char>(signature[32 + i]) + kL[i] + carry;
    signature[32 + i] = static_cast<char>(sum & 0xff);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);  // S + L still fits in 32 bytes for this signature (S is small)
  EXPECT_FALSE(pub->verify(signingInput, signature));
}

// ---- Round trips and attacks, for every algorithm ----------------------------------------------

class JwsPerAlgorithm : public ::testing::TestWithParam<Algorithm> {
 protected:
  const SigningKey& key() const { return generatedKey(GetParam()); }
};

TEST_P(JwsPerAlgorithm, SignThenVerifyRoundTrips) {
  std::string token = signWith(key(), goodClaims());
  VerifyResult result = verifyToken(token, keySetFor(key()), kNow, kSkewMs);
  ASSERT_EQ(result.failure, Failure::kNone) << result.reason;
  EXPECT_EQ(result.reason, "");
  EXPECT_EQ(result.claims.sub, "admin");
  EXPECT_EQ(result.claims.iss, kIssuer);
  EXPECT_EQ(result.claims.iat, kNow - 10);
  EXPECT_EQ(result.claims.exp, kNow + 3600);
  ASSERT_EQ(result.claims.allowedApis.size(), 1u);
  EXPECT_EQ(result.claims.allowedApis[0].name, "PizzaShackAPI");

  // SPEC section 6: header {"alg", "typ": "JWT", "kid"}, alg set from the key.
  Failure failure;
  std::string reason;
  auto parsed = parseCompact(token, &failure, &reason);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(
      parsed->header,
      (nlohmann::json{{"alg", algorithmName(GetParam())}, {"typ", "JWT"}, {"kid", "ballerina"}}));
  EXPECT_EQ(token.find('='), std::string::npos);  // RFC 7515 section 2: no padding
}

TEST_P(JwsPerAlgorithm, HeaderAlgFromCallerIsOverwrittenByTheKey) {
  auto token = signCompact({{"alg", "none"}, {"kid", "ballerina"}}, goodClaims(), key());
  ASSERT_TRUE(token);
  EXPECT_EQ(verifyToken(*token, keySetFor(key()), kNow, kSkewMs).failure, Failure::kNone);
}

TEST_P(JwsPerAlgorithm, EverySignatureBitFlipFails) {
  Segments s = split(signWith(key(), goodClaims()));
  const std::string signature = *base64UrlDecode(s.signature);
  KeySet keys = keySetFor(key());
  for (std::size_t bit = 0; bit < signature.size() * 8; ++bit) {
    std::string flipped = signature;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    Segments t = s;
    t.signature = base64UrlEncode(flipped);
    VerifyResult result = verifyToken(t.join(), keys, kNow, kSkewMs);
    ASSERT_TRUE(result.failure == Failure::kBadSignature ||
                result.failure == Failure::kMalformedKey)
        << "bit " << bit << ": " << failureName(result.failure);
    ASSERT_TRUE(result.claims.sub.empty()) << "claims must come back only on success";
  }
}

TEST_P(JwsPerAlgorithm, TruncatedSignatureFails) {
  Segments s = split(signWith(key(), goodClaims()));
  std::string signature = *base64UrlDecode(s.signature);
  KeySet keys = keySetFor(key());
  for (std::size_t keep :
       {signature.size() - 1, signature.size() / 2, std::size_t{1}, std::size_t{0}}) {
    Segments t = s;
    t.signature = base64UrlEncode(signature.substr(0, keep));
    VerifyResult result = verifyToken(t.join(), keys, kNow, kSkewMs);
    EXPECT_EQ(result.failure, Failure::kBadSignature) << keep << " bytes";
  }
  // One base64url character less leaves a length of 1 mod 4 or a different byte count.
  Segments t = s;
  t.signature.pop_back();
  VerifyResult result = verifyToken(t.join(), keys, kNow, kSkewMs);
  EXPECT_TRUE(result.failure == Failure::kBadSignature || result.failure == Failure::kMalformedKey);
  // Appending bytes is refused too (ES256: exactly 64 bytes, RFC 7518 section 3.4).
  t = s;
  t.signature = base64UrlEncode(signature + std::string(1, '\0'));
  EXPECT_EQ(verifyToken(t.join(), keys, kNow, kSkewMs).failure, Failure::kBadSignature);
}

TEST_P(JwsPerAlgorithm, ChangedClaimWithTheOldSignatureFails) {
  Segments s = split(signWith(key(), goodClaims()));
  KeySet keys = keySetFor(key());
  for (auto [name, value] : std::initializer_list<std::pair<const char*, nlohmann::json>>{
           {"sub", "mallory"},
           {"exp", kNow + 999999},
           {"allowedAPIs", nlohmann::json::array({{{"name", "*"}, {"version", "*"}}})},
           {"keytype", "SANDBOX"}}) {
    nlohmann::json claims = goodClaims();
    claims[name] = value;
    Segments t = s;
    t.payload = base64UrlEncode(claims.dump());
    EXPECT_EQ(verifyToken(t.join(), keys, kNow, kSkewMs).failure, Failure::kBadSignature) << name;
  }
  // The header is signed too: a new kid pointing at the same key must not help.
  Segments t = s;
  t.header = base64UrlEncode(
      nlohmann::json({{"alg", algorithmName(GetParam())}, {"kid", "ballerina"}}).dump());
  EXPECT_EQ(verifyToken(t.join(), keys, kNow, kSkewMs).failure, Failure::kBadSignature);
}

TEST_P(JwsPerAlgorithm, AnotherKeyOfTheSameAlgorithmFails) {
  // A key from another keystore (here the RFC key of the same type) with the trusted kid.
  std::string error;
  const char* pem = GetParam() == Algorithm::kRS256   ? "rfc7515_a2_rsa_private.pem"
                    : GetParam() == Algorithm::kES256 ? "rfc7515_a3_ec_private.pem"
                                                      : "rfc8037_a_ed25519_private.pem";
  auto other = SigningKey::fromPem(readText(testdata(pem)), GetParam(), &error);
  ASSERT_TRUE(other) << error;
  std::string token = signWith(*other, goodClaims());
  EXPECT_EQ(verifyToken(token, keySetFor(key()), kNow, kSkewMs).failure, Failure::kBadSignature);
}

TEST_P(JwsPerAlgorithm, AlgNoneWithEmptySignatureIsRefused) {
  // header: {"alg":"none","kid":"ballerina"}; claims: goodClaims(); signature: empty (RFC 7519
  // section 6.1)
  Segments t;
  t.header = base64UrlEncode(R"({"alg":"none","kid":"ballerina"})");
  t.payload = base64UrlEncode(goodClaims().dump());
  VerifyResult result = verifyToken(t.join(), keySetFor(key()), kNow, kSkewMs);
  EXPECT_EQ(result.failure, Failure::kAlgorithmMismatch);
  EXPECT_NE(result.reason.find("\"none\""), std::string::npos) << result.reason;
  // Also without kid, and with "None".
  t.header = base64UrlEncode(R"({"alg":"None"})");
  EXPECT_EQ(verifyToken(t.join(), keySetFor(key()), kNow, kSkewMs).failure,
            Failure::kAlgorithmMismatch);
}

TEST_P(JwsPerAlgorithm, OtherAlgorithmNamesAreRefused) {
  Segments s = split(signWith(key(), goodClaims()));
  for (const char* alg : {"HS256", "RS256", "ES256", "EdDSA", "PS256", "rs256", "ES256K"}) {
    if (alg == algorithmName(GetParam())) continue;
    Segments t = s;
    t.header = base64UrlEncode(nlohmann::json({{"alg", alg}, {"kid", "ballerina"}}).dump());
    EXPECT_EQ(verifyToken(t.join(), keySetFor(key()), kNow, kSkewMs).failure,
              Failure::kAlgorithmMismatch)
        << alg;
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwsPerAlgorithm, ::testing::ValuesIn(kAllAlgorithms),
                         [](const auto& info) { return std::string(algorithmName(info.param)); });

TEST(Jws, Hs256ConfusionWithThePublicKeyAsSecretIsRefused) {
  // The classic attack (RFC 8725 section 2.1): HMAC-SHA256 keyed with the RSA public key PEM, for a
  // verifier that lets the token pick the algorithm.
  //   header: {"alg":"HS256","typ":"JWT","kid":"ballerina"}; claims: goodClaims()
  std::string error;
  const std::string publicPem = readText(testdata("rfc7515_a2_rsa_public.pem"));
  auto pub = VerificationKey::fromPem(publicPem, &error);
  ASSERT_TRUE(pub) << error;
  KeySet keys;
  keys.add({"ballerina", kIssuer, pub, true});
  std::string input = base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"ballerina"})") + "." +
                      base64UrlEncode(goodClaims().dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int macLen = 0;
  HMAC(EVP_sha256(), publicPem.data(), static_cast<int>(publicPem.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &macLen);
  std::string token =
      input + "." + base64UrlEncode(std::string(reinterpret_cast<char*>(mac), macLen));
  VerifyResult result = verifyToken(token, keys, kNow, kSkewMs);
  EXPECT_EQ(result.failure, Failure::kAlgorithmMismatch);
  EXPECT_EQ(result.reason,
            "alg \"HS256\" is not RS256, the algorithm of trusted key \"ballerina\"");
}

// ---- Policy checks ------------------------------------------------------------------------------

class JwsPolicy : public ::testing::Test {
 protected:
  const SigningKey& key_ = generatedKey(Algorithm::kES256);
  KeySet keys_ = keySetFor(key_);

  Failure verifyClaims(const nlohmann::json& claims, std::int64_t now,
                       std::string* reason = nullptr) {
    VerifyResult result = verifyToken(signWith(key_, claims), keys_, now, kSkewMs);
    if (reason) *reason = result.reason;
    return result.failure;
  }
};

TEST_F(JwsPolicy, ExpiryOneSecondEitherSideOfTheSkew) {
  nlohmann::json claims = goodClaims();
  claims["exp"] = kNow;
  // now > exp + skew fails (RFC 7519 section 4.1.4 with 5 s leeway).
  EXPECT_EQ(verifyClaims(claims, kNow + 4), Failure::kNone);
  EXPECT_EQ(verifyClaims(claims, kNow + 5), Failure::kNone);
  std::string reason;
  EXPECT_EQ(verifyClaims(claims, kNow + 6, &reason), Failure::kExpired);
  EXPECT_EQ(reason, "key expired at 2023-11-14T22:13:20Z (now 2023-11-14T22:13:26Z, skew 5000 ms)");
}

TEST_F(JwsPolicy, NotBeforeOneSecondEitherSideOfTheSkew) {
  nlohmann::json claims = goodClaims();
  claims["nbf"] = kNow;
  // now + skew < nbf fails (RFC 7519 section 4.1.5).
  EXPECT_EQ(verifyClaims(claims, kNow - 4), Failure::kNone);
  EXPECT_EQ(verifyClaims(claims, kNow - 5), Failure::kNone);
  std::string reason;
  EXPECT_EQ(verifyClaims(claims, kNow - 6, &reason), Failure::kNotYetValid);
  EXPECT_EQ(
      reason,
      "key is not valid before 2023-11-14T22:13:20Z (now 2023-11-14T22:13:14Z, skew 5000 ms)");
}

TEST_F(JwsPolicy, NoExpMeansNoExpiry) {
  nlohmann::json claims = goodClaims();
  claims.erase("exp");
  EXPECT_EQ(verifyClaims(claims, kNow + 100LL * 365 * 86400), Failure::kNone);
}

TEST_F(JwsPolicy, HugeExpDoesNotOverflow) {
  nlohmann::json claims = goodClaims();
  claims["exp"] = INT64_MAX;
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kNone);
  claims["exp"] = INT64_MIN;
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kExpired);
}

TEST_F(JwsPolicy, WrongOrMissingIssuer) {
  nlohmann::json claims = goodClaims();
  claims["iss"] = "https://evil.example/apikey";
  std::string reason;
  EXPECT_EQ(verifyClaims(claims, kNow, &reason), Failure::kWrongIssuer);
  EXPECT_EQ(reason, "iss \"https://evil.example/apikey\" is not a trusted issuer");
  claims["iss"] = "https://localhost:9095/apikey/";  // exact comparison, no normalisation
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kWrongIssuer);
  claims.erase("iss");
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kWrongIssuer);
}

TEST_F(JwsPolicy, IssuerIsCheckedBeforeExpiry) {
  nlohmann::json claims = goodClaims();
  claims["iss"] = "other";
  claims["exp"] = kNow - 1000;
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kWrongIssuer);
}

TEST_F(JwsPolicy, KidIsNotReadForAnIssuerWithOneKey) {
  // WSO2 selects the key by issuer and never reads kid (SPEC section 7, issue 16).
  std::string token = signWith(key_, goodClaims(), "someone-else");
  EXPECT_EQ(verifyToken(token, keys_, kNow, kSkewMs).failure, Failure::kNone);
}

TEST_F(JwsPolicy, UnknownKidAmongSeveralKeysOfTheIssuer) {
  KeySet two = keys_;
  two.add({"other", kIssuer, generatedKey(Algorithm::kEdDSA).publicKey(), true, "", false});
  VerifyResult result =
      verifyToken(signWith(key_, goodClaims(), "someone-else"), two, kNow, kSkewMs);
  EXPECT_EQ(result.failure, Failure::kUnknownKey);
  EXPECT_EQ(result.reason,
            "kid \"someone-else\" names none of the trusted keys of issuer "
            "\"https://localhost:9095/apikey\"");
  EXPECT_EQ(verifyToken(signWith(key_, goodClaims()), two, kNow, kSkewMs).failure, Failure::kNone);
}

TEST_F(JwsPolicy, AKeyNeverVerifiesAnotherIssuersToken) {
  // A token naming issuer B, signed with issuer A's key and A's kid: B's key (RS256) is chosen.
  KeySet keys = keys_;
  const SigningKey& other = generatedKey(Algorithm::kRS256);
  keys.add({"b", "https://b.example", other.publicKey(), true, "", false});
  nlohmann::json claims = goodClaims();
  claims["iss"] = "https://b.example";
  EXPECT_EQ(verifyToken(signWith(key_, claims), keys, kNow, kSkewMs).failure,
            Failure::kAlgorithmMismatch);
  EXPECT_EQ(verifyToken(signWith(other, claims, "ballerina"), keys, kNow, kSkewMs).failure,
            Failure::kNone);
}

TEST_F(JwsPolicy, AudienceOfTheIssuer) {
  KeySet keys;
  keys.add({"ballerina", kIssuer, key_.publicKey(), true, "http://org.wso2.apimgt/gateway", false});
  nlohmann::json claims = goodClaims();
  VerifyResult none = verifyToken(signWith(key_, claims), keys, kNow, kSkewMs);
  EXPECT_EQ(none.failure, Failure::kWrongAudience);
  claims["aud"] = "http://elsewhere";
  EXPECT_EQ(verifyToken(signWith(key_, claims), keys, kNow, kSkewMs).failure,
            Failure::kWrongAudience);
  claims["aud"] = "http://org.wso2.apimgt/gateway";
  EXPECT_EQ(verifyToken(signWith(key_, claims), keys, kNow, kSkewMs).failure, Failure::kNone);
  claims["aud"] = {"x", "http://org.wso2.apimgt/gateway"};  // RFC 7519 section 4.1.3: an array
  EXPECT_EQ(verifyToken(signWith(key_, claims), keys, kNow, kSkewMs).failure, Failure::kNone);
  claims["aud"] = 7;
  EXPECT_EQ(verifyToken(signWith(key_, claims), keys, kNow, kSkewMs).failure,
            Failure::kMalformedKey);
  // An issuer without an audience accepts any aud, or none.
  claims["aud"] = "http://elsewhere";
  EXPECT_EQ(verifyToken(signWith(key_, claims), keys_, kNow, kSkewMs).failure, Failure::kNone);
}

TEST_F(JwsPolicy, MissingKidWithSeveralKeysIsUnknown) {
  auto token = signCompact({{"typ", "JWT"}}, goodClaims(), key_);
  ASSERT_TRUE(token);
  EXPECT_EQ(verifyToken(*token, keys_, kNow, kSkewMs).failure, Failure::kNone);  // one key: chosen
  KeySet two = keys_;
  two.add({"other", kIssuer, generatedKey(Algorithm::kEdDSA).publicKey(), true});
  EXPECT_EQ(verifyToken(*token, two, kNow, kSkewMs).failure, Failure::kUnknownKey);
}

TEST_F(JwsPolicy, ValidateAllowedApisComesFromTheTrustedKey) {
  KeySet keys;
  keys.add({"ballerina", kIssuer, key_.publicKey(), false});
  VerifyResult result = verifyToken(signWith(key_, goodClaims()), keys, kNow, kSkewMs);
  ASSERT_EQ(result.failure, Failure::kNone);
  EXPECT_FALSE(result.claims.validateAllowedApis);
}

TEST_F(JwsPolicy, NonNumericExpIsMalformed) {
  nlohmann::json claims = goodClaims();
  claims["exp"] = "tomorrow";
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kMalformedKey);
  claims["exp"] = true;
  EXPECT_EQ(verifyClaims(claims, kNow), Failure::kMalformedKey);
}

TEST_F(JwsPolicy, CritHeaderIsRefused) {
  auto token =
      signCompact({{"kid", "ballerina"}, {"crit", {"exp"}}, {"exp", 1}}, goodClaims(), key_);
  ASSERT_TRUE(token);
  EXPECT_EQ(verifyToken(*token, keys_, kNow, kSkewMs).failure, Failure::kMalformedKey);
}

TEST_F(JwsPolicy, PaddedSegmentsOfWso2KeysAreAccepted) {
  // WSO2 3.1 wrote base64url with '=' padding; the signature covers the segments as sent.
  nlohmann::json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "ballerina"}};
  std::string h = base64UrlEncode(header.dump()), p = base64UrlEncode(goodClaims().dump());
  while (h.size() % 4) h += '=';
  while (p.size() % 4) p += '=';
  ASSERT_TRUE(h.back() == '=' || p.back() == '=') << "test needs at least one padded segment";
  auto signature = key_.sign(h + "." + p);
  ASSERT_TRUE(signature);
  std::string token = h + "." + p + "." + base64UrlEncode(*signature);
  EXPECT_EQ(verifyToken(token, keys_, kNow, kSkewMs).failure, Failure::kNone);
  // The signature segment padded too (issue 22 item 8: WSO2 API Manager pads it).
  std::string s = base64UrlEncode(*signature);
  while (s.size() % 4) s += '=';
  ASSERT_EQ(s.back(), '=') << "a 64-byte ES256 signature is padded";
  EXPECT_EQ(verifyToken(h + "." + p + "." + s, keys_, kNow, kSkewMs).failure, Failure::kNone);
}

// ---- Parsing ------------------------------------------------------------------------------------

Failure parseFailure(std::string_view token, std::string* reason = nullptr) {
  Failure failure = Failure::kNone;
  std::string why;
  auto parsed = parseCompact(token, &failure, &why);
  if (reason) *reason = why;
  return parsed ? Failure::kNone : failure;
}

TEST(JwsParse, OversizeIsKeyTooLarge) {
  std::string token = signWith(generatedKey(Algorithm::kEdDSA), goodClaims());
  Segments s = split(token);
  // Pad the payload up to exactly the limit, then one byte over.
  nlohmann::json claims = goodClaims();
  claims["pad"] = "";
  std::string base = s.header + "." + base64UrlEncode(claims.dump()) + "." + s.signature;
  claims["pad"] = std::string((kMaxTokenBytes - base.size()) * 3 / 4 + 8, 'x');
  std::string big = s.header + "." + base64UrlEncode(claims.dump()) + "." + s.signature;
  ASSERT_GT(big.size(), kMaxTokenBytes);
  std::string reason;
  EXPECT_EQ(parseFailure(big, &reason), Failure::kKeyTooLarge);
  EXPECT_EQ(reason, "key is " + std::to_string(big.size()) + " bytes; the limit is 8192");
  VerifyResult result = verifyToken(big, keySetFor(generatedKey(Algorithm::kEdDSA)), kNow, kSkewMs);
  EXPECT_EQ(result.failure, Failure::kKeyTooLarge);
  EXPECT_EQ(parseFailure(std::string(kMaxTokenBytes + 1, 'a')), Failure::kKeyTooLarge);
  // Exactly at the limit is not "too large" (it fails later, as malformed).
  EXPECT_EQ(parseFailure(std::string(kMaxTokenBytes, 'a')), Failure::kMalformedKey);
}

TEST(JwsParse, SegmentCount) {
  std::string reason;
  EXPECT_EQ(parseFailure("", &reason), Failure::kMalformedKey);
  EXPECT_EQ(reason,
            "key has 1 dot-separated segments; a JWS compact key has 3 (RFC 7515 section 7.1)");
  EXPECT_EQ(parseFailure("e30.e30"), Failure::kMalformedKey);
  EXPECT_EQ(parseFailure("e30.e30.."), Failure::kMalformedKey);
  EXPECT_EQ(parseFailure("e30.e30.AA.AA"), Failure::kMalformedKey);  // 4 segments: JWE-like
  EXPECT_EQ(parseFailure("e30.e30.AA"), Failure::kNone);
  EXPECT_EQ(parseFailure("e30.e30."), Failure::kNone);  // empty signature parses; verify refuses it
}

TEST(JwsParse, Base64AndJson) {
  std::string reason;
  EXPECT_EQ(parseFailure("e30.e3+.AA", &reason), Failure::kMalformedKey);
  EXPECT_EQ(reason, "payload is not base64url (RFC 7515 section 2)");
  EXPECT_EQ(parseFailure("e30.e30.A+", &reason), Failure::kMalformedKey);
  EXPECT_EQ(reason, "signature is not base64url (RFC 7515 section 2)");
  EXPECT_EQ(parseFailure(base64UrlEncode("{") + ".e30.", &reason), Failure::kMalformedKey);
  EXPECT_EQ(reason, "header is not valid JSON");
  EXPECT_EQ(parseFailure(base64UrlEncode("[]") + ".e30.", &reason), Failure::kMalformedKey);
  EXPECT_EQ(reason, "header is not a JSON object");
  EXPECT_EQ(parseFailure("e30." + base64UrlEncode("\"x\"") + ".", &reason), Failure::kMalformedKey);
  EXPECT_EQ(reason, "payload is not a JSON object");
  EXPECT_EQ(parseFailure("e30..", &reason), Failure::kMalformedKey);
  EXPECT_EQ(parseFailure(base64UrlEncode("{\"a\":\"\xff\"}") + ".e30.", &reason),
            Failure::kMalformedKey);
}

TEST(JwsParse, ReasonsNeverContainTheToken) {
  const SigningKey& key = generatedKey(Algorithm::kEdDSA);
  Segments s = split(signWith(key, goodClaims()));
  KeySet keys = keySetFor(key);
  for (const std::string& token :
       {s.join() + "x", s.header + "." + s.payload, s.header + ".." + s.signature,
        s.header + "." + s.payload + "." + s.payload}) {
    VerifyResult result = verifyToken(token, keys, kNow, kSkewMs);
    EXPECT_NE(result.failure, Failure::kNone);
    EXPECT_EQ(result.reason.find(s.signature.substr(0, 16)), std::string::npos) << result.reason;
    EXPECT_EQ(result.reason.find(s.payload.substr(0, 16)), std::string::npos) << result.reason;
  }
}

TEST(JwsParse, HeaderAlgAndKidTypes) {
  const SigningKey& key = generatedKey(Algorithm::kEdDSA);
  KeySet keys = keySetFor(key);
  auto verifyHeader = [&](const nlohmann::json& header) {
    std::string input = base64UrlEncode(header.dump()) + "." + base64UrlEncode(goodClaims().dump());
    return verifyToken(input + "." + base64UrlEncode(*key.sign(input)), keys, kNow, kSkewMs)
        .failure;
  };
  EXPECT_EQ(verifyHeader({{"kid", "ballerina"}}), Failure::kMalformedKey);
  EXPECT_EQ(verifyHeader({{"alg", 1}, {"kid", "ballerina"}}), Failure::kMalformedKey);
  EXPECT_EQ(verifyHeader({{"alg", "EdDSA"}, {"kid", 7}}), Failure::kMalformedKey);
  EXPECT_EQ(verifyHeader({{"alg", "EdDSA"}, {"kid", "ballerina"}}), Failure::kNone);
}

TEST(JwsSign, RefusesNonObjectsAndInvalidUtf8) {
  const SigningKey& key = generatedKey(Algorithm::kEdDSA);
  EXPECT_FALSE(signCompact(nlohmann::json::array(), goodClaims(), key));
  EXPECT_FALSE(signCompact({{"kid", "k"}}, nlohmann::json::array(), key));
  EXPECT_FALSE(signCompact({{"kid", "k"}}, {{"sub", "\xff"}}, key));
}

}  // namespace
}  // namespace mgw::token
