#include "common/crypto_util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <memory>
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

Sha256Digest sha256Digest(std::string_view data) {
  // The digest is fetched once: SHA256() fetches it from the provider on every call (the key
  // cache hashes every request's key). One context per thread, initialised again per call:
  // EVP_Digest allocates and frees a context each time.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  Sha256Digest md{};
  unsigned int size = 0;
  if (kSha256 == nullptr || ctx == nullptr ||
      EVP_DigestInit_ex2(ctx.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), md.data(), &size) != 1 || size != md.size())
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data());
  return md;
}

std::string sha256(std::string_view data) {
  const Sha256Digest md = sha256Digest(data);
  return std::string(reinterpret_cast<const char*>(md.data()), md.size());
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
