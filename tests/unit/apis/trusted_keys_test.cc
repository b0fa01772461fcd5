#include "apis/trusted_keys.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "../gateway/signed_key_fixture.h"
#include "gateway/key_validator.h"

namespace mgw::apis {
namespace {

namespace fs = std::filesystem;
using gateway::ApiDefinition;
using gateway::KeyValidator;
using gateway::ValidationResult;
using nlohmann::json;

using gateway::fixture::kAlias;
using gateway::fixture::kIssuer;
using gateway::fixture::kNow;

// The sets are checked by verifying keys with them through the gateway's KeyValidator.
class TrustedKeysTest : public gateway::fixture::SignedKeyFixture {
 protected:
  ValidationResult run(const KeyValidator& v, const std::string& key) {
    return v.validate(key, api_, {}, kNow);
  }
};

TEST_F(TrustedKeysTest, TrustedKeySetDefaultsToLocalIssuer) {
  std::vector<std::string> errors;
  auto set = buildTrustedKeySet(config_, signer_->publicKey(), &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(set->size(), 1u);
  const token::TrustedKey* k = set->find(kAlias);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->issuer, kIssuer);
  EXPECT_EQ(run(KeyValidator(set, config_, revocations_), sign(claims())).failure, Failure::kNone);

  errors.clear();
  buildTrustedKeySet(config_, nullptr, &errors);
  EXPECT_EQ(errors.size(), 1u);
}

TEST_F(TrustedKeysTest, TrustedKeySetFromDeclaredIssuers) {
  const fs::path trust = *dir_ / "truststore";
  fs::create_directories(trust);
  writePublicKey(*other_, trust / "partner.pem");
  writePublicKey(*other_, *dir_ / "wso2.pem");
  config_.listener.trustStorePath = trust.string();
  config_.tokenConfigsDeclared = true;
  config_.trustedIssuers = {
      {kIssuer, kAlias, "", true},                              // local issuer: local key
      {"https://partner.example/apikey", "partner", "", true},  // truststore/partner.pem
      {"https://apim.example/oauth2/token", "gateway_certificate_alias",
       (*dir_ / "wso2.pem").string(), false},
  };
  std::vector<std::string> errors;
  auto set = buildTrustedKeySet(config_, signer_->publicKey(), &errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0]);
  ASSERT_EQ(set->size(), 3u);
  EXPECT_FALSE(set->find(std::string("gateway_certificate_alias"))->validateAllowedApis);

  KeyValidator v(set, config_, revocations_);
  EXPECT_EQ(run(v, sign(claims())).failure, Failure::kNone);
  json partner = claims();
  partner["iss"] = "https://partner.example/apikey";
  EXPECT_EQ(run(v, sign(partner, *other_, "partner")).failure, Failure::kNone);
  // The partner's key is pinned to the partner's issuer: a local-issuer key naming the partner's
  // kid is checked with the local key (selected by iss), and fails.
  EXPECT_EQ(run(v, sign(claims(), *other_, "partner")).failure, Failure::kBadSignature);
  json stranger = claims();
  stranger["iss"] = "https://stranger.example";
  EXPECT_EQ(run(v, sign(stranger, *other_, "partner")).failure, Failure::kWrongIssuer);
  json apim = claims();
  apim["iss"] = "https://apim.example/oauth2/token";
  apim["allowedAPIs"] = json::array();
  EXPECT_EQ(run(v, sign(apim, *other_, "gateway_certificate_alias")).failure, Failure::kNone);
}

TEST_F(TrustedKeysTest, TrustedKeySetErrors) {
  config_.listener.trustStorePath = (*dir_ / "empty-truststore").string();
  config_.tokenConfigsDeclared = true;
  config_.trustedIssuers = {
      {"https://a.example", "missing", "", true},
      {"https://b.example", "../signing", "", true},
      {"https://c.example", "c", (*dir_ / "nope.pem").string(), true},
  };
  std::vector<std::string> errors;
  auto set = buildTrustedKeySet(config_, signer_->publicKey(), &errors);
  EXPECT_EQ(set->size(), 0u);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_NE(errors[0].find("missing.pem"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("cannot name a truststore file"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("nope.pem"), std::string::npos) << errors[2];
  EXPECT_NE(errors[3].find("no trusted issuer"), std::string::npos) << errors[3];
}

TEST_F(TrustedKeysTest, JwtTokenConfigIssuersAreBearerOnly) {
  writePublicKey(*other_, *dir_ / "idp.pem");
  config_.jwtIssuers.push_back({});
  config_.jwtIssuers.back().issuer = "https://idp.example/oauth2/token";
  config_.jwtIssuers.back().certificateFile = (*dir_ / "idp.pem").string();
  std::vector<std::string> errors;
  auto set = buildTrustedKeySet(config_, signer_->publicKey(), &errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0]);
  ASSERT_EQ(set->size(), 2u);
  // No certificateAlias: the issuer is the kid.
  const token::TrustedKey* idp = set->find(std::string("https://idp.example/oauth2/token"));
  ASSERT_NE(idp, nullptr);
  EXPECT_TRUE(idp->bearer);

  config_.jwtIssuers.back().certificateFile.clear();
  config_.jwtIssuers.back().certificateAlias = kAlias;  // the local issuer's kid: refused
  errors.clear();
  set = buildTrustedKeySet(config_, signer_->publicKey(), &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("[[jwtTokenConfig]] issuer \"https://idp.example/oauth2/token\""),
            std::string::npos)
      << errors[0];
}

TEST_F(TrustedKeysTest, PublishedKeySetHoldsTheLocalAndTheBackendJwtKeys) {
  config_.jwtGenerator.kid = "backend-jwt";
  config_.jwtGenerator.issuer = "https://gw.example";
  auto both = buildPublishedKeySet(config_, signer_->publicKey(), other_->publicKey());
  ASSERT_EQ(both->size(), 2u);
  ASSERT_NE(both->find(kAlias), nullptr);
  ASSERT_NE(both->find(std::string("backend-jwt")), nullptr);
  EXPECT_EQ(both->find(std::string("backend-jwt"))->issuer, "https://gw.example");
  EXPECT_EQ(buildPublishedKeySet(config_, nullptr, nullptr)->size(), 0u);
  EXPECT_EQ(buildPublishedKeySet(config_, signer_->publicKey(), nullptr)->size(), 1u);
}

// Issue 25: a rotated key set. The configured key (kid = certificateAlias) was retired by a later
// key: both verify, each under its kid, the configured one until its verifiesUntil; the JWKS drops
// it after that. The same when the local issuer is declared in [apikey.tokenConfigs].
TEST_F(TrustedKeysTest, RotatedKeysAreTrustedAndPublishedUntilTheyExpire) {
  auto unowned = [](const token::SigningKey* k) {
    return std::shared_ptr<const token::SigningKey>(k, [](const token::SigningKey*) {});
  };
  const std::string newKid = token::jwkThumbprint(*other_->publicKey());
  token::SigningKeySet rotated(
      {{kAlias, "", 0, 0, {}, unowned(signer_)},
       {newKid, newKid + ".pem", kNow - 200, kNow - 100, {}, unowned(other_)}},
      3600, 0);
  for (bool declared : {false, true}) {
    SCOPED_TRACE(declared ? "declared" : "local issuer alone");
    config_.tokenConfigsDeclared = declared;
    config_.trustedIssuers.clear();
    if (declared) {
      config::TrustedIssuer ti;
      ti.issuer = kIssuer;
      ti.certificateAlias = kAlias;
      config_.trustedIssuers.push_back(ti);
    }
    std::vector<std::string> errors;
    auto set = buildTrustedKeySet(config_, signer_->publicKey(), &errors, &rotated);
    EXPECT_TRUE(errors.empty());
    ASSERT_EQ(set->size(), 2u);
    ASSERT_NE(set->find(kAlias), nullptr);
    EXPECT_EQ(set->find(kAlias)->verifiesUntil, kNow - 100 + 3600);
    ASSERT_NE(set->find(newKid), nullptr);
    EXPECT_EQ(set->find(newKid)->verifiesUntil, std::nullopt);
    KeyValidator validator(set, config_, revocations_);
    EXPECT_EQ(run(validator, sign(claims())).failure, Failure::kNone);
    EXPECT_EQ(run(validator, sign(claims(), *other_, newKid)).failure, Failure::kNone);
    // The new key under the old kid is not the old key.
    EXPECT_EQ(run(validator, sign(claims(), *other_, kAlias)).failure, Failure::kBadSignature);
  }
  auto published = buildPublishedKeySet(config_, signer_->publicKey(), nullptr, &rotated);
  auto kids = [&](std::int64_t now) {
    std::vector<std::string> out;
    const json jwks = published->toJwks(now);
    for (const auto& k : jwks["keys"]) out.push_back(k["kid"]);
    return out;
  };
  EXPECT_EQ(kids(kNow - 100 + 3600), (std::vector<std::string>{kAlias, newKid}));
  EXPECT_EQ(kids(kNow - 100 + 3601), (std::vector<std::string>{newKid}));
}

}  // namespace
}  // namespace mgw::apis
