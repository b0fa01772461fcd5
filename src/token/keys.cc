#include "token/keys.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/base64url.h"
#include "common/crypto_util.h"
#include "token/iso_time.h"
#include "token/legacy_provider.h"
#include "token/openssl_util.h"

namespace mgw::token {

using detail::memoryBio;
using detail::Owned;
using detail::takeOpenSslError;

namespace {

constexpr int kMinRsaBits =
    2048;  // RFC 7518 section 3.3: "a key of size 2048 bits or larger MUST be used"
constexpr std::size_t kEs256CoordinateBytes =
    32;  // P-256 field size; R||S is 2 x 32 (RFC 7518 section 3.4)
constexpr std::size_t kEd25519SignatureBytes = 64;  // RFC 8032 section 5.1.6

// Sets *error (when given) and clears the OpenSSL queue, so every failure path is one line. The
// message already says what went wrong; OpenSSL's own reason is added only where it adds something.
template <typename T>
T fail(std::string* error, std::string message) {
  ERR_clear_error();
  if (error) *error = std::move(message);
  return T{};
}

template <typename T>
T failWithDetail(std::string* error, std::string message) {
  std::string detail = takeOpenSslError();
  if (error) *error = detail.empty() ? std::move(message) : message + " (OpenSSL: " + detail + ")";
  return T{};
}

bool endsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

bool readFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  // A directory opens, then reads as empty: say what it is rather than "no PEM ... found".
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (error) *error = "cannot read " + path + ": " + std::strerror(EISDIR);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return true;
}

std::string keyTypeName(const EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  return name ? name : "unknown";
}

// Why `key` cannot carry `alg`, or empty when it can. The key pins the algorithm (RFC 8725
// section 3.1), so this is checked once at load rather than at every verify.
std::string unfitReason(const EVP_PKEY* key, Algorithm alg) {
  switch (alg) {
    case Algorithm::kRS256: {
      if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        return "RS256 needs an RSA key, not " + keyTypeName(key);
      int bits = EVP_PKEY_get_bits(key);
      if (bits < kMinRsaBits) {
        return "RS256 needs an RSA key of at least 2048 bits (RFC 7518 section 3.3); this one "
               "has " +
               std::to_string(bits);
      }
      return "";
    }
    case Algorithm::kES256: {
      if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return "ES256 needs an EC P-256 key, not " + keyTypeName(key);
      char group[64] = {0};
      std::size_t len = 0;
      if (!EVP_PKEY_get_group_name(key, group, sizeof group, &len))
        return "ES256 needs a named P-256 curve";
      if (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "P-256") != 0) {
        return std::string("ES256 needs the P-256 curve (RFC 7518 section 3.4), not ") + group;
      }
      return "";
    }
    case Algorithm::kEdDSA:
      if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        return "EdDSA needs an Ed25519 key (RFC 8037 section 3.1), not " + keyTypeName(key);
      }
      return "";
  }
  return "unknown algorithm";
}

std::optional<Algorithm> algorithmForKey(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return Algorithm::kRS256;
    case EVP_PKEY_EC:
      return Algorithm::kES256;
    case EVP_PKEY_ED25519:
      return Algorithm::kEdDSA;
    default:
      return std::nullopt;
  }
}

// SHA-256 for RS256/ES256; none for Ed25519, which hashes internally (RFC 8032 PureEdDSA).
const EVP_MD* digestFor(Algorithm alg) { return alg == Algorithm::kEdDSA ? nullptr : EVP_sha256(); }

std::int64_t asn1TimeToEpoch(const ASN1_TIME* t) {
  std::tm tm{};
  if (!ASN1_TIME_to_tm(t, &tm)) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

// "certificate expired on ..." when notAfter is in the past; empty when valid.
std::string certificateExpiry(X509* cert) {
  const ASN1_TIME* notAfter = X509_get0_notAfter(cert);
  if (X509_cmp_current_time(notAfter) < 0)
    return "certificate expired on " + isoTime(asn1TimeToEpoch(notAfter));
  return "";
}

// x5t (RFC 7515 section 4.1.7): base64url of the SHA-1 of the certificate DER.
std::string sha1Thumbprint(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest(cert, EVP_sha1(), md, &len)) {
    ERR_clear_error();
    return "";
  }
  return base64UrlEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

// A copy holding only the public half, so a VerificationKey never carries private material.
Owned<EVP_PKEY> publicOnly(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return nullptr;
  Owned<unsigned char> owner(der);
  const unsigned char* p = der;
  return Owned<EVP_PKEY>(d2i_PUBKEY(nullptr, &p, len));
}

std::string bnBytes(const BIGNUM* bn, std::size_t padTo) {
  std::size_t n = padTo ? padTo : static_cast<std::size_t>(BN_num_bytes(bn));
  std::string out(n, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) < 0)
    return "";
  return out;
}

std::string bnParam(const EVP_PKEY* key, const char* name, std::size_t padTo) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &raw)) {
    ERR_clear_error();
    return "";
  }
  Owned<BIGNUM> bn(raw);
  return bnBytes(bn.get(), padTo);
}

// PEM password callback: never prompts on a terminal (the OpenSSL default would); an empty password
// makes decryption of an encrypted key fail cleanly.
int passwordCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  if (password == nullptr || password->empty() || password->size() > static_cast<std::size_t>(size))
    return -1;
  std::memcpy(buf, password->data(), password->size());
  return static_cast<int>(password->size());
}

}  // namespace

// ---- VerificationKey ----------------------------------------------------------------------------

VerificationKey::~VerificationKey() {
  EVP_MD_CTX_free(verifyInit_);
  EVP_PKEY_free(key_);
}

std::shared_ptr<const VerificationKey> VerificationKey::make(EVP_PKEY* key, Algorithm alg,
                                                             std::string x5t, std::string* error) {
  Owned<EVP_PKEY> owned(key);
  if (!owned) return fail<std::shared_ptr<const VerificationKey>>(error, "no public key");
  std::string why = unfitReason(owned.get(), alg);
  if (!why.empty()) return fail<std::shared_ptr<const VerificationKey>>(error, why);
  std::shared_ptr<VerificationKey> result(new VerificationKey(owned.release(), alg));
  result->x5t_ = std::move(x5t);
  if (alg == Algorithm::kEdDSA) {
    std::size_t len = sizeof result->ed25519Key_;
    if (sodium_init() < 0 ||
        EVP_PKEY_get_raw_public_key(result->key_, result->ed25519Key_, &len) != 1 ||
        len != sizeof result->ed25519Key_) {
      ERR_clear_error();
      return fail<std::shared_ptr<const VerificationKey>>(error, "cannot read the Ed25519 key");
    }
  } else {
    result->verifyInit_ = EVP_MD_CTX_new();
    if (!result->verifyInit_ || EVP_DigestVerifyInit(result->verifyInit_, nullptr, digestFor(alg),
                                                     nullptr, result->key_) != 1) {
      return failWithDetail<std::shared_ptr<const VerificationKey>>(
          error, "cannot prepare the key for verification");
    }
  }
  return result;
}

std::shared_ptr<const VerificationKey> VerificationKey::fromPublicKey(EVP_PKEY* key, Algorithm alg,
                                                                      std::string* error) {
  return make(key, alg, "", error);
}

std::shared_ptr<const VerificationKey> VerificationKey::fromPem(std::string_view pem,
                                                                std::string* error) {
  using Result = std::shared_ptr<const VerificationKey>;
  Owned<X509> cert;
  Owned<EVP_PKEY> key;
  {
    auto bio = memoryBio(pem);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }
  if (cert) {
    std::string expired = certificateExpiry(cert.get());
    if (!expired.empty()) return fail<Result>(error, expired);
    key.reset(X509_get_pubkey(cert.get()));
  } else {
    ERR_clear_error();
    auto bio = memoryBio(pem);
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key) {
    if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
      return fail<Result>(error,
                          "found a private key where a certificate or public key was expected; "
                          "give the certificate (or public key) only");
    }
    return fail<Result>(
        error, "no PEM certificate or public key (BEGIN CERTIFICATE / BEGIN PUBLIC KEY) found");
  }
  std::optional<Algorithm> alg = algorithmForKey(key.get());
  if (!alg) {
    return fail<Result>(error, "unsupported key type " + keyTypeName(key.get()) +
                                   "; use RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA)");
  }
  return make(key.release(), *alg, cert ? sha1Thumbprint(cert.get()) : "", error);
}

std::shared_ptr<const VerificationKey> VerificationKey::fromPemFile(const std::string& path,
                                                                    std::string* error) {
  std::string text;
  if (!readFile(path, &text, error)) return nullptr;
  auto key = fromPem(text, error);
  if (!key && error) *error = path + ": " + *error;
  return key;
}

std::size_t VerificationKey::signatureSize() const {
  switch (alg_) {
    case Algorithm::kRS256:
      return static_cast<std::size_t>(EVP_PKEY_get_size(key_));
    case Algorithm::kES256:
      return 2 * kEs256CoordinateBytes;
    case Algorithm::kEdDSA:
      return kEd25519SignatureBytes;
  }
  return 0;
}

bool VerificationKey::verify(std::string_view signingInput, std::string_view signature) const {
  // Lengths first (RFC 7518 section 3.4: an ES256 signature is exactly 64 bytes); nothing else is
  // converted or passed to OpenSSL.
  if (signature.size() != signatureSize()) return false;
  if (alg_ == Algorithm::kEdDSA) {
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(signingInput.data()),
                                       signingInput.size(), ed25519Key_) == 0;
  }

  std::string
      der;  // what EVP_DigestVerify takes: the JWS bytes, or for ES256 their DER re-encoding
  std::string_view toVerify = signature;
  if (alg_ == Algorithm::kES256) {
    const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
    Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(raw, kEs256CoordinateBytes, nullptr);
    BIGNUM* s = BN_bin2bn(raw + kEs256CoordinateBytes, kEs256CoordinateBytes, nullptr);
    if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
      BN_free(r);
      BN_free(s);
      ERR_clear_error();
      return false;
    }
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(sig.get(), &buf);
    if (len <= 0) {
      ERR_clear_error();
      return false;
    }
    Owned<unsigned char> owner(buf);
    der.assign(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
    toVerify = der;
  }

  // A copy of the prepared context: EVP_MD_CTX_copy_ex only reads verifyInit_, so I/O threads
  // share it.
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), verifyInit_) != 1) {
    ERR_clear_error();
    return false;
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(toVerify.data()), toVerify.size(),
      reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size());
  if (rc != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

nlohmann::json VerificationKey::toJwk(std::string_view kid) const {
  nlohmann::json jwk;
  switch (alg_) {
    case Algorithm::kRS256:
      // RFC 7518 section 6.3.1: n and e as unsigned big-endian without leading zero octets.
      jwk["kty"] = "RSA";
      jwk["n"] = base64UrlEncode(bnParam(key_, OSSL_PKEY_PARAM_RSA_N, 0));
      jwk["e"] = base64UrlEncode(bnParam(key_, OSSL_PKEY_PARAM_RSA_E, 0));
      break;
    case Algorithm::kES256:
      // RFC 7518 section 6.2.1.2: x and y are the full 32-octet coordinates.
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = base64UrlEncode(bnParam(key_, OSSL_PKEY_PARAM_EC_PUB_X, kEs256CoordinateBytes));
      jwk["y"] = base64UrlEncode(bnParam(key_, OSSL_PKEY_PARAM_EC_PUB_Y, kEs256CoordinateBytes));
      break;
    case Algorithm::kEdDSA: {
      // RFC 8037 section 2: OKP with the raw 32-byte public key.
      std::string raw(32, '\0');
      std::size_t len = raw.size();
      if (EVP_PKEY_get_raw_public_key(key_, reinterpret_cast<unsigned char*>(raw.data()), &len) !=
          1) {
        ERR_clear_error();
        len = 0;
      }
      raw.resize(len);
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = base64UrlEncode(raw);
      break;
    }
  }
  jwk["kid"] = std::string(kid);
  jwk["use"] = "sig";
  jwk["alg"] = std::string(algorithmName(alg_));
  if (!x5t_.empty()) jwk["x5t"] = x5t_;
  return jwk;
}

// ---- SigningKey ---------------------------------------------------------------------------------

SigningKey::~SigningKey() {
  EVP_PKEY_free(key_);
  X509_free(cert_);
}

std::unique_ptr<SigningKey> SigningKey::assemble(EVP_PKEY* keyIn, X509* certIn, Algorithm alg,
                                                 std::string* error) {
  Owned<EVP_PKEY> key(keyIn);
  Owned<X509> cert(certIn);
  std::string why = unfitReason(key.get(), alg);
  if (!why.empty()) return fail<std::unique_ptr<SigningKey>>(error, why);
  if (cert) {
    std::string expired = certificateExpiry(cert.get());
    if (!expired.empty()) return fail<std::unique_ptr<SigningKey>>(error, expired);
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      return fail<std::unique_ptr<SigningKey>>(
          error, "the certificate does not belong to the private key");
    }
  }
  Owned<EVP_PKEY> pub = publicOnly(key.get());
  if (!pub)
    return failWithDetail<std::unique_ptr<SigningKey>>(error, "cannot extract the public key");
  auto verifier =
      VerificationKey::make(pub.release(), alg, cert ? sha1Thumbprint(cert.get()) : "", error);
  if (!verifier) return nullptr;

  std::unique_ptr<SigningKey> result(new SigningKey());
  result->key_ = key.release();
  result->cert_ = cert.release();
  result->alg_ = alg;
  result->public_ = std::move(verifier);
  return result;
}

namespace {

// PEM: a private key (PKCS#8, traditional, or encrypted PKCS#8), optionally with a certificate
// before or after it. PEM readers skip blocks of other types, so each is read from its own BIO.
bool readPem(std::string_view pem, const std::string& password, Owned<EVP_PKEY>* key,
             Owned<X509>* cert, std::string* error) {
  {
    auto bio = memoryBio(pem);
    key->reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, passwordCallback,
                                       const_cast<std::string*>(&password)));
  }
  if (!*key) {
    const bool encrypted = pem.find("ENCRYPTED") != std::string_view::npos;
    if (encrypted && password.empty())
      return fail<bool>(error, "the private key is encrypted and no password was given");
    if (encrypted) return fail<bool>(error, "wrong password for the encrypted private key");
    return fail<bool>(error, "no PEM private key (BEGIN PRIVATE KEY) found");
  }
  auto bio = memoryBio(pem);
  cert->reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();  // no certificate is fine: a bare key signs, it just cannot serve TLS
  return true;
}

// caOut: the other certificates too, and no private key needed (a truststore).
bool readPkcs12(std::string_view der, const std::string& password, Owned<EVP_PKEY>* key,
                Owned<X509>* cert, std::string* error, Owned<STACK_OF(X509)>* caOut = nullptr) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Owned<PKCS12> p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  if (!p12) return fail<bool>(error, "not a PKCS#12 file");
  // A wrong password shows as a MAC failure; an empty one may mean "no password" (NULL) too.
  const char* pass = password.c_str();
  if (PKCS12_mac_present(p12.get())) {
    if (PKCS12_verify_mac(p12.get(), pass, static_cast<int>(password.size())) != 1) {
      if (!password.empty() || PKCS12_verify_mac(p12.get(), nullptr, 0) != 1) {
        return fail<bool>(error, "wrong password for the PKCS#12 keystore");
      }
      pass = nullptr;
    }
  }
  EVP_PKEY* rawKey = nullptr;
  X509* rawCert = nullptr;
  STACK_OF(X509)* rawCa = nullptr;
  if (PKCS12_parse(p12.get(), pass, &rawKey, &rawCert, &rawCa) != 1) {
    // The MAC verified, so the password is right: a cipher the default provider lacks (RC2-40 of
    // Java and OpenSSL 1.x files) is the likely cause. Retry once with the legacy provider.
    ERR_clear_error();
    std::string why;
    if (!ensureLegacyProvider(&why)) return fail<bool>(error, why);
    if (PKCS12_parse(p12.get(), pass, &rawKey, &rawCert, &rawCa) != 1) {
      return failWithDetail<bool>(error, "cannot decrypt the PKCS#12 keystore");
    }
  }
  key->reset(rawKey);
  cert->reset(rawCert);
  Owned<STACK_OF(X509)> ca(rawCa);
  if (caOut) {
    *caOut = std::move(ca);
    return true;
  }
  if (!*key) return fail<bool>(error, "the PKCS#12 keystore holds no private key");
  return true;
}

}  // namespace

std::shared_ptr<const VerificationKey> VerificationKey::fromPkcs12Alias(const std::string& path,
                                                                        const std::string& password,
                                                                        const std::string& alias,
                                                                        std::string* error) {
  using Result = std::shared_ptr<const VerificationKey>;
  std::string data;
  if (!readFile(path, &data, error)) return nullptr;
  Owned<EVP_PKEY> key;
  Owned<X509> cert;
  Owned<STACK_OF(X509)> ca;
  bool ok = readPkcs12(data, password, &key, &cert, error, &ca);
  secureWipe(data);
  if (!ok) {
    if (error) *error = path + ": " + *error;
    return nullptr;
  }
  // Java writes aliases in lower case into PKCS#12 (friendlyName); compare case-insensitively.
  auto named = [&alias](X509* c) {
    int len = 0;
    const unsigned char* name = c ? X509_alias_get0(c, &len) : nullptr;
    if (name == nullptr || static_cast<std::size_t>(len) != alias.size()) return false;
    for (std::size_t i = 0; i < alias.size(); ++i) {
      if (std::tolower(name[i]) != std::tolower(static_cast<unsigned char>(alias[i]))) return false;
    }
    return true;
  };
  X509* found = named(cert.get()) ? cert.get() : nullptr;
  for (int i = 0; found == nullptr && ca && i < sk_X509_num(ca.get()); ++i) {
    if (named(sk_X509_value(ca.get(), i))) found = sk_X509_value(ca.get(), i);
  }
  if (found == nullptr)
    return fail<Result>(error, path + ": no certificate with alias \"" + alias + "\"");
  std::string expired = certificateExpiry(found);
  if (!expired.empty()) return fail<Result>(error, path + ": alias " + alias + ": " + expired);
  Owned<EVP_PKEY> pub(X509_get_pubkey(found));
  std::optional<Algorithm> alg = pub ? algorithmForKey(pub.get()) : std::nullopt;
  if (!alg) return fail<Result>(error, path + ": alias " + alias + ": unsupported key type");
  return make(pub.release(), *alg, sha1Thumbprint(found), error);
}

bool readPkcs12Certificates(const std::string& path, const std::string& password,
                            std::vector<TrustedCertificate>* out, std::string* error) {
  std::string data;
  if (!readFile(path, &data, error)) return false;
  Owned<EVP_PKEY> key;
  Owned<X509> cert;
  Owned<STACK_OF(X509)> ca;
  const bool ok = readPkcs12(data, password, &key, &cert, error, &ca);
  secureWipe(data);
  if (!ok) {
    if (error) *error = path + ": " + *error;
    return false;
  }
  auto add = [out](X509* c) {
    if (c == nullptr) return;
    int len = 0;
    const unsigned char* name = X509_alias_get0(c, &len);
    Owned<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), c) != 1) return;
    char* pem = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &pem);
    out->push_back({name ? std::string(reinterpret_cast<const char*>(name), len) : std::string(),
                    std::string(pem, static_cast<std::size_t>(size))});
  };
  add(cert.get());
  for (int i = 0; ca && i < sk_X509_num(ca.get()); ++i) add(sk_X509_value(ca.get(), i));
  ERR_clear_error();
  return true;
}

std::unique_ptr<SigningKey> SigningKey::load(const std::string& path, const std::string& password,
                                             Algorithm alg, std::string* error) {
  return loadFile(path, password, alg, error);
}

std::unique_ptr<SigningKey> SigningKey::loadAnyAlgorithm(const std::string& path,
                                                         const std::string& password,
                                                         std::string* error) {
  return loadFile(path, password, std::nullopt, error);
}

std::unique_ptr<SigningKey> SigningKey::loadFile(const std::string& path,
                                                 const std::string& password,
                                                 std::optional<Algorithm> alg, std::string* error) {
  std::string data;
  if (!readFile(path, &data, error)) return nullptr;
  Owned<EVP_PKEY> key;
  Owned<X509> cert;
  const bool pkcs12 = endsWith(path, ".p12") || endsWith(path, ".pfx");
  bool ok = pkcs12 ? readPkcs12(data, password, &key, &cert, error)
                   : readPem(data, password, &key, &cert, error);
  secureWipe(data);  // the file may hold an unencrypted private key
  std::unique_ptr<SigningKey> result;
  if (ok && !alg) {
    alg = algorithmForKey(key.get());
    if (!alg)
      ok = fail<bool>(error, "unsupported key type " + keyTypeName(key.get()) +
                                 "; use RSA, EC P-256 or Ed25519");
  }
  if (ok) result = assemble(key.release(), cert.release(), *alg, error);
  if (!result && error) *error = path + ": " + *error;
  return result;
}

std::unique_ptr<SigningKey> SigningKey::fromPem(std::string_view pem, Algorithm alg,
                                                std::string* error) {
  Owned<EVP_PKEY> key;
  Owned<X509> cert;
  if (!readPem(pem, std::string(), &key, &cert, error)) return nullptr;
  return assemble(key.release(), cert.release(), alg, error);
}

std::optional<std::string> SigningKey::sign(std::string_view signingInput) const {
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(signingInput.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digestFor(alg_), nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, signingInput.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signingInput.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  sig.resize(len);
  if (alg_ != Algorithm::kES256) return sig;

  // OpenSSL produces DER (RFC 3279); JWS wants R||S, each left-padded to 32 bytes (RFC 7518
  // section 3.4).
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  Owned<ECDSA_SIG> ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!ecdsa) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string r = bnBytes(ECDSA_SIG_get0_r(ecdsa.get()), kEs256CoordinateBytes);
  std::string s = bnBytes(ECDSA_SIG_get0_s(ecdsa.get()), kEs256CoordinateBytes);
  if (r.empty() || s.empty()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return r + s;
}

}  // namespace mgw::token
