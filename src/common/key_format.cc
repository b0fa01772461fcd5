#include "common/key_format.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "common/crypto_util.h"

namespace mgw {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Slicing-by-8 (Intel's, as zlib's): eight bytes per step with eight tables. The gateway checks a
// key's checksum on every request carrying one, so the check must cost far less than a lookup.
using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;

CrcTables makeCrcTables() {
  CrcTables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i)
    for (std::size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}

const CrcTables kCrc = makeCrcTables();

// Base62 digit values; -1 for any other byte.
std::array<signed char, 256> makeDigits() {
  std::array<signed char, 256> d{};
  d.fill(-1);
  for (int i = 0; i < 62; ++i)
    d[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  return d;
}

const std::array<signed char, 256> kDigits = makeDigits();

bool isBase62(char c) { return kDigits[static_cast<unsigned char>(c)] >= 0; }

// No early exit: the sign bits are OR-ed, so the loop has no branch per byte (the gateway runs
// it on every key of the format).
bool allBase62(std::string_view s) {
  signed char any = 0;
  for (char c : s) any = static_cast<signed char>(any | kDigits[static_cast<unsigned char>(c)]);
  return any >= 0;
}

// A character that continues a token: a key found inside a longer word is no key.
bool isWordChar(char c) { return isBase62(c) || c == '_'; }

// A character of a compact JWS (base64url and '.'): the run a framed signed key is read from.
bool isJwsChar(char c) { return isBase62(c) || c == '_' || c == '-' || c == '.'; }

// The checksum's digits read as a number (no string made): 62^6 > 2^32, so a wrong one that
// overflows 32 bits is simply unequal. check is base62.
bool checksumMatches(std::string_view check, std::string_view data) {
  std::uint64_t written = 0;
  for (char c : check)
    written = written * 62 + static_cast<std::uint64_t>(kDigits[static_cast<unsigned char>(c)]);
  return written == crc32(data);
}

// The longest framed key the scanner reads: a JWS the gateway takes is at most 8 KiB
// (token::kMaxTokenBytes), with room for the frame.
constexpr std::size_t kMaxFramedKeyLength = 8 * 1024 + 64;

// The framed signed key starting at text[at] (its prefix and '_' already seen at a word
// boundary): the longest run of JWS characters that ends in "_<checksum>" of what it frames,
// frames a compact JWS (two '.') and is not followed by a base62 character. 0 when none.
std::size_t framedKeyLengthAt(std::string_view text, std::size_t at, std::size_t prefixLength) {
  const std::size_t begin = at + prefixLength + 1;
  std::size_t end = begin;
  const std::size_t limit = std::min(text.size(), at + kMaxFramedKeyLength);
  while (end < limit && isJwsChar(text[end])) ++end;
  for (std::size_t e = end; e >= at + kMinFramedKeyLength; --e) {
    if (e < end && isBase62(text[e])) continue;  // inside a longer word
    const std::size_t tail = e - kKeyChecksumChars - 1;
    if (text[tail] != '_' || !allBase62(text.substr(tail + 1, kKeyChecksumChars))) continue;
    const std::string_view jws = text.substr(begin, tail - begin);
    if (std::count(jws.begin(), jws.end(), '.') != 2) continue;
    if (checksumMatches(text.substr(tail + 1, kKeyChecksumChars), jws)) return e - at;
  }
  return 0;
}

}  // namespace

std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                  std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    c = kCrc[7][lo & 0xFF] ^ kCrc[6][(lo >> 8) & 0xFF] ^ kCrc[5][(lo >> 16) & 0xFF] ^
        kCrc[4][lo >> 24] ^ kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
  }
  for (; n > 0; --n, ++p) c = kCrc[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string base62(std::uint32_t value, std::size_t width) {
  std::string out(width, '0');
  for (std::size_t i = width; i > 0 && value > 0; --i) {
    out[i - 1] = kAlphabet[value % 62];
    value /= 62;
  }
  return out;
}

std::string base62Bytes(std::string_view bytes, std::size_t width) {
  // Long division of the big-endian number by 62, one base62 digit per pass.
  std::string number(bytes);
  std::string out(width, '0');
  for (std::size_t i = width; i > 0; --i) {
    unsigned remainder = 0;
    for (char& ch : number) {
      const unsigned acc = (remainder << 8) | static_cast<unsigned char>(ch);
      ch = static_cast<char>(acc / 62);
      remainder = acc % 62;
    }
    out[i - 1] = kAlphabet[remainder];
  }
  secureWipe(number);
  return out;
}

std::optional<std::string> validateKeyPrefix(std::string_view prefix) {
  if (prefix.size() < 2 || prefix.size() > kMaxKeyPrefixLength)
    return "must be 2 to " + std::to_string(kMaxKeyPrefixLength) + " characters long";
  if (!(prefix[0] >= 'a' && prefix[0] <= 'z')) return "must start with a lower-case letter";
  for (char c : prefix)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return "may contain only lower-case letters and digits";
  return std::nullopt;
}

std::string formattedKeyFromBytes(std::string_view prefix, std::string_view randomBytes) {
  std::string random = base62Bytes(randomBytes, kKeyRandomChars);
  std::string key;
  key.reserve(prefix.size() + 2 + kKeyRandomChars + kKeyChecksumChars);
  key.append(prefix).push_back('_');
  key.append(random).push_back('_');
  key.append(base62(crc32(random), kKeyChecksumChars));
  secureWipe(random);
  return key;
}

std::string generateFormattedKey(std::string_view prefix) {
  std::string bytes = randomBytes(32);
  std::string key = formattedKeyFromBytes(prefix, bytes);
  secureWipe(bytes);
  return key;
}

KeyShape keyShape(std::string_view value, std::string_view prefix) {
  const std::size_t n = prefix.size();
  if (value.size() != n + 2 + kKeyRandomChars + kKeyChecksumChars) return KeyShape::kOther;
  if (value.substr(0, n) != prefix || value[n] != '_' || value[n + 1 + kKeyRandomChars] != '_')
    return KeyShape::kOther;
  const std::string_view random = value.substr(n + 1, kKeyRandomChars);
  const std::string_view check = value.substr(n + 2 + kKeyRandomChars);
  if (!allBase62(random) || !allBase62(check)) return KeyShape::kOther;
  return checksumMatches(check, random) ? KeyShape::kValid : KeyShape::kBadChecksum;
}

std::string frameSignedKey(std::string_view prefix, std::string_view jws) {
  std::string key;
  key.reserve(prefix.size() + jws.size() + 2 + kKeyChecksumChars);
  key.append(prefix).push_back('_');
  key.append(jws).push_back('_');
  key.append(base62(crc32(jws), kKeyChecksumChars));
  return key;
}

FramedKey unframeSignedKey(std::string_view value, std::string_view prefix) {
  FramedKey out;
  const std::size_t n = prefix.size();
  if (n == 0 || value.size() < kMinFramedKeyLength || value.size() < n + 3 + kKeyChecksumChars ||
      value.substr(0, n) != prefix || value[n] != '_')
    return out;
  // From here on the value claims to be framed: anything wrong with its tail is a bad checksum.
  out.shape = KeyShape::kBadChecksum;
  const std::size_t tail = value.size() - kKeyChecksumChars - 1;
  const std::string_view check = value.substr(tail + 1);
  if (value[tail] != '_' || !allBase62(check)) return out;
  const std::string_view jws = value.substr(n + 1, tail - n - 1);
  if (!checksumMatches(check, jws)) return out;
  out.shape = KeyShape::kValid;
  out.jws = jws;
  return out;
}

FramedKey unframeSignedKeyAnyPrefix(std::string_view value) {
  const std::size_t underscore = value.find('_');
  if (underscore == std::string_view::npos || underscore > kMaxKeyPrefixLength) return {};
  const std::string_view prefix = value.substr(0, underscore);
  if (validateKeyPrefix(prefix)) return {};
  return unframeSignedKey(value, prefix);
}

std::vector<KeyMatch> findFormattedKeys(std::string_view text, std::string_view prefix) {
  std::vector<KeyMatch> out;
  if (prefix.empty()) return out;
  const std::size_t length = prefix.size() + 2 + kKeyRandomChars + kKeyChecksumChars;
  std::string marker(prefix);
  marker.push_back('_');
  for (std::size_t at = text.find(marker); at != std::string_view::npos;
       at = text.find(marker, at + 1)) {
    if (at > 0 && isWordChar(text[at - 1])) continue;
    if (text.size() - at >= length &&
        !(text.size() - at > length && isWordChar(text[at + length])) &&
        keyShape(text.substr(at, length), prefix) == KeyShape::kValid) {
      out.push_back({at, length});
      continue;
    }
    if (const std::size_t framed = framedKeyLengthAt(text, at, prefix.size()); framed > 0) {
      out.push_back({at, framed});
      at += framed - 1;  // nothing inside a found key is another one
    }
  }
  return out;
}

}  // namespace mgw
