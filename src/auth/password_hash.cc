#include "auth/password_hash.h"

#include <openssl/sha.h>
#include <sodium.h>

#include <stdexcept>

#include "common/crypto_util.h"

namespace mgw::auth {
namespace {

constexpr std::string_view kSha256Prefix = "@sha256:";

void ensureSodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string lowerHex(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool verifyDigest(std::string_view storedHex, std::string_view digest) {
  std::string expected = lowerHex(storedHex);
  std::string actual = hexEncode(digest);
  const bool equal = constantTimeEquals(expected, actual);
  secureWipe(actual);
  return equal;
}

}  // namespace

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
