#include "auth/sha1.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto_util.h"

namespace mgw::auth::detail {
namespace {

std::string sha1Hex(const std::string& s) { return hexEncode(sha1(s)); }

// FIPS 180-4 / RFC 3174 vectors, and the padding boundaries (55, 56, 64 bytes).
TEST(Sha1Test, KnownVectors) {
  EXPECT_EQ(sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1Hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1Test, PaddingBoundaries) {
  EXPECT_EQ(sha1Hex(std::string(55, 'a')), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(sha1Hex(std::string(56, 'a')), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(sha1Hex(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

TEST(Sha1Test, WsoLegacyAdminDigest) { EXPECT_EQ(sha1Hex("admin"), "d033e22ae348aeb5660fc2140aec35850c4da997"); }

}  // namespace
}  // namespace mgw::auth::detail
