// The opaque key format secret scanners recognise (issue 25 item 4): "<prefix>_<random>_<check>",
// as GitHub's tokens: <random> is 32 random bytes written as 43 base62 characters, <check> the
// CRC-32 (IEEE 802.3, as zlib's crc32) of the <random> text, written as 6 base62 characters padded
// with '0'. A mistyped or truncated key fails the checksum and is refused before any lookup; a
// scanner finds the keys by their shape and confirms them by the checksum, so text that merely
// looks alike is not reported. Pure functions: no I/O, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw {

inline constexpr std::size_t kKeyRandomChars = 43;      // 62^43 > 2^256: 32 bytes always fit
inline constexpr std::size_t kKeyChecksumChars = 6;     // 62^6 > 2^32
inline constexpr std::size_t kMaxKeyPrefixLength = 12;  // the whole key stays within 64 characters

// CRC-32 (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF).
std::uint32_t crc32(std::string_view data);
// value in base62 (0-9, A-Z, a-z), most significant digit first, left-padded with '0' to width.
std::string base62(std::uint32_t value, std::size_t width);
// bytes read as one big-endian number, in base62, left-padded with '0' to width characters.
// width must be large enough (62^width > 256^bytes.size()).
std::string base62Bytes(std::string_view bytes, std::size_t width);

// nullopt when prefix may be a key prefix: 2 to kMaxKeyPrefixLength characters, lower-case letters
// and digits, starting with a letter. Otherwise what is wrong with it.
std::optional<std::string> validateKeyPrefix(std::string_view prefix);

// A new key of the format from 32 random bytes (common/crypto_util's randomBytes).
std::string generateFormattedKey(std::string_view prefix);
// The key for these 32 bytes (for tests and generateFormattedKey).
std::string formattedKeyFromBytes(std::string_view prefix, std::string_view randomBytes);

enum class KeyShape {
  kOther,        // not of the format with this prefix (an older key, a custom value, a signed key)
  kValid,        // of the format, checksum right
  kBadChecksum,  // of the format, checksum wrong: mistyped, truncated or made up
};
KeyShape keyShape(std::string_view value, std::string_view prefix);

// Every key of the format with a right checksum in text, as offsets into text.
struct KeyMatch {
  std::size_t offset = 0;
  std::size_t length = 0;
};
// Both kinds: opaque keys and framed signed keys (below), in the order they occur.
std::vector<KeyMatch> findFormattedKeys(std::string_view text, std::string_view prefix);

// Signed keys framed for scanners ([apikey.issuer.tokenConfig] keyPrefix):
// "<prefix>_<JWS>_<check>", <JWS> the compact JWS as signed (RFC 7515 section 7.1), <check> the
// CRC-32 of the JWS text in 6 base62 characters as above. The frame is transport only: the JWS
// inside is what is verified, cached, revoked and identified (jti). The JWS's base64url contains
// '_' and '-', so the frame is read from both ends, never by splitting on '_': the prefix and its
// '_' from the front (the configured prefix, known), the checksum and its '_' from the fixed-length
// tail (7 characters). An unframed JWS is never taken for a framed one: its header is a JSON
// object, whose base64url starts with 'e' (the '{'), so a prefix that does not start with 'e' (as
// "mgw") cannot match it, and an issuer's `{"` header starts "eyJ", which no prefix (lower-case
// letters and digits, then '_') matches either.
inline constexpr std::size_t kMinFramedKeyLength = 65;  // longer than any opaque key (64)

// "<prefix>_<jws>_<check>".
std::string frameSignedKey(std::string_view prefix, std::string_view jws);

struct FramedKey {
  // kOther: not framed with this prefix (an unframed JWS, an opaque key, anything else);
  // kValid: framed, jws is the JWS inside (a view into the value);
  // kBadChecksum: starts with "<prefix>_" and is longer than any opaque key, but its tail is no
  // "_<checksum>" of what it frames: mistyped, truncated or made up.
  KeyShape shape = KeyShape::kOther;
  std::string_view jws;
};
FramedKey unframeSignedKey(std::string_view value, std::string_view prefix);

// The same for a value whose prefix is not known (`micro-gw token inspect`): the text before the
// first '_' when it is a valid key prefix.
FramedKey unframeSignedKeyAnyPrefix(std::string_view value);

}  // namespace mgw
