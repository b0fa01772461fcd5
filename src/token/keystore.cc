// generateKeystore: the development keystore `micro-gw keystore init` and first start create.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "token/keys.h"
#include "token/openssl_util.h"

namespace mgw::token {

using detail::Owned;
using detail::takeOpenSslError;

namespace {

// RSA-3072: 128-bit security (NIST SP 800-57 Part 1, table 2), the same level as P-256 and Ed25519;
// well above RFC 7518's 2048-bit floor, at a one-off generation cost of about a second.
constexpr std::size_t kRsaBits = 3072;
constexpr long kValiditySeconds = 2L * 365 * 24 * 60 * 60;  // 2 years
// notBefore a little in the past so a peer whose clock lags slightly still accepts the certificate.
constexpr long kBackdateSeconds = 60;
// Friendly name of the PKCS#12 entry: WSO2's default certificateAlias, so existing configs find it.
constexpr const char* kPkcs12Alias = "ballerina";

bool failWith(std::string* error, std::string message) {
  std::string detail = takeOpenSslError();
  if (error) *error = detail.empty() ? std::move(message) : message + " (OpenSSL: " + detail + ")";
  return false;
}

Owned<EVP_PKEY> generateKey(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRS256:
      return Owned<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", kRsaBits));
    case Algorithm::kES256:
      return Owned<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    case Algorithm::kEdDSA:
      return Owned<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  }
  return nullptr;
}

bool addExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Self-signed X.509 v3 (RFC 5280): CN=localhost, SAN DNS:localhost and IP:127.0.0.1, 2 years.
Owned<X509> selfSignedCertificate(EVP_PKEY* key, Algorithm alg) {
  Owned<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return nullptr;

  // RFC 5280 section 4.1.2.2: positive, unique, at most 20 octets; 127 random bits.
  Owned<BIGNUM> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1)
    return nullptr;
  Owned<ASN1_INTEGER> serialAsn1(BN_to_ASN1_INTEGER(serial.get(), nullptr));
  if (!serialAsn1 || X509_set_serialNumber(cert.get(), serialAsn1.get()) != 1) return nullptr;

  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds)) {
    return nullptr;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return nullptr;
  }
  const char* keyUsage = alg == Algorithm::kRS256 ? "critical,digitalSignature,keyEncipherment"
                                                  : "critical,digitalSignature";
  if (!addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(cert.get(), NID_key_usage, keyUsage) ||
      !addExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !addExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") ||
      !addExtension(cert.get(), NID_subject_key_identifier, "hash")) {
    return nullptr;
  }
  // Ed25519 signs without a separate digest (RFC 8410 section 6).
  const EVP_MD* md = alg == Algorithm::kEdDSA ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), key, md) <= 0) return nullptr;
  return cert;
}

std::string pemEncode(EVP_PKEY* key, X509* cert, const std::string& password) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  // Encrypted PKCS#8 (PBES2, AES-256-CBC) when a password is given.
  const EVP_CIPHER* cipher = password.empty() ? nullptr : EVP_aes_256_cbc();
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, cipher,
                                    password.empty() ? nullptr : password.data(),
                                    static_cast<int>(password.size()), nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(bio.get(), cert) != 1) {
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string pkcs12Encode(EVP_PKEY* key, X509* cert, const std::string& password) {
  // OpenSSL 3 defaults: PBES2 with AES-256-CBC and a SHA-256 MAC.
  Owned<PKCS12> p12(
      PKCS12_create(password.c_str(), kPkcs12Alias, key, cert, nullptr, 0, 0, 0, 0, 0));
  if (!p12) return "";
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return "";
  Owned<unsigned char> owner(der);
  return std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
}

// Creates path with mode 0600 (never readable by others, whatever the umask) and refuses to replace
// an existing file: a keystore that signs keys must not be lost to a repeated `keystore init`.
bool writePrivateFile(const std::string& path, const std::string& data, std::string* error) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return failWith(error, "cannot create " + parent.string() + ": " + ec.message());
    std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return failWith(error, path + " already exists; remove it first to create a new keystore");
    return failWith(error, "cannot create " + path + ": " + std::strerror(errno));
  }
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t written = 0;
  while (ok && written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    std::string why = std::strerror(errno);
    ::unlink(path.c_str());
    return failWith(error, "cannot write " + path + ": " + why);
  }
  return true;
}

bool isPkcs12Path(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return ext == ".p12" || ext == ".pfx";
}

}  // namespace

bool generateKeystore(const std::string& pemPath, Algorithm alg, const std::string& password,
                      std::string* error) {
  const bool pkcs12 = isPkcs12Path(pemPath);
  if (pkcs12 && password.empty())
    return failWith(error, pemPath + ": a PKCS#12 keystore needs a password");
  Owned<EVP_PKEY> key = generateKey(alg);
  if (!key) return failWith(error, "cannot generate a key for " + std::string(algorithmName(alg)));
  Owned<X509> cert = selfSignedCertificate(key.get(), alg);
  if (!cert) return failWith(error, "cannot create the self-signed certificate");
  std::string data = pkcs12 ? pkcs12Encode(key.get(), cert.get(), password)
                            : pemEncode(key.get(), cert.get(), password);
  if (data.empty()) return failWith(error, "cannot encode the keystore");
  bool ok = writePrivateFile(pemPath, data, error);
  OPENSSL_cleanse(data.data(), data.size());  // an unencrypted PEM holds the private key
  return ok;
}

}  // namespace mgw::token
