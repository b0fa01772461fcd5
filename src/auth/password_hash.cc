#include "auth/password_hash.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <stdexcept>

#include "common/crypto_util.h"

namespace mgw::auth {
namespace {

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
    case PasswordHashKind::kSha256:
    case PasswordHashKind::kSha384:
    case PasswordHashKind::kSha512:
    case PasswordHashKind::kSha1Legacy: {
      // Unsalted digests (WSO2 legacy and @sha256:), accepted only for migration with a warning.
      const EVP_MD* md = *kind == PasswordHashKind::kSha256   ? EVP_sha256()
                         : *kind == PasswordHashKind::kSha384 ? EVP_sha384()
                         : *kind == PasswordHashKind::kSha512 ? EVP_sha512()
                                                              : EVP_sha1();
      std::string digest(EVP_MAX_MD_SIZE, '\0');
      unsigned int length = 0;
      if (EVP_Digest(password.data(), password.size(),
                     reinterpret_cast<unsigned char*>(digest.data()), &length, md, nullptr) != 1)
        return false;
      digest.resize(length);
      const bool equal = verifyDigest(passwordDigestHex(stored), digest);
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
