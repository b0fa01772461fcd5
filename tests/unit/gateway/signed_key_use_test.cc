// Issue 25 for signed keys: each jti's last use with [apikey] trackLastUsed (once per key per
// minute), and the expiry warning from exp.
#include <gtest/gtest.h>

#include "gateway/key_validator.h"
#include "signed_key_fixture.h"
#include "store/opaque_key_index.h"

namespace mgw::gateway {
namespace {

using fixture::kAlias;
using fixture::kIssuer;
using fixture::kNow;

class SignedKeyUseTest : public fixture::SignedKeyFixture {
 protected:
  KeyValidator validator() {
    auto set = std::make_shared<token::KeySet>();
    set->add({kAlias, kIssuer, signer_->publicKey(), true});
    return KeyValidator(set, config_, revocations_, index_);
  }
  std::shared_ptr<store::OpaqueKeyIndex> index_ =
      std::make_shared<store::OpaqueKeyIndex>([](std::string_view v) { return std::string(v); });
};

TEST_F(SignedKeyUseTest, AJtisUseIsNotedOnlyWhenTracked) {
  const std::string key = sign(claims());
  const std::int64_t minute = kNow - kNow % 60 + 60;  // after the key's iat
  {
    KeyValidator v = validator();  // trackLastUsed = false (the default)
    for (int i = 0; i < 100; ++i)
      ASSERT_EQ(v.validate(key, api_, {}, minute + i % 60).failure, Failure::kNone);
    EXPECT_TRUE(index_->takeUses().jtis.empty());
  }
  config_.opaqueKeys.trackLastUsed = true;
  KeyValidator v = validator();
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(v.validate(key, api_, {}, minute + i % 60).failure, Failure::kNone);
  auto uses = index_->takeUses();
  ASSERT_EQ(uses.jtis.size(), 1u);
  EXPECT_EQ(uses.jtis[0].id, "jti-1");
  EXPECT_EQ(uses.jtis[0].sub, "alice");
  EXPECT_EQ(uses.jtis[0].at, minute);
  ASSERT_EQ(v.validate(key, api_, {}, minute + 60).failure, Failure::kNone);
  EXPECT_EQ(index_->takeUses().jtis.size(), 1u);
}

TEST_F(SignedKeyUseTest, ExpiryInSightFromExp) {
  KeyValidator v = validator();
  auto r = v.validate(sign(claims()), api_, {}, kNow);  // exp = now + 1 h: within 7 days
  ASSERT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_EQ(r.expiresSoon, kNow + 3600);
  config_.opaqueKeys.expiryWarningDays = 0;
  EXPECT_EQ(validator().validate(sign(claims()), api_, {}, kNow).expiresSoon, 0);
}

}  // namespace
}  // namespace mgw::gateway
