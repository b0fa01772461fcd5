// Issue 25 item 4 for signed keys: a key framed as "<prefix>_<JWS>_<checksum>" is the JWS inside
// (verified, cached, revoked by its jti), a wrong checksum is refused before the signature check,
// and unframed keys keep working.
#include <gtest/gtest.h>

#include "common/key_format.h"
#include "gateway/key_validator.h"
#include "signed_key_fixture.h"

namespace mgw::gateway {
namespace {

using fixture::kAlias;
using fixture::kIssuer;
using fixture::kNow;

class FramedSignedKeyTest : public fixture::SignedKeyFixture {
 protected:
  KeyValidator validator() {
    auto set = std::make_shared<token::KeySet>();
    set->add({kAlias, kIssuer, signer_->publicKey(), true});
    return KeyValidator(set, config_, revocations_);
  }
};

TEST_F(FramedSignedKeyTest, AFramedKeyIsTheJwsInside) {
  const std::string jws = sign(claims());
  const std::string framed = frameSignedKey("mgw", jws);
  KeyValidator v = validator();
  auto r = v.validate(framed, api_, {}, kNow);
  ASSERT_EQ(r.failure, Failure::kNone) << r.reason;
  EXPECT_EQ(r.keyId, "jti-1");
  EXPECT_EQ(r.subject, "alice");
  // One cache entry for both spellings: the cache is keyed by the JWS.
  ASSERT_EQ(v.validate(jws, api_, {}, kNow).failure, Failure::kNone);
  EXPECT_EQ(v.cache().size(), 1u);
  // Revoked by its jti: both spellings are refused.
  revocations_->revokeJti("jti-1", kNow + 3600);
  EXPECT_EQ(v.validate(framed, api_, {}, kNow).failure, Failure::kRevoked);
  EXPECT_EQ(v.validate(jws, api_, {}, kNow).failure, Failure::kRevoked);
}

TEST_F(FramedSignedKeyTest, AWrongChecksumIsRefusedBeforeTheSignatureCheck) {
  const std::string framed = frameSignedKey("mgw", sign(claims()));
  KeyValidator v = validator();
  // The JWS inside is good, so only the checksum can refuse these.
  std::string mangled = framed;
  mangled.back() = mangled.back() == 'a' ? 'b' : 'a';
  std::string truncated = framed.substr(0, framed.size() - 1);
  std::string noTail = framed.substr(0, framed.size() - 7);  // the bare "<prefix>_<JWS>"
  for (const std::string& bad : {mangled, truncated, noTail}) {
    auto r = v.validate(bad, api_, {}, kNow);
    EXPECT_EQ(r.failure, Failure::kMalformedKey);
    EXPECT_EQ(r.keyId, "bad-checksum");
    EXPECT_NE(r.descriptionText().find("checksum"), std::string_view::npos) << r.descriptionText();
  }
  EXPECT_EQ(v.cache().size(), 0u);  // nothing was verified
  // A changed JWS character with the old checksum: refused on the checksum too.
  std::string changed = framed;
  changed[10] = changed[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(v.validate(changed, api_, {}, kNow).keyId, "bad-checksum");
}

TEST_F(FramedSignedKeyTest, AnotherPrefixIsNotTakenOff) {
  // [apikey] keyPrefix is "mgw": an "acme_" frame is no key of this gateway (a malformed JWS).
  auto r = validator().validate(frameSignedKey("acme", sign(claims())), api_, {}, kNow);
  EXPECT_EQ(r.failure, Failure::kMalformedKey);
  EXPECT_NE(r.keyId, "bad-checksum");
  // With keyPrefix = "acme" it is.
  config_.opaqueKeys.keyPrefix = "acme";
  EXPECT_EQ(validator().validate(frameSignedKey("acme", sign(claims())), api_, {}, kNow).failure,
            Failure::kNone);
}

TEST_F(FramedSignedKeyTest, AFramedKeyOfABadSignatureIsRefusedOnTheSignature) {
  // The checksum covers transport mistakes, not forgery: a framed JWS signed by another key.
  auto r = validator().validate(frameSignedKey("mgw", sign(claims(), *other_)), api_, {}, kNow);
  EXPECT_EQ(r.failure, Failure::kBadSignature);
}

}  // namespace
}  // namespace mgw::gateway
