#include "common/crypto_util.h"

#include <gtest/gtest.h>

#include <set>

namespace mgw {
namespace {

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_TRUE(constantTimeEquals("secret", "secret"));
  EXPECT_FALSE(constantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(constantTimeEquals("secret", "Secret"));
  EXPECT_FALSE(constantTimeEquals("secret", "secre"));  // b a prefix of a
  EXPECT_FALSE(constantTimeEquals("secre", "secret"));  // a a prefix of b
  EXPECT_FALSE(constantTimeEquals("", "x"));
  EXPECT_FALSE(constantTimeEquals("x", ""));
  EXPECT_FALSE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_TRUE(constantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  // Padding b with zero bytes must not make it equal to a longer a that ends in zeros.
  EXPECT_FALSE(constantTimeEquals(std::string("ab\0", 3), "ab"));
}

TEST(RandomBytes, HasTheRequestedLengthAndVaries) {
  EXPECT_EQ(randomBytes(0).size(), 0u);
  EXPECT_EQ(randomBytes(32).size(), 32u);
  EXPECT_NE(randomBytes(32), randomBytes(32));
}

TEST(UuidV4, HasVersionAndVariantBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = uuidV4();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[13], '-');
    EXPECT_EQ(id[14], '4');  // RFC 4122 section 4.4
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Sha256, MatchesFips180Vector) {
  EXPECT_EQ(hexEncode(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("").size(), 32u);
}

TEST(Fingerprint, IsTwelveHexCharsOfSha256) { EXPECT_EQ(fingerprint("abc"), "ba7816bf8f01"); }

TEST(SecureWipe, ClearsTheString) {
  std::string secret = "hunter2";
  secureWipe(secret);
  EXPECT_TRUE(secret.empty());
}

}  // namespace
}  // namespace mgw
