#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "token/jws.h"
#include "token/openssl_util.h"
#include "token_test_util.h"

namespace mgw::token {
namespace {

using namespace testing;
using detail::Owned;

TEST(KeySet, FindsByKid) {
  KeySet keys;
  EXPECT_EQ(keys.find(std::nullopt), nullptr);
  keys.add({"a", "issuer-a", generatedKey(Algorithm::kES256).publicKey(), true});
  ASSERT_NE(keys.find(std::string("a")), nullptr);
  EXPECT_EQ(keys.find(std::string("a"))->issuer, "issuer-a");
  EXPECT_EQ(keys.find(std::nullopt), keys.find(std::string("a")));  // one key: no kid needed
  EXPECT_EQ(keys.find(std::string("A")), nullptr);                  // exact match
  keys.add({"b", "issuer-b", generatedKey(Algorithm::kEdDSA).publicKey(), true});
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.find(std::nullopt), nullptr);                                      // ambiguous
  keys.add({"a", "issuer-a2", generatedKey(Algorithm::kES256).publicKey(), true});  // replaces
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.find(std::string("a"))->issuer, "issuer-a2");
}

// SPEC section 7 / issue 16: the issuer selects; kid only chooses among that issuer's keys.
TEST(KeySet, SelectsByIssuerThenKid) {
  KeySet keys;
  std::size_t n = 99;
  EXPECT_EQ(keys.select("issuer-a", std::string("a"), &n), nullptr);
  EXPECT_EQ(n, 0u);
  keys.add({"a", "issuer-a", generatedKey(Algorithm::kES256).publicKey(), true, "", false});
  keys.add({"b1", "issuer-b", generatedKey(Algorithm::kEdDSA).publicKey(), true, "", false});
  keys.add({"b2", "issuer-b", generatedKey(Algorithm::kEdDSA).publicKey(), true, "", false});
  const TrustedKey* a = keys.find(std::string("a"));
  // One certificate: taken whatever kid says, and without a kid (WSO2 never reads kid).
  EXPECT_EQ(keys.select("issuer-a", std::string("a"), &n), a);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(keys.select("issuer-a", std::string("something-else"), &n), a);
  EXPECT_EQ(keys.select("issuer-a", std::nullopt, &n), a);
  // Several: kid chooses among them, never a key of another issuer.
  EXPECT_EQ(keys.select("issuer-b", std::string("b2"), &n), keys.find(std::string("b2")));
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(keys.select("issuer-b", std::string("a"), &n), nullptr);
  EXPECT_EQ(keys.select("issuer-b", std::nullopt, &n), nullptr);
  EXPECT_EQ(keys.select("issuer-c", std::string("a"), &n), nullptr);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(keys.select("issuer-A", std::string("a"), &n), nullptr);  // exact comparison
}

// Rebuilds an OpenSSL public key from a JWK with nothing but the RFC 7518 / 8037 members, the way
// any other JWT library would, so the JWKS is checked independently of VerificationKey's own code.
Owned<EVP_PKEY> keyFromJwk(const nlohmann::json& jwk) {
  auto bytes = [&](const char* name) {
    return base64UrlDecode(jwk.at(name).get<std::string>()).value();
  };
  if (jwk["kty"] == "OKP") {
    std::string x = bytes("x");
    return Owned<EVP_PKEY>(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
  }
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  Owned<BIGNUM> n, e;
  std::string point;
  const char* type = nullptr;
  if (jwk["kty"] == "RSA") {
    type = "RSA";
    std::string nb = bytes("n"), eb = bytes("e");
    n.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(nb.data()),
                      static_cast<int>(nb.size()), nullptr));
    e.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(eb.data()),
                      static_cast<int>(eb.size()), nullptr));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  } else {
    type = "EC";
    EXPECT_EQ(jwk["crv"], "P-256");
    point = "\x04" + bytes("x") + bytes("y");  // SEC 1 uncompressed point
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return Owned<EVP_PKEY>(key);
}

TEST(KeySet, JwksRoundTripVerifiesKeysFromEveryAlgorithm) {
  KeySet trusted;
  for (Algorithm alg : kAllAlgorithms) {
    trusted.add({std::string("kid-") + std::string(algorithmName(alg)), kIssuer,
                 generatedKey(alg).publicKey(), true});
  }
  nlohmann::json jwks = trusted.toJwks();
  ASSERT_EQ(jwks["keys"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const Algorithm alg = kAllAlgorithms[i];
    const nlohmann::json& jwk = jwks["keys"][i];
    SCOPED_TRACE(jwk.dump());
    EXPECT_EQ(jwk["kid"], "kid-" + std::string(algorithmName(alg)));
    EXPECT_EQ(jwk["alg"], algorithmName(alg));
    EXPECT_EQ(jwk["use"], "sig");
    EXPECT_TRUE(jwk.contains("x5t"));  // generated keystores carry a certificate
    EXPECT_FALSE(jwk.contains("d"));

    std::string error;
    auto rebuilt = VerificationKey::fromPublicKey(keyFromJwk(jwk).release(), alg, &error);
    ASSERT_TRUE(rebuilt) << error;
    KeySet fromJwks;
    fromJwks.add({jwk["kid"], kIssuer, rebuilt, true});
    std::string token = signWith(generatedKey(alg), goodClaims(), jwk["kid"]);
    VerifyResult result = verifyToken(token, fromJwks, kNow, kSkewMs);
    EXPECT_EQ(result.failure, Failure::kNone) << result.reason;
  }
  EXPECT_EQ(jwks["keys"][0]["kty"], "RSA");
  EXPECT_EQ(jwks["keys"][0]["e"], "AQAB");
  EXPECT_EQ(base64UrlDecode(jwks["keys"][0]["n"].get<std::string>())->size(), 384u);  // RSA-3072
  EXPECT_EQ(jwks["keys"][1]["kty"], "EC");
  EXPECT_EQ(base64UrlDecode(jwks["keys"][1]["x"].get<std::string>())->size(), 32u);
  EXPECT_EQ(jwks["keys"][2]["kty"], "OKP");
  EXPECT_EQ(jwks["keys"][2]["crv"], "Ed25519");
}

TEST(KeySet, EmptyJwks) {
  EXPECT_EQ(KeySet().toJwks(), (nlohmann::json{{"keys", nlohmann::json::array()}}));
}

}  // namespace
}  // namespace mgw::token
