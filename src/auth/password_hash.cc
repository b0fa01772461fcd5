#include "auth/password_hash.h"

#include <openssl/sha.h>
#include <sodium.h>

#include <stdexcept>

#include "common/crypto_util.h"

namespace mgw::auth {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kSha256Prefix = "@sha256:";

void ensureSodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium failed to initialise");
}

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool isHexString(std::string_view s, std::size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!isHex(c)) return false;
  }
  return true;
}

bool isB64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

std::string lowerHex(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Consumes `literal` from the front of `s`.
bool consume(std::string_view& s, std::string_view literal) {
  if (s.substr(0, literal.size()) != literal) return false;
  s.remove_prefix(literal.size());
  return true;
}

// 1 to 10 decimal digits (the fields are 32-bit in libsodium's encoding).
bool consumeNumber(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 10) return false;
  s.remove_prefix(n);
  return true;
}

// Unpadded standard base64, as the PHC string format writes salt and hash.
bool consumeB64(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && isB64(s[n])) ++n;
  if (n == 0) return false;
  s.remove_prefix(n);
  return true;
}

// $argon2id$v=19$m=<n>,t=<n>,p=<n>$<salt>$<hash>, shorter than crypto_pwhash_STRBYTES (the
// terminating NUL included) so libsodium can read it.
bool isArgon2idString(std::string_view s) {
  if (s.size() >= crypto_pwhash_STRBYTES) return false;
  return consume(s, kArgon2idPrefix) && consume(s, "v=19$m=") && consumeNumber(s) &&
         consume(s, ",t=") && consumeNumber(s) && consume(s, ",p=") && consumeNumber(s) &&
         consume(s, "$") && consumeB64(s) && consume(s, "$") && consumeB64(s) && s.empty();
}

bool verifyDigest(std::string_view storedHex, std::string_view digest) {
  std::string expected = lowerHex(storedHex);
  std::string actual = hexEncode(digest);
  const bool equal = constantTimeEquals(expected, actual);
  secureWipe(actual);
  return equal;
}

}  // namespace

std::optional<PasswordHashKind> classifyPasswordHash(std::string_view stored) {
  if (stored.substr(0, kArgon2idPrefix.size()) == kArgon2idPrefix) {
    if (isArgon2idString(stored)) return PasswordHashKind::kArgon2id;
    return std::nullopt;
  }
  if (stored.substr(0, kSha256Prefix.size()) == kSha256Prefix) {
    if (isHexString(stored.substr(kSha256Prefix.size()), 2 * crypto_hash_sha256_BYTES)) {
      return PasswordHashKind::kSha256;
    }
    return std::nullopt;
  }
  if (isHexString(stored, 40)) return PasswordHashKind::kSha1Legacy;
  return std::nullopt;
}

bool verifyPassword(std::string_view stored, std::string_view password) {
  const std::optional<PasswordHashKind> kind = classifyPasswordHash(stored);
  if (!kind) return false;
  ensureSodium();
  switch (*kind) {
    case PasswordHashKind::kArgon2id: {
      const std::string nulTerminated(stored);  // crypto_pwhash_str_verify reads a C string
      return crypto_pwhash_str_verify(nulTerminated.c_str(), password.data(), password.size()) == 0;
    }
    case PasswordHashKind::kSha256: {
      std::string digest(crypto_hash_sha256_BYTES, '\0');
      crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                         reinterpret_cast<const unsigned char*>(password.data()), password.size());
      const bool equal = verifyDigest(stored.substr(kSha256Prefix.size()), digest);
      secureWipe(digest);
      return equal;
    }
    case PasswordHashKind::kSha1Legacy: {
      // WSO2 legacy: unsalted SHA-1 (accepted only for migration, with a startup warning).
      std::string digest(SHA_DIGEST_LENGTH, '\0');
      SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(),
           reinterpret_cast<unsigned char*>(digest.data()));
      const bool equal = verifyDigest(stored, digest);
      secureWipe(digest);
      return equal;
    }
  }
  return false;
}

std::string hashPassword(std::string_view password) {
  ensureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory?)");
  }
  return std::string(out);
}

}  // namespace mgw::auth
