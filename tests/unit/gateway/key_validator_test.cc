#include "gateway/key_validator.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <unistd.h>
#include "common/crypto_util.h"

#include <cstdio>
#include <filesystem>

#include "signed_key_fixture.h"

namespace mgw::gateway {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using fixture::kAlias;
using fixture::kIssuer;
using fixture::kNow;

// The validator over the fixture's keys.
class KeyValidatorTest : public fixture::SignedKeyFixture {
 protected:
  std::shared_ptr<token::KeySet> keySet(bool validateAllowedApis = true) {
    auto set = std::make_shared<token::KeySet>();
    set->add({kAlias, kIssuer, signer_->publicKey(), validateAllowedApis});
    return set;
  }
  KeyValidator validator(bool validateAllowedApis = true) {
    return KeyValidator(keySet(validateAllowedApis), config_, revocations_);
  }
  // The local issuer's keys and a partner issuer's, each with its own signing key.
  static constexpr const char* kPartner = "https://partner.example/apikey";
  KeyValidator withPartner() {
    auto set = keySet();
    set->add({"partner", kPartner, other_->publicKey(), true});
    return KeyValidator(set, config_, revocations_);
  }
  std::string partnerKey() {
    json partner = claims();
    partner["iss"] = kPartner;
    return sign(partner, *other_, "partner");
  }

  ValidationResult run(const KeyValidator& v, const std::string& key,
                       const RequestContext& ctx = {}, std::int64_t now = kNow) {
    ValidationResult r = v.validate(key, api_, ctx, now);
    // Whatever happened, the key never leaks into what is logged or sent.
    EXPECT_EQ(r.description.find(key), std::string::npos);
    EXPECT_EQ(r.reason.find(key), std::string::npos);
    EXPECT_FALSE(r.keyId.empty());
    return r;
  }
};

// WSO2 MGW 3.x [[jwtTokenConfig]] bearer tokens (issue 16): the same checks, plus scopes and
// validateSubscription, and never interchangeable with API keys.
TEST_F(KeyValidatorTest, BearerTokens) {
  const std::string am = "https://localhost:9443/oauth2/token";
  auto set = keySet();
  set->add({"wso2apim310", am, other_->publicKey(), /*validateSubscription=*/true, "", true});
  KeyValidator v(set, config_, revocations_);
  json token = claims();
  token["iss"] = am;
  token.erase("allowedAPIs");
  token["subscribedAPIs"] = json::array({{{"name", "PizzaShackAPI"}, {"version", "1.0.0"}}});
  token["scope"] = "read:menu write:order";
  RequestContext bearer;
  bearer.bearer = true;
  EXPECT_EQ(run(v, sign(token, *other_), bearer).failure, Failure::kNone);
  // Scopes: one of the resource's is enough; none of them is 403 900910.
  bearer.requiredScopes = {"admin", "write:order"};
  EXPECT_EQ(run(v, sign(token, *other_), bearer).failure, Failure::kNone);
  bearer.requiredScopes = {"admin", "write:ord"};
  ValidationResult scoped = run(v, sign(token, *other_), bearer);
  EXPECT_EQ(scoped.failure, Failure::kMissingScope);
  EXPECT_EQ(faultFor(scoped.failure).code, 900910);
  bearer.requiredScopes.clear();
  // validateSubscription: subscribedAPIs must name the API, and the description says which switch.
  token["subscribedAPIs"] = json::array();
  ValidationResult unsubscribed = run(v, sign(token, *other_), bearer);
  EXPECT_EQ(unsubscribed.failure, Failure::kApiNotAllowed);
  EXPECT_NE(unsubscribed.description.find("validateSubscription"), std::string::npos);
  // Never crossed: a bearer issuer's token as an API key, an API key as a bearer token.
  token["subscribedAPIs"] = json::array({{{"name", "PizzaShackAPI"}, {"version", "1.0.0"}}});
  EXPECT_EQ(run(v, sign(token, *other_)).failure, Failure::kWrongIssuer);
  EXPECT_EQ(run(v, sign(claims()), bearer).failure, Failure::kWrongIssuer);
  EXPECT_EQ(run(v, sign(claims())).failure, Failure::kNone);
  // An API key's 403 names validateAllowedAPIs (SPEC section 9).
  json none = claims();
  none["allowedAPIs"] = json::array();
  EXPECT_NE(run(v, sign(none)).description.find("validateAllowedAPIs"), std::string::npos);
}

TEST_F(KeyValidatorTest, ValidKey) {
  KeyValidator v = validator();
  ValidationResult r = run(v, sign(claims()));
  EXPECT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_EQ(r.keyId, "jti-1");
  EXPECT_EQ(r.subject, "alice");
  EXPECT_EQ(r.issuer, kIssuer);
  EXPECT_FALSE(r.sandbox);
}

TEST_F(KeyValidatorTest, KeyWithoutJtiIsIdentifiedByFingerprint) {
  json c = claims();
  c.erase("jti");
  std::string key = sign(c);
  ValidationResult r = run(validator(), key);
  EXPECT_EQ(r.failure, Failure::kNone);
  EXPECT_EQ(r.keyId, fingerprint(key));
}

TEST_F(KeyValidatorTest, MalformedAndTooLarge) {
  KeyValidator v = validator();
  EXPECT_EQ(run(v, "not-a-key").failure, Failure::kMalformedKey);
  EXPECT_EQ(run(v, std::string(9000, 'a')).failure, Failure::kKeyTooLarge);
}

TEST_F(KeyValidatorTest, BadSignature) {
  std::string key = sign(claims());
  key[key.size() - 5] = key[key.size() - 5] == 'A' ? 'B' : 'A';
  ValidationResult r = run(validator(), key);
  EXPECT_EQ(r.failure, Failure::kBadSignature);
  EXPECT_EQ(r.keyId, fingerprint(key));  // an unverified jti is not trusted for logs
}

TEST_F(KeyValidatorTest, SignedByAnotherKey) {
  EXPECT_EQ(run(validator(), sign(claims(), *other_)).failure, Failure::kBadSignature);
  // The issuer selects the key, whatever kid says (SPEC section 7, issue 16).
  EXPECT_EQ(run(validator(), sign(claims(), *other_, "someone-else")).failure,
            Failure::kBadSignature);
}

TEST_F(KeyValidatorTest, WrongIssuer) {
  json c = claims();
  c["iss"] = "https://evil.example/apikey";
  ValidationResult r = run(validator(), sign(c));
  EXPECT_EQ(r.failure, Failure::kWrongIssuer);
  EXPECT_NE(r.description.find("issuer"), std::string::npos);
}

TEST_F(KeyValidatorTest, ExpiredWithSkew) {
  json c = claims();
  c["exp"] = kNow - 10;
  std::string key = sign(c);
  KeyValidator v = validator();  // default skew 5000 ms
  ValidationResult r = run(v, key);
  EXPECT_EQ(r.failure, Failure::kExpired);
  EXPECT_NE(r.description.find("expired at 2023-11-14T22:13:10Z"), std::string::npos)
      << r.description;
  c["exp"] = kNow - 4;
  EXPECT_EQ(run(v, sign(c)).failure, Failure::kNone);
}

TEST_F(KeyValidatorTest, CacheNeverServesPastExp) {
  json c = claims();
  c["exp"] = kNow + 60;
  std::string key = sign(c);
  KeyValidator v = validator();
  EXPECT_EQ(run(v, key, {}, kNow).failure, Failure::kNone);
  EXPECT_EQ(v.cache().size(), 1u);
  EXPECT_EQ(run(v, key, {}, kNow + 30).failure, Failure::kNone);
  // Past exp + skew the cached entry is not used: verification runs again and refuses.
  EXPECT_EQ(run(v, key, {}, kNow + 66).failure, Failure::kExpired);
}

TEST_F(KeyValidatorTest, NotYetValid) {
  json c = claims();
  c["nbf"] = kNow + 100;
  ValidationResult r = run(validator(), sign(c));
  EXPECT_EQ(r.failure, Failure::kNotYetValid);
  EXPECT_NE(r.description.find("not valid before"), std::string::npos);
}

TEST_F(KeyValidatorTest, UnknownKeytypeIsMalformed) {
  json c = claims();
  c["keytype"] = "STAGING";
  EXPECT_EQ(run(validator(), sign(c)).failure, Failure::kMalformedKey);
}

TEST_F(KeyValidatorTest, RevokedByJtiEvenWhenCached) {
  std::string key = sign(claims());
  KeyValidator v = validator();
  EXPECT_EQ(run(v, key).failure, Failure::kNone);
  revocations_->revokeJti("jti-1", kNow + 3600);
  ValidationResult r = run(v, key);
  EXPECT_EQ(r.failure, Failure::kRevoked);
  EXPECT_EQ(r.keyId, "jti-1");
}

TEST_F(KeyValidatorTest, RevokedBySubjectWatermark) {
  std::string key = sign(claims());  // iat = kNow - 10
  KeyValidator v = validator();
  revocations_->setSubjectWatermark("alice", kNow - 11);
  EXPECT_EQ(run(v, key).failure, Failure::kNone);
  revocations_->setSubjectWatermark("alice", kNow - 10);
  EXPECT_EQ(run(v, key).failure, Failure::kRevoked);
  revocations_->setSubjectWatermark("bob", kNow);
  json c = claims();
  c["iat"] = kNow;
  EXPECT_EQ(run(v, sign(c)).failure, Failure::kNone);
}

// Issue 10 item 8: a subject watermark covers the local issuer's subject of that name only.
TEST_F(KeyValidatorTest, SubjectWatermarkIsScopedToTheIssuer) {
  KeyValidator v = withPartner();
  const std::string partner = partnerKey();
  revocations_->setSubjectWatermark("alice", kNow);
  EXPECT_EQ(run(v, sign(claims())).failure, Failure::kRevoked);
  EXPECT_EQ(run(v, partner).failure, Failure::kNone);
  revocations_->setSubjectWatermark(v.subjectKey(kPartner, "alice"), kNow);
  EXPECT_EQ(run(v, partner).failure, Failure::kRevoked);
}

// Issue 22 item 5: the subscription quota is counted per subscriber: the subject, qualified by
// its issuer unless local (a partner's alice is not ours), or the key's application.
TEST_F(KeyValidatorTest, SubscriberIsTheSubjectOrTheApplication) {
  KeyValidator v = withPartner();
  const std::string local = v.subjectKey(kIssuer, "alice");
  EXPECT_EQ(run(v, sign(claims())).subscriber, "user\x1f" + local);
  json other = claims();
  other["jti"] = "jti-2";
  EXPECT_EQ(run(v, sign(other)).subscriber, run(v, sign(claims())).subscriber);  // same user
  const std::string partner = partnerKey();
  EXPECT_EQ(run(v, partner).subscriber, "user\x1f" + v.subjectKey(kPartner, "alice"));
  EXPECT_NE(run(v, partner).subscriber, run(v, sign(claims())).subscriber);
  EXPECT_EQ(subscriberOf("app-1", "alice"), std::string("app\x1f") + "app-1");
  EXPECT_EQ(subscriberOf("", ""), "");
}

// Issue 10 item 8: a key issued in the future would escape every watermark set before its iat.
TEST_F(KeyValidatorTest, IatInTheFutureBeyondSkewIsRefused) {
  KeyValidator v = validator();
  json c = claims();
  c["iat"] = kNow + 5;  // the default skew is 5000 ms
  EXPECT_EQ(run(v, sign(c)).failure, Failure::kNone);
  c["iat"] = kNow + 6;
  ValidationResult r = run(v, sign(c));
  EXPECT_EQ(r.failure, Failure::kNotYetValid);
  EXPECT_EQ(faultFor(r.failure).code, 900901);
}

TEST_F(KeyValidatorTest, RevocationComesBeforeApiCheck) {
  json c = claims();
  c["allowedAPIs"] = json::array();
  revocations_->revokeJti("jti-1", 0);
  EXPECT_EQ(run(validator(), sign(c)).failure, Failure::kRevoked);
}

TEST_F(KeyValidatorTest, ApiNotAllowed) {
  json c = claims();
  c["allowedAPIs"] = json::array(
      {{{"name", "PizzaShackAPI"}, {"version", "2.0.0"}}, {{"name", "Other"}, {"version", "*"}}});
  ValidationResult r = run(validator(), sign(c));
  EXPECT_EQ(r.failure, Failure::kApiNotAllowed);
  EXPECT_NE(r.description.find("PizzaShackAPI:1.0.0"), std::string::npos);
  c.erase("allowedAPIs");
  EXPECT_EQ(run(validator(), sign(c)).failure, Failure::kApiNotAllowed);
}

TEST_F(KeyValidatorTest, AnyVersionWildcard) {
  json c = claims();
  c["allowedAPIs"] = json::array({{{"name", "PizzaShackAPI"}, {"version", "*"}}});
  EXPECT_EQ(run(validator(), sign(c)).failure, Failure::kNone);
}

TEST_F(KeyValidatorTest, SubscribedApisAccepted) {
  json c = claims();
  c.erase("allowedAPIs");
  c["subscribedAPIs"] = json::array({{{"subscriberTenantDomain", "carbon.super"},
                                      {"name", "PizzaShackAPI"},
                                      {"context", "/pizzashack/1.0.0"},
                                      {"publisher", "admin"},
                                      {"version", "1.0.0"},
                                      {"subscriptionTier", "Unlimited"}}});
  EXPECT_EQ(run(validator(), sign(c)).failure, Failure::kNone);
}

TEST_F(KeyValidatorTest, IssuerWithoutAllowedApiValidation) {
  json c = claims();
  c["allowedAPIs"] = json::array();
  EXPECT_EQ(run(validator(/*validateAllowedApis=*/false), sign(c)).failure, Failure::kNone);
}

TEST_F(KeyValidatorTest, PermittedIp) {
  json c = claims();
  c["permittedIP"] = "10.0.0.0/8, 2001:db8::1";
  std::string key = sign(c);
  KeyValidator v = validator();
  EXPECT_EQ(run(v, key, {"10.1.2.3", "", "", false}).failure, Failure::kNone);
  EXPECT_EQ(run(v, key, {"2001:db8::1", "", "", false}).failure, Failure::kNone);
  EXPECT_EQ(run(v, key, {"::ffff:10.9.9.9", "", "", false}).failure, Failure::kNone);
  ValidationResult r = run(v, key, {"192.168.1.1", "", "", false});
  EXPECT_EQ(r.failure, Failure::kIpNotPermitted);
  EXPECT_NE(r.description.find("192.168.1.1"), std::string::npos);
  // Without trusted proxies X-Forwarded-For is ignored: a client cannot claim an address.
  EXPECT_EQ(run(v, key, {"192.168.1.1", "10.0.0.1", "", false}).failure, Failure::kIpNotPermitted);
}

TEST_F(KeyValidatorTest, MalformedPermittedIpFailsClosed) {
  json c = claims();
  c["permittedIP"] = "10.0.0.0/99";
  EXPECT_EQ(run(validator(), sign(c), {"10.0.0.1", "", "", false}).failure,
            Failure::kIpNotPermitted);
}

TEST_F(KeyValidatorTest, ForwardedForOnlyFromTrustedProxies) {
  config_.listener.trustedProxies = {"127.0.0.1/32", "172.16.0.0/12"};
  json c = claims();
  c["permittedIP"] = "203.0.113.7";
  std::string key = sign(c);
  KeyValidator v = validator();
  // Peer is a trusted proxy: the right-most untrusted hop is the client.
  EXPECT_EQ(
      v.effectiveClientAddress({"127.0.0.1", "198.51.100.1, 203.0.113.7, 172.16.0.5", "", false}),
      "203.0.113.7");
  EXPECT_EQ(run(v, key, {"127.0.0.1", "198.51.100.1, 203.0.113.7, 172.16.0.5", "", false}).failure,
            Failure::kNone);
  // A forged left-most entry does not help.
  EXPECT_EQ(run(v, key, {"127.0.0.1", "203.0.113.7, 198.51.100.1", "", false}).failure,
            Failure::kIpNotPermitted);
  // Peer is not a trusted proxy: its header is ignored.
  EXPECT_EQ(run(v, key, {"198.51.100.9", "203.0.113.7", "", false}).failure,
            Failure::kIpNotPermitted);
  // Ports and brackets in hops.
  EXPECT_EQ(v.effectiveClientAddress({"127.0.0.1", "203.0.113.7:5555", "", false}), "203.0.113.7");
  EXPECT_EQ(v.effectiveClientAddress({"127.0.0.1", "[2001:db8::5]:80", "", false}), "2001:db8::5");
  EXPECT_EQ(v.effectiveClientAddress({"127.0.0.1", "", "", false}), "127.0.0.1");
  EXPECT_EQ(v.effectiveClientAddress({"127.0.0.1", "172.16.0.1", "", false}), "172.16.0.1");
}

TEST_F(KeyValidatorTest, PermittedReferer) {
  json c = claims();
  c["permittedReferer"] = "www.example.com/path, *.example.org/*";
  std::string key = sign(c);
  KeyValidator v = validator();
  EXPECT_EQ(run(v, key, {"127.0.0.1", "", "https://www.example.com/path", true}).failure,
            Failure::kNone);
  EXPECT_EQ(run(v, key, {"127.0.0.1", "", "https://a.example.org/x", true}).failure,
            Failure::kNone);
  EXPECT_EQ(run(v, key, {"127.0.0.1", "", "https://www.example.com/other", true}).failure,
            Failure::kRefererNotPermitted);
  ValidationResult missing = run(v, key, {"127.0.0.1", "", "", false});
  EXPECT_EQ(missing.failure, Failure::kRefererNotPermitted);
  EXPECT_NE(missing.description.find("Referer"), std::string::npos);
  EXPECT_EQ(run(v, key, {"127.0.0.1", "", "", true}).failure, Failure::kRefererNotPermitted);
}

TEST_F(KeyValidatorTest, IpIsCheckedBeforeReferer) {
  json c = claims();
  c["permittedIP"] = "10.0.0.1";
  c["permittedReferer"] = "www.example.com/*";
  EXPECT_EQ(run(validator(), sign(c), {"10.0.0.2", "", "", false}).failure,
            Failure::kIpNotPermitted);
}

TEST_F(KeyValidatorTest, ApiIsCheckedBeforeIp) {
  json c = claims();
  c["allowedAPIs"] = json::array();
  c["permittedIP"] = "10.0.0.1";
  EXPECT_EQ(run(validator(), sign(c), {"10.0.0.2", "", "", false}).failure,
            Failure::kApiNotAllowed);
}

TEST_F(KeyValidatorTest, SandboxKey) {
  json c = claims();
  c["keytype"] = "SANDBOX";
  std::string key = sign(c);
  ValidationResult r = run(validator(), key);
  EXPECT_EQ(r.failure, Failure::kSandboxNotAvailable);
  api_.sandbox.urls = {"http://127.0.0.1:9081/pizzashack/1.0.0"};
  r = run(validator(), key);
  EXPECT_EQ(r.failure, Failure::kNone);
  EXPECT_TRUE(r.sandbox);
}

TEST_F(KeyValidatorTest, SandboxKeyWithOnlyOperationSandboxEndpoints) {
  // WSO2 MGW 3.x: x-wso2-sandbox-endpoints on an operation only. The key is valid for the API; the
  // gateway routes it to that operation's sandbox and refuses it on the others.
  json c = claims();
  c["keytype"] = "SANDBOX";
  const std::string key = sign(c);
  Resource op;
  op.method = "GET";
  op.pathTemplate = "/menu";
  op.sandbox.urls = {"http://127.0.0.1:9081/sandbox/menu"};
  api_.resources.push_back(op);
  ValidationResult r = run(validator(), key);
  EXPECT_EQ(r.failure, Failure::kNone);
  EXPECT_TRUE(r.sandbox);
}

TEST_F(KeyValidatorTest, RefererIsCheckedBeforeSandbox) {
  json c = claims();
  c["keytype"] = "SANDBOX";
  c["permittedReferer"] = "www.example.com/*";
  EXPECT_EQ(run(validator(), sign(c)).failure, Failure::kRefererNotPermitted);
}

TEST_F(KeyValidatorTest, CacheCanBeDisabled) {
  config_.caching.enabled = false;
  KeyValidator v = validator();
  EXPECT_EQ(run(v, sign(claims())).failure, Failure::kNone);
  EXPECT_EQ(v.cache().size(), 0u);
}

}  // namespace
}  // namespace mgw::gateway
