#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <set>

#include "token/jws.h"
#include "token/openssl_util.h"
#include "token/signing_key_set.h"
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

// Issue 25: the kid of a rotated key is its RFC 7638 thumbprint. The RFC's own example (section
// 3.1): this RSA key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
TEST(SigningKeySet, KidIsTheRfc7638Thumbprint) {
  const nlohmann::json jwk = {
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
       "RN5w6Cf0h4QyQ5v-65YGjQR0_"
       "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbI"
       "SD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
       "csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"}};
  std::string error;
  auto key = VerificationKey::fromPublicKey(keyFromJwk(jwk).release(), Algorithm::kRS256, &error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(jwkThumbprint(*key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  // Every algorithm: 43 base64url characters (SHA-256), different keys differ.
  std::set<std::string> seen;
  for (Algorithm alg : kAllAlgorithms) {
    std::string kid = jwkThumbprint(*generatedKey(alg).publicKey());
    EXPECT_EQ(kid.size(), 43u) << kid;
    EXPECT_EQ(
        kid.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_TRUE(seen.insert(kid).second);
  }
}

// States follow from dates: configured key (active since ever) -> a next key published before it
// signs -> active at its time -> the old one retired until the longest validity plus skew.
TEST(SigningKeySet, StatesAndTransitionsFollowTheDates) {
  const std::int64_t t = kNow, lead = 86400, validity = 3600, skew = 5;
  std::vector<SigningKeyEntry> keys;
  keys.push_back({"new", "new.pem", t, t + lead, {}, nullptr});  // out of order on purpose
  keys.push_back({"ballerina", "", 0, 0, {}, nullptr});
  SigningKeySet set(keys, validity, skew);
  ASSERT_EQ(set.keys().size(), 2u);
  EXPECT_EQ(set.keys()[0].kid, "ballerina");  // sorted by activation
  EXPECT_EQ(set.activeAt(t)->kid, "ballerina");
  EXPECT_EQ(set.stateAt(0, t), KeyState::kActive);
  EXPECT_EQ(set.stateAt(1, t), KeyState::kNext);
  EXPECT_EQ(set.retiresAt(0), t + lead);
  EXPECT_EQ(set.retiresAt(1), std::nullopt);
  EXPECT_EQ(set.verifiesUntil(0), t + lead + validity + skew);
  EXPECT_EQ(set.verifiesUntil(1), std::nullopt);
  // One second before the lead time ends the old key still signs; at its end the new one does.
  EXPECT_EQ(set.activeAt(t + lead - 1)->kid, "ballerina");
  EXPECT_EQ(set.activeAt(t + lead)->kid, "new");
  EXPECT_EQ(set.stateAt(0, t + lead), KeyState::kRetired);
  EXPECT_EQ(set.stateAt(1, t + lead), KeyState::kActive);
  // Retired while a key it signed can still be valid; expired after.
  EXPECT_EQ(set.stateAt(0, t + lead + validity + skew), KeyState::kRetired);
  EXPECT_EQ(set.stateAt(0, t + lead + validity + skew + 1), KeyState::kExpired);
  EXPECT_EQ(keyStateName(KeyState::kExpired), "expired");

  // Unlimited validity (validityTime = -1): no end unless the operator sets one.
  SigningKeySet unlimited(keys, 0, skew);
  EXPECT_EQ(unlimited.verifiesUntil(0), std::nullopt);
  EXPECT_EQ(unlimited.stateAt(0, t + 100 * lead), KeyState::kRetired);
  keys[1].verifyUntil = t + 2 * lead;
  SigningKeySet chosen(keys, 0, skew);
  EXPECT_EQ(chosen.verifiesUntil(0), t + 2 * lead);
  EXPECT_EQ(chosen.stateAt(0, t + 2 * lead + 1), KeyState::kExpired);
  // The operator's date wins over the computed one too.
  SigningKeySet earlier(keys, validity * 1000, skew);
  EXPECT_EQ(earlier.verifiesUntil(0), t + 2 * lead);
}

// A retired key leaves the JWKS and stops verifying at its verifiesUntil; its tokens are then
// refused as signed by an unknown key, naming the date.
TEST(SigningKeySet, RetiredKeyStopsVerifyingAtItsEnd) {
  const SigningKey& oldKey = generatedKey(Algorithm::kES256);
  const SigningKey& newKey = generatedKey(Algorithm::kEdDSA);
  KeySet keys;
  TrustedKey retired{"ballerina", kIssuer, oldKey.publicKey(), true, "", false};
  retired.verifiesUntil = kNow + 10;
  keys.add(retired);
  keys.add({"new", kIssuer, newKey.publicKey(), true, "", false});
  auto claims = goodClaims();
  claims.erase("exp");
  const std::string oldToken = signWith(oldKey, claims, "ballerina");
  const std::string newToken = signWith(newKey, claims, "new");
  EXPECT_EQ(verifyToken(oldToken, keys, kNow + 10, kSkewMs).failure, Failure::kNone);
  EXPECT_EQ(verifyToken(newToken, keys, kNow + 10, kSkewMs).failure, Failure::kNone);
  auto late = verifyToken(oldToken, keys, kNow + 11, kSkewMs);
  EXPECT_EQ(late.failure, Failure::kUnknownKey);
  EXPECT_NE(late.reason.find("retired"), std::string::npos) << late.reason;
  EXPECT_EQ(verifyToken(newToken, keys, kNow + 11, kSkewMs).failure, Failure::kNone);
  EXPECT_EQ(keys.toJwks(kNow + 10)["keys"].size(), 2u);
  ASSERT_EQ(keys.toJwks(kNow + 11)["keys"].size(), 1u);
  EXPECT_EQ(keys.toJwks(kNow + 11)["keys"][0]["kid"], "new");
  EXPECT_EQ(keys.toJwks()["keys"].size(), 2u);  // no time given: every key
}

TEST(SigningKeySet, KeySetFileRoundTripsAndRefusesMistakes) {
  TempDir dir;
  const std::string folder = dir.file("signing-keys");
  std::vector<SigningKeyEntry> entries;
  std::string error;
  EXPECT_TRUE(readKeySetFile(folder, &entries, &error)) << error;  // no folder: a one-key set
  EXPECT_TRUE(entries.empty());
  std::filesystem::create_directories(folder);
  std::vector<SigningKeyEntry> written = {{"ballerina", "", 0, 0, kNow + 100, nullptr},
                                          {"abc", "abc.pem", kNow, kNow + 86400, {}, nullptr}};
  ASSERT_TRUE(writeKeySetFile(folder, written, &error)) << error;
  ASSERT_TRUE(readKeySetFile(folder, &entries, &error)) << error;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kid, "ballerina");
  EXPECT_EQ(entries[0].verifyUntil, kNow + 100);
  EXPECT_EQ(entries[1].file, "abc.pem");
  EXPECT_EQ(entries[1].created, kNow);
  EXPECT_EQ(entries[1].activates, kNow + 86400);
  EXPECT_EQ(entries[1].verifyUntil, std::nullopt);
  EXPECT_NE(readText(folder + "/keyset.json").find("\"activates\": \"2023-11-15T22:13:20Z\""),
            std::string::npos);

  auto refused = [&](const std::string& json, const std::string& expected) {
    writeText(folder + "/keyset.json", json);
    std::string why;
    EXPECT_FALSE(readKeySetFile(folder, &entries, &why)) << json;
    EXPECT_NE(why.find(expected), std::string::npos) << why;
  };
  refused("[]", "not {\"keys\": [...]} JSON");
  refused(R"({"keys": [{"kid": "a", "file": "a.pem"}]})", "\"activates\" must be a string");
  refused(R"({"keys": [{"kid": "a", "file": "a.pem", "activates": "tomorrow"}]})",
          "RFC 3339 UTC time");
  refused(R"({"keys": [{"kid": "a", "file": "../a.pem", "activates": "2026-01-01T00:00:00Z"}]})",
          "must be a file name");
  refused(R"({"keys": [{"kid": "a", "file": "a.pem", "activates": "2026-01-01T00:00:00Z"},
                       {"kid": "a", "file": "b.pem", "activates": "2026-01-02T00:00:00Z"}]})",
          "appears twice");
  EXPECT_EQ(parseIsoTime("2023-11-14T22:13:20Z"), kNow);
  EXPECT_EQ(parseIsoTime("2026-02-31T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parseIsoTime("2026-01-01 00:00:00Z"), std::nullopt);
}

}  // namespace
}  // namespace mgw::token
