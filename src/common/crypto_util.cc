#include "common/crypto_util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <stdexcept>

namespace mgw {
namespace {
void ensureSodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium failed to initialise");
}
}  // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  // Compare against a same-length buffer so timing depends only on a's length, then fold the
  // length check in.
  const size_t n = a.size();
  std::string other(n, '\0');
  for (size_t i = 0; i < n && i < b.size(); ++i) other[i] = b[i];
  int equal = CRYPTO_memcmp(a.data(), other.data(), n) == 0;
  return equal & (a.size() == b.size());
}

std::string randomBytes(size_t n) {
  ensureSodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string uuidV4() {
  std::string b = randomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);
  std::string hex = hexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string sha256(std::string_view data) {
  // The digest is fetched once: SHA256() fetches it from the provider on every call (the key
  // cache hashes every request's key).
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int size = 0;
  if (kSha256 == nullptr ||
      EVP_Digest(data.data(), data.size(), md, &size, kSha256, nullptr) != 1 || size != sizeof md)
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string hexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string fingerprint(std::string_view secret) { return hexEncode(sha256(secret)).substr(0, 12); }

void secureWipe(std::string& secret) {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

}  // namespace mgw
