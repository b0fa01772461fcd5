// KeyValidator's opaque path (SPEC section 8), with the restrictions it shares with signed keys,
// over a real store::OpaqueKeyIndex.
#include <gtest/gtest.h>

#include "gateway/key_validator.h"
#include "store/opaque_key_index.h"

namespace mgw::gateway {
namespace {

using store::OpaqueKeyEntry;
using store::OpaqueKeyIndex;
using store::RevocationList;

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kValue = "lTiFQrRvNBOkVShNrKG13VhuXoZ2EfgJ_qU529RyXB8";  // the seed's example key

// Stands in for the store's keyed BLAKE2b: the index only needs a deterministic mapping.
std::string testHash(std::string_view value) { return "h(" + std::string(value) + ")"; }

std::shared_ptr<OpaqueKeyIndex> makeIndex() { return std::make_shared<OpaqueKeyIndex>(testHash); }

OpaqueKeyEntry entry(const std::string& id = "k1") {
  OpaqueKeyEntry e;
  e.id = id;
  e.owner = "alice";
  e.apiName = "PizzaShackAPI";
  e.apiVersion = "1.0.0";
  return e;
}

class OpaqueValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.server.timestampSkewMs = 5000;
    index_ = makeIndex();
    api_.name = "PizzaShackAPI";
    api_.version = "1.0.0";
    api_.context = "/pizzashack/1.0.0";
    api_.production.urls = {"http://127.0.0.1:9080/pizzashack/1.0.0"};
    ctx_.clientAddress = "127.0.0.1";
  }
  KeyValidator validator() {
    return KeyValidator(std::make_shared<token::KeySet>(), config_,
                        std::make_shared<RevocationList>(), index_);
  }
  ValidationResult run(std::string_view key, std::int64_t now = kNow) {
    return validator().validate(key, api_, ctx_, now);
  }
  void put(const OpaqueKeyEntry& e, const std::string& value = kValue) {
    index_->put(testHash(value), e);
  }

  config::Config config_;
  std::shared_ptr<OpaqueKeyIndex> index_;
  ApiDefinition api_;
  RequestContext ctx_;
};

TEST_F(OpaqueValidationTest, ValidKeyIdentifiesItselfByIdNeverByValue) {
  put(entry());
  auto r = run(kValue);
  EXPECT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_EQ(r.keyId, "opaque:k1");
  EXPECT_EQ(r.subject, "alice");
  EXPECT_FALSE(r.sandbox);
  EXPECT_EQ(r.reason.find(kValue), std::string::npos);
}

// SPEC section 13: the key's own tier is its subscription tier; its application's tier (when it
// has one) the application tier, counted per application id.
TEST_F(OpaqueValidationTest, CarriesTheKeysAndItsApplicationsTiers) {
  auto e = entry();
  e.tier = "Bronze";
  put(e);
  auto r = run(kValue);
  ASSERT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_EQ(r.subscriptionTier, "Bronze");
  EXPECT_EQ(r.tier, "Bronze");  // the backend JWT's tier claim (issue 22 item 12)
  EXPECT_EQ(r.applicationId, "");
  EXPECT_EQ(r.applicationTier, "");
  // The quota is the owner's for the API, shared with her other keys (issue 22 item 5).
  EXPECT_EQ(r.subscriber, std::string("user\x1f") + "alice");

  e.applicationId = "app1";
  put(e);
  index_->putApplication("app1", "10PerMin");
  r = run(kValue);
  ASSERT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_EQ(r.subscriptionTier, "Bronze");
  EXPECT_EQ(r.applicationId, "app1");
  EXPECT_EQ(r.applicationTier, "10PerMin");
  EXPECT_EQ(r.subscriber,
            std::string("app\x1f") + "app1");  // a key of an application: the application's
}

TEST_F(OpaqueValidationTest, UnknownKey) {
  auto r = run("not-a-known-key");
  EXPECT_EQ(r.failure, Failure::kUnknownKey);
  EXPECT_EQ(r.description.find("not-a-known-key"), std::string::npos);
  EXPECT_EQ(r.keyId.find("not-a-known-key"), std::string::npos);
}

TEST_F(OpaqueValidationTest, LengthPicksThePath) {
  // 65 characters is never an opaque key: it goes to signed-key verification (and fails there).
  const std::string longValue(65, 'a');
  put(entry(), longValue);
  EXPECT_EQ(run(longValue).failure, Failure::kMalformedKey);
  const std::string maxValue(KeyValidator::kMaxOpaqueKeyLength, 'b');
  put(entry("k64"), maxValue);
  EXPECT_EQ(run(maxValue).failure, Failure::kNone);
}

TEST_F(OpaqueValidationTest, WithoutAnIndexShortKeysAreSignedKeyFailures) {
  KeyValidator signedOnly(std::make_shared<token::KeySet>(), config_,
                          std::make_shared<RevocationList>());
  EXPECT_EQ(signedOnly.validate(kValue, api_, ctx_, kNow).failure, Failure::kMalformedKey);
}

TEST_F(OpaqueValidationTest, Revoked) {
  put(entry());
  index_->markRevoked("k1");
  auto r = run(kValue);
  EXPECT_EQ(r.failure, Failure::kRevoked);
  EXPECT_NE(r.description.find("revoked"), std::string::npos);
}

TEST_F(OpaqueValidationTest, ExpiryWithSkewOneSecondEitherSide) {
  auto e = entry();
  e.expiresAt = kNow;
  put(e);
  EXPECT_EQ(run(kValue, kNow + 5).failure, Failure::kNone);  // inside the 5 s skew
  auto r = run(kValue, kNow + 6);
  EXPECT_EQ(r.failure, Failure::kExpired);
  EXPECT_NE(r.description.find("expired"), std::string::npos);
  e.expiresAt = 0;  // never
  put(e);
  EXPECT_EQ(run(kValue, kNow + 100LL * 365 * 24 * 3600).failure, Failure::kNone);
}

TEST_F(OpaqueValidationTest, BoundToOneApiNameAndVersion) {
  auto e = entry();
  e.apiVersion = "2.0.0";
  put(e);
  auto r = run(kValue);
  EXPECT_EQ(r.failure, Failure::kApiNotAllowed);
  EXPECT_NE(r.description.find("PizzaShackAPI:2.0.0"), std::string::npos);
  e.apiVersion = "*";  // no wildcard for opaque keys: one API, one version
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kApiNotAllowed);
  e.apiVersion = "1.0.0";
  e.apiName = "Petstore";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kApiNotAllowed);
}

TEST_F(OpaqueValidationTest, PermittedIpAndReferer) {
  auto e = entry();
  e.permittedIp = "10.9.9.9";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kIpNotPermitted);
  e.permittedIp = "127.0.0.0/8, ::1";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kNone);

  e.permittedReferer = "*.example.com/*";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kRefererNotPermitted);  // no Referer header
  ctx_.hasReferer = true;
  ctx_.referer = "https://www.example.com/page";
  EXPECT_EQ(run(kValue).failure, Failure::kNone);
  ctx_.referer = "https://evil.test/page";
  EXPECT_EQ(run(kValue).failure, Failure::kRefererNotPermitted);
}

TEST_F(OpaqueValidationTest, SandboxNeedsSandboxEndpoints) {
  auto e = entry();
  e.sandbox = true;
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kSandboxNotAvailable);
  api_.sandbox.urls = {"http://127.0.0.1:9081/pizzashack/1.0.0"};
  auto r = run(kValue);
  EXPECT_EQ(r.failure, Failure::kNone);
  EXPECT_TRUE(r.sandbox);
}

TEST_F(OpaqueValidationTest, SubscriptionRequired) {
  api_.subscriptionRequired = true;
  auto e = entry();
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kNotSubscribed);  // no application
  e.applicationId = "app1";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kNotSubscribed);  // application not subscribed
  index_->addSubscription("app1", "PizzaShackAPI", "1.0.0");
  EXPECT_EQ(run(kValue).failure, Failure::kNone);
  api_.subscriptionRequired = false;  // a subscriptionless API accepts the key directly
  index_->removeSubscription("app1", "PizzaShackAPI", "1.0.0");
  EXPECT_EQ(run(kValue).failure, Failure::kNone);
}

// Issue 26: an application's shared key is bound to no API: it is taken on an API only while
// one of its application's subscriptions to it is served by the shared key (on any API, whether
// or not the API requires a subscription), and says so on the principal.
TEST_F(OpaqueValidationTest, ASharedKeyWorksOnlyWhereItsApplicationIsSubscribed) {
  auto e = entry();
  e.apiName.clear();
  e.apiVersion.clear();
  e.shared = true;
  e.applicationId = "app1";
  put(e);
  auto r = run(kValue);
  EXPECT_EQ(r.failure, Failure::kNotSubscribed);
  EXPECT_EQ(r.description,
            "the shared API key's application is not subscribed to API PizzaShackAPI:1.0.0 (a "
            "shared key works only on the APIs its application is subscribed to)");
  index_->addSubscription("app1", "PizzaShackAPI", "1.0.0", "silver", false);  // its own key
  EXPECT_EQ(run(kValue).failure, Failure::kNotSubscribed);
  index_->addSubscription("app1", "PizzaShackAPI", "1.0.0", "gold", true);
  r = run(kValue);
  EXPECT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_TRUE(r.sharedKey);
  EXPECT_EQ(r.applicationId, "app1");
  index_->removeSubscription("app1", "PizzaShackAPI", "1.0.0");
  EXPECT_EQ(run(kValue).failure, Failure::kNotSubscribed);  // at once
}

TEST_F(OpaqueValidationTest, ChecksRunInOrder) {
  // Revoked beats expired beats wrong API beats IP.
  auto e = entry();
  e.revoked = true;
  e.expiresAt = kNow - 100;
  e.apiName = "Other";
  e.permittedIp = "10.9.9.9";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kRevoked);
  e.revoked = false;
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kExpired);
  e.expiresAt = 0;
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kApiNotAllowed);
  e.apiName = "PizzaShackAPI";
  put(e);
  EXPECT_EQ(run(kValue).failure, Failure::kIpNotPermitted);
}

}  // namespace
}  // namespace mgw::gateway
