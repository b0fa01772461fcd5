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
