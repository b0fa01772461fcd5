// The scanner-recognisable key format (issue 25 item 4). Keys in this file are written as
// adjacent string literals ("mgw" "_..."), so that `micro-gw keys scan` finds none in the
// repository's own tree.
#include "common/key_format.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mgw {
namespace {

std::string bytes0to31() {
  std::string b;
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<char>(i));
  return b;
}

TEST(KeyFormatTest, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value (zlib's crc32)
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(KeyFormatTest, Base62IsZeroPaddedMostSignificantFirst) {
  EXPECT_EQ(base62(0, 6), "000000");
  EXPECT_EQ(base62(61, 6), "00000z");
  EXPECT_EQ(base62(62, 6), "000010");
  EXPECT_EQ(base62(0xCBF43926u, 6), "3jZRME");
  EXPECT_EQ(base62(0xFFFFFFFFu, 6), "4gfFC3");
  EXPECT_EQ(base62Bytes(std::string(32, '\0'), 43), std::string(43, '0'));
  EXPECT_EQ(base62Bytes(std::string(32, '\xff'), 43),
            "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1");  // 2^256 - 1
}

TEST(KeyFormatTest, AKnownVector) {
  const std::string key = formattedKeyFromBytes("mgw", bytes0to31());
  EXPECT_EQ(key,
            "mgw"
            "_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf_1Yo7hP");
  EXPECT_EQ(keyShape(key, "mgw"), KeyShape::kValid);
}

TEST(KeyFormatTest, GeneratedKeysHaveTheShapeAndAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string key = generateFormattedKey("mgw");
    ASSERT_EQ(key.size(), 3 + 2 + kKeyRandomChars + kKeyChecksumChars);
    ASSERT_LE(key.size(), 64u);  // an opaque key's bound (gateway::KeyValidator)
    EXPECT_EQ(keyShape(key, "mgw"), KeyShape::kValid);
    EXPECT_TRUE(seen.insert(key).second);
  }
  const std::string longest = generateFormattedKey(std::string(kMaxKeyPrefixLength, 'a'));
  EXPECT_LE(longest.size(), 64u);
}

TEST(KeyFormatTest, EveryChangedCharacterIsCaught) {
  const std::string key = formattedKeyFromBytes("mgw", bytes0to31());
  for (std::size_t i = 4; i < key.size(); ++i) {
    if (key[i] == '_') continue;
    std::string mangled = key;
    mangled[i] = key[i] == 'a' ? 'b' : 'a';
    EXPECT_EQ(keyShape(mangled, "mgw"), KeyShape::kBadChecksum) << i;
  }
  // Swapping two neighbours (a typical typo) is caught too.
  std::string swapped = key;
  std::swap(swapped[10], swapped[11]);
  ASSERT_NE(swapped, key);
  EXPECT_EQ(keyShape(swapped, "mgw"), KeyShape::kBadChecksum);
}

TEST(KeyFormatTest, OtherValuesAreNotOfTheFormat) {
  const std::string key = formattedKeyFromBytes("mgw", bytes0to31());
  EXPECT_EQ(keyShape(key, "acme"), KeyShape::kOther);                           // another prefix
  EXPECT_EQ(keyShape(key.substr(0, key.size() - 1), "mgw"), KeyShape::kOther);  // truncated
  EXPECT_EQ(keyShape("a-custom-key-value-1", "mgw"), KeyShape::kOther);
  EXPECT_EQ(keyShape("dGhpcyBpcyBhIGJhc2U2NHVybCBrZXkgdmFsdWUgb2YgNDM", "mgw"), KeyShape::kOther);
  std::string badChar = key;
  badChar[10] = '-';
  EXPECT_EQ(keyShape(badChar, "mgw"), KeyShape::kOther);
}

TEST(KeyFormatTest, FindsKeysInTextOnlyWithTheirChecksumAndOnWordBoundaries) {
  const std::string key = formattedKeyFromBytes("mgw", bytes0to31());
  std::string mangled = key;
  mangled[20] = mangled[20] == 'x' ? 'y' : 'x';
  const std::string text = "apikey: " + key + "\nother=" + mangled + "\nx" + key + "\n\"" + key +
                           "\"\n" + key + "z\n" + key;
  auto found = findFormattedKeys(text, "mgw");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].offset, 8u);
  for (const auto& m : found) EXPECT_EQ(text.substr(m.offset, m.length), key);
}

// --- signed keys framed as "<prefix>_<JWS>_<checksum>" ---

// Not a real key: a JWS-shaped text whose signature part has '_' and '-', as base64url may.
const std::string kJws =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImJhbGxlcmluYSJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl_-x";

TEST(KeyFormatTest, AFramedSignedKeyVector) {
  // zlib.crc32(kJws) in base62, 6 characters (README's recipe).
  const std::string framed = frameSignedKey("mgw", kJws);
  EXPECT_EQ(framed,
            "mgw"
            "_" +
                kJws + "_1sXVCC");
  const FramedKey f = unframeSignedKey(framed, "mgw");
  EXPECT_EQ(f.shape, KeyShape::kValid);
  EXPECT_EQ(f.jws, kJws);  // read from both ends: the JWS's own '_' and '-' do not matter
  EXPECT_EQ(unframeSignedKeyAnyPrefix(framed).jws, kJws);
  EXPECT_EQ(unframeSignedKey(frameSignedKey("acme2", kJws), "acme2").jws, kJws);
  // Longer than any opaque key, so the two formats never meet.
  EXPECT_GE(framed.size(), kMinFramedKeyLength);
  EXPECT_EQ(keyShape(framed, "mgw"), KeyShape::kOther);
}

TEST(KeyFormatTest, AFramedKeyWithAWrongChecksumOrTruncatedIsABadChecksum) {
  const std::string framed = frameSignedKey("mgw", kJws);
  // Every changed character after the prefix: in the JWS, in the checksum or its '_'.
  for (std::size_t i = 4; i < framed.size(); ++i) {
    std::string mangled = framed;
    mangled[i] = framed[i] == 'a' ? 'b' : 'a';
    EXPECT_EQ(unframeSignedKey(mangled, "mgw").shape, KeyShape::kBadChecksum) << i;
  }
  for (std::size_t cut = 1; cut <= 10; ++cut)  // truncated: the tail is no checksum any more
    EXPECT_EQ(unframeSignedKey(framed.substr(0, framed.size() - cut), "mgw").shape,
              KeyShape::kBadChecksum)
        << cut;
  EXPECT_EQ(unframeSignedKey(framed + "x", "mgw").shape, KeyShape::kBadChecksum);
  EXPECT_EQ(unframeSignedKeyAnyPrefix(framed.substr(0, framed.size() - 1)).shape,
            KeyShape::kBadChecksum);
}

TEST(KeyFormatTest, OtherValuesAreNotFramed) {
  const std::string framed = frameSignedKey("mgw", kJws);
  EXPECT_EQ(unframeSignedKey(framed, "acme").shape, KeyShape::kOther);  // another prefix
  EXPECT_EQ(unframeSignedKey(framed, "mg").shape, KeyShape::kOther);    // no '_' after it
  EXPECT_EQ(unframeSignedKey(kJws + ".padding-to-be-long-enough-000000", "mgw").shape,
            KeyShape::kOther);  // an unframed JWS
  EXPECT_EQ(unframeSignedKey(formattedKeyFromBytes("mgw", bytes0to31()), "mgw").shape,
            KeyShape::kOther);  // an opaque key
  EXPECT_EQ(unframeSignedKey("mgw"
                             "_a.b.c_3L9Q5d",
                             "mgw")
                .shape,
            KeyShape::kOther);  // as short as an opaque key: never framed
  EXPECT_EQ(unframeSignedKeyAnyPrefix(kJws + "_1sXVCC").shape, KeyShape::kOther);
  EXPECT_EQ(unframeSignedKeyAnyPrefix("Mgw_" + kJws + "_1sXVCC").shape, KeyShape::kOther);
}

TEST(KeyFormatTest, FindsFramedSignedKeysBesideOpaqueKeys) {
  const std::string framed = frameSignedKey("mgw", kJws);
  const std::string opaque = formattedKeyFromBytes("mgw", bytes0to31());
  std::string mangled = framed;
  mangled[30] = mangled[30] == 'x' ? 'y' : 'x';
  // Followed by what ends a token in text: a quote, '&', '.', '-', '_', a newline, the end.
  const std::string text = "Authorization: Bearer " + framed + "\n{\"k\": \"" + framed +
                           "\", \"o\": \"" + opaque + "\"}\n?apikey=" + framed + "&x=1\nkey " +
                           framed + ".\n" + framed + "-x " + framed + "_y\nbad " + mangled + "\nx" +
                           framed + "\n" + framed + "z\n" + framed;
  auto found = findFormattedKeys(text, "mgw");
  ASSERT_EQ(found.size(), 8u);
  EXPECT_EQ(found[0].offset, 22u);
  for (std::size_t i = 0; i < found.size(); ++i)
    EXPECT_EQ(text.substr(found[i].offset, found[i].length), i == 2 ? opaque : framed) << i;
}

TEST(KeyFormatTest, Prefixes) {
  EXPECT_FALSE(validateKeyPrefix("mgw"));
  EXPECT_FALSE(validateKeyPrefix("acme2"));
  EXPECT_TRUE(validateKeyPrefix("m"));
  EXPECT_TRUE(validateKeyPrefix("Mgw"));
  EXPECT_TRUE(validateKeyPrefix("2mgw"));
  EXPECT_TRUE(validateKeyPrefix("mg_w"));
  EXPECT_TRUE(validateKeyPrefix(std::string(kMaxKeyPrefixLength + 1, 'a')));
}

}  // namespace
}  // namespace mgw
