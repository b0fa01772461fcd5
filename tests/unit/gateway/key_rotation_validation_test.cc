// KeyValidator and the opaque key index for issue 25: the checksum refusal before any lookup, the
// previous value of a regenerated key in its grace period, last use and the expiry warning.
#include <gtest/gtest.h>

#include <atomic>

#include "common/key_format.h"
#include "gateway/key_validator.h"
#include "store/opaque_key_index.h"

namespace mgw::gateway {
namespace {

using store::OpaqueKeyEntry;
using store::OpaqueKeyIndex;
using store::RevocationList;

constexpr std::int64_t kNow = 1'700'000'000;

class KeyRotationValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index_ = std::make_shared<OpaqueKeyIndex>([this](std::string_view value) {
      ++lookups_;  // every lookup hashes the presented value first
      return "h(" + std::string(value) + ")";
    });
    api_.name = "PizzaShackAPI";
    api_.version = "1.0.0";
    api_.context = "/pizzashack/1.0.0";
    api_.production.urls = {"http://127.0.0.1:9080/pizzashack/1.0.0"};
    ctx_.clientAddress = "127.0.0.1";
  }
  ValidationResult run(std::string_view key, std::int64_t now = kNow) {
    KeyValidator v(keys_, config_, std::make_shared<RevocationList>(), index_);
    return v.validate(key, api_, ctx_, now);
  }
  OpaqueKeyEntry entry() {
    OpaqueKeyEntry e;
    e.id = "k1";
    e.owner = "alice";
    e.apiName = "PizzaShackAPI";
    e.apiVersion = "1.0.0";
    return e;
  }
  static std::string hashOf(std::string_view value) { return "h(" + std::string(value) + ")"; }

  config::Config config_;
  std::shared_ptr<token::KeySet> keys_ = std::make_shared<token::KeySet>();
  std::shared_ptr<OpaqueKeyIndex> index_;
  std::atomic<int> lookups_{0};
  ApiDefinition api_;
  RequestContext ctx_;
};

TEST_F(KeyRotationValidationTest, AMangledChecksumIsRefusedWithoutALookup) {
  const std::string key = generateFormattedKey("mgw");
  index_->put(hashOf(key), entry());
  ASSERT_EQ(run(key).failure, Failure::kNone);
  ASSERT_EQ(lookups_, 1);

  std::string mangled = key;
  mangled.back() = mangled.back() == 'a' ? 'b' : 'a';
  lookups_ = 0;
  auto r = run(mangled);
  EXPECT_EQ(r.failure, Failure::kMalformedKey);
  EXPECT_NE(r.descriptionText().find("checksum"), std::string_view::npos);
  EXPECT_EQ(lookups_, 0);  // no store (index) lookup; and no signature check: the key set is empty
  EXPECT_EQ(r.keyId, "bad-checksum");

  // An unknown key of the right shape is looked up (and unknown).
  lookups_ = 0;
  EXPECT_EQ(run(generateFormattedKey("mgw")).failure, Failure::kUnknownKey);
  EXPECT_EQ(lookups_, 1);
  // Another prefix is not this gateway's format: looked up as any opaque value.
  config_.opaqueKeys.keyPrefix = "acme";
  lookups_ = 0;
  EXPECT_EQ(run(mangled).failure, Failure::kUnknownKey);
  EXPECT_EQ(lookups_, 1);
}

TEST_F(KeyRotationValidationTest, ThePreviousValueWorksUntilTheGracePeriodEnds) {
  auto e = entry();
  e.previousHash = hashOf("old-value-123");
  e.previousUntil = kNow + 100;
  e.replacedAt = kNow - 5;
  index_->put(hashOf("new-value-456"), e);

  auto fresh = run("new-value-456");
  ASSERT_EQ(fresh.failure, Failure::kNone) << fresh.reason;
  EXPECT_EQ(fresh.replacedAt, 0);

  auto old = run("old-value-123", kNow + 99);
  ASSERT_EQ(old.failure, Failure::kNone) << old.reason;
  EXPECT_EQ(old.keyId, "opaque:k1");
  EXPECT_EQ(old.replacedAt, kNow - 5);
  EXPECT_EQ(old.graceUntil, kNow + 100);

  auto late = run("old-value-123", kNow + 100);
  EXPECT_EQ(late.failure, Failure::kUnknownKey);
  EXPECT_NE(late.description.find("grace period ended"), std::string::npos);

  // Revoking the key revokes both values.
  index_->markRevoked("k1");
  EXPECT_EQ(run("old-value-123").failure, Failure::kRevoked);
  EXPECT_EQ(run("new-value-456").failure, Failure::kRevoked);
}

TEST_F(KeyRotationValidationTest, ARegenerateWithoutGraceDropsThePreviousValue) {
  auto e = entry();
  e.previousHash = hashOf("old-value-123");
  e.previousUntil = kNow + 100;
  index_->put(hashOf("new-value-456"), e);
  auto again = entry();
  index_->put(hashOf("newest-value-789"), again);
  EXPECT_EQ(run("old-value-123").failure, Failure::kUnknownKey);
  EXPECT_EQ(run("new-value-456").failure, Failure::kUnknownKey);
  EXPECT_EQ(run("newest-value-789").failure, Failure::kNone);
  EXPECT_EQ(index_->size(), 1u);
}

TEST_F(KeyRotationValidationTest, LastUseIsQueuedOncePerKeyPerMinute) {
  index_->put(hashOf("value-1234"), entry());
  const std::int64_t minute = kNow - kNow % 60;
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(run("value-1234", minute + i % 60).failure, Failure::kNone);
  auto uses = index_->takeUses();
  ASSERT_EQ(uses.keys.size(), 1u);
  EXPECT_EQ(uses.keys[0].id, "k1");
  EXPECT_EQ(uses.keys[0].at, minute);
  EXPECT_TRUE(index_->takeUses().keys.empty());
  // The next minute queues it once more; a replaced entry keeps what was noted.
  index_->put(hashOf("value-1234"), entry());
  ASSERT_EQ(run("value-1234", minute + 30).failure, Failure::kNone);
  EXPECT_TRUE(index_->takeUses().keys.empty());
  ASSERT_EQ(run("value-1234", minute + 61).failure, Failure::kNone);
  ASSERT_EQ(run("value-1234", minute + 62).failure, Failure::kNone);
  uses = index_->takeUses();
  ASSERT_EQ(uses.keys.size(), 1u);
  EXPECT_EQ(uses.keys[0].at, minute + 60);
}

TEST_F(KeyRotationValidationTest, ExpiryInSight) {
  auto e = entry();
  e.expiresAt = kNow + 3 * 86400;
  index_->put(hashOf("value-1234"), e);
  EXPECT_EQ(run("value-1234").expiresSoon, kNow + 3 * 86400);
  config_.opaqueKeys.expiryWarningDays = 2;
  EXPECT_EQ(run("value-1234").expiresSoon, 0);
  EXPECT_EQ(index_->countExpiring(kNow, 2 * 86400), 0u);
  EXPECT_EQ(index_->countExpiring(kNow, 7 * 86400), 1u);
  index_->markRevoked("k1");
  EXPECT_EQ(index_->countExpiring(kNow, 7 * 86400), 0u);
}

}  // namespace
}  // namespace mgw::gateway
