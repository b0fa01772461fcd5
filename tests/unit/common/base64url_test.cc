#include "common/base64url.h"

#include <gtest/gtest.h>

namespace mgw {
namespace {

TEST(Base64Url, EncodesWithoutPadding) {
  // RFC 4648 section 10 vectors, in the URL alphabet and without '=' (RFC 7515 section 2).
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64UrlEncode(std::string("\xfb\xff\xfe", 3)), "-__-");
}

TEST(Base64Url, DecodesWithoutPadding) {
  EXPECT_EQ(base64UrlDecode(""), "");
  EXPECT_EQ(base64UrlDecode("Zg"), "f");
  EXPECT_EQ(base64UrlDecode("Zm8"), "fo");
  EXPECT_EQ(base64UrlDecode("Zm9v"), "foo");
  EXPECT_EQ(base64UrlDecode("-__-"), std::string("\xfb\xff\xfe", 3));
}

TEST(Base64Url, ToleratesTrailingPaddingAsWso2KeysCarryIt) {
  EXPECT_EQ(base64UrlDecode("Zg=="), "f");
  EXPECT_EQ(base64UrlDecode("Zm8="), "fo");
  EXPECT_EQ(base64UrlDecode("Zm9vYg=="), "foob");
}

TEST(Base64Url, RejectsWrongPadding) {
  EXPECT_FALSE(base64UrlDecode("Zg="));    // incomplete quantum
  EXPECT_FALSE(base64UrlDecode("Zm8=="));  // too much
  EXPECT_FALSE(base64UrlDecode("Zm9v="));  // padding after a full quantum
  EXPECT_FALSE(base64UrlDecode("Zg==="));
  EXPECT_FALSE(base64UrlDecode("="));
  EXPECT_FALSE(base64UrlDecode("=="));
}

TEST(Base64Url, RejectsStandardAlphabetAndOtherCharacters) {
  EXPECT_FALSE(base64UrlDecode("+/8"));
  EXPECT_FALSE(base64UrlDecode("ab+c"));
  EXPECT_FALSE(base64UrlDecode("ab/c"));
  EXPECT_FALSE(base64UrlDecode("ab c"));
  EXPECT_FALSE(base64UrlDecode(" abc"));
  EXPECT_FALSE(base64UrlDecode("abc\n"));
  EXPECT_FALSE(base64UrlDecode("ab.c"));
  EXPECT_FALSE(base64UrlDecode(std::string("ab\0c", 4)));
  EXPECT_FALSE(base64UrlDecode("ab\xc3\xa9"));
}

TEST(Base64Url, RejectsPaddingInTheMiddle) {
  EXPECT_FALSE(base64UrlDecode("Zg==Zg"));
  EXPECT_FALSE(base64UrlDecode("Z=g"));
  EXPECT_FALSE(base64UrlDecode("Zg=a"));
}

TEST(Base64Url, RejectsLengthOneModFour) {
  EXPECT_FALSE(base64UrlDecode("a"));
  EXPECT_FALSE(base64UrlDecode("abcde"));
  EXPECT_FALSE(base64UrlDecode("a==="));
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "Zg" is 'f'; "Zh" carries the same byte with non-zero leftover bits: two spellings of one value
  // would let a signed key be re-encoded without breaking the signature check of the bytes.
  EXPECT_FALSE(base64UrlDecode("Zh"));
  EXPECT_FALSE(base64UrlDecode("Zh=="));
  EXPECT_FALSE(base64UrlDecode("Zm9"));  // "fo" is Zm8
  EXPECT_TRUE(base64UrlDecode("Zm8"));
}

TEST(Base64Url, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 7));
    EXPECT_EQ(base64UrlDecode(base64UrlEncode(bytes)), bytes) << "length " << bytes.size();
  }
}

TEST(Base64, StandardAlphabetNeedsPadding) {
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode(std::string("\xfb\xff", 2)), "+/8=");
  EXPECT_EQ(base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64Decode("YWxhZGRpbjpvcGVuc2VzYW1l"), "aladdin:opensesame");  // RFC 7617 section 2
  EXPECT_FALSE(base64Decode("Zm9vYmE"));                                      // padding required
  EXPECT_FALSE(base64Decode("-_8="));  // URL alphabet is not standard base64
  EXPECT_FALSE(base64Decode("Zm9v YmFy"));
}

}  // namespace
}  // namespace mgw
