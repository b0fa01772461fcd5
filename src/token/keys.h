// Signing and verification keys. A key owns its OpenSSL object and pins its algorithm; it is the
// only place that calls EVP sign/verify. Loaded from PKCS#12 (.p12/.pfx) or PEM keystores.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "token/algorithm.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct x509_st X509;

namespace mgw::token {

class VerificationKey {
 public:
  // Takes ownership (EVP_PKEY_up_ref is the caller's business), also on failure. nullptr if the key
  // type cannot carry the algorithm (RSA < 2048 bits, EC not P-256, ...); error says why.
  static std::shared_ptr<const VerificationKey> fromPublicKey(EVP_PKEY* key, Algorithm alg,
                                                              std::string* error);
  // PEM certificate or PEM public key file; the algorithm follows the key type (RSA -> RS256,
  // P-256 -> ES256, Ed25519 -> EdDSA).
  static std::shared_ptr<const VerificationKey> fromPemFile(const std::string& path,
                                                            std::string* error);
  static std::shared_ptr<const VerificationKey> fromPem(std::string_view pem, std::string* error);
  // The certificate stored under alias (its friendlyName, compared case-insensitively as Java
  // writes it) in a PKCS#12 truststore or keystore, legacy encryption included.
  static std::shared_ptr<const VerificationKey> fromPkcs12Alias(const std::string& path,
                                                                const std::string& password,
                                                                const std::string& alias,
                                                                std::string* error);
  ~VerificationKey();
  VerificationKey(const VerificationKey&) = delete;  // owns key_
  VerificationKey& operator=(const VerificationKey&) = delete;

  Algorithm algorithm() const { return alg_; }
  // Length a JWS signature must have for this key: RSA modulus bytes, 64 for ES256 and EdDSA.
  std::size_t signatureSize() const;
  // signature in JWS form (ES256: raw R||S, 64 bytes, RFC 7518 section 3.4).
  [[nodiscard]] bool verify(std::string_view signingInput, std::string_view signature) const;
  // RFC 7517 JWK of the public key with "kid", "alg" and "use": "sig".
  nlohmann::json toJwk(std::string_view kid) const;
  // Base64url SHA-1 / SHA-256 thumbprints of the certificate DER when one was loaded (x5t), else
  // empty.
  std::string certificateSha1Thumbprint() const { return x5t_; }

 private:
  VerificationKey(EVP_PKEY* key, Algorithm alg) : key_(key), alg_(alg) {}
  // What verify() starts from, prepared once (make()): RS256 and ES256 copy an EVP_MD_CTX already
  // through EVP_DigestVerifyInit (the init's algorithm fetches cost about 6 us per call, a tenth of
  // an RSA-3072 verification); EdDSA verifies with libsodium on the raw key, about twice as fast as
  // OpenSSL 3.0's Ed25519 (and stricter: small-order points and non-canonical encodings fail).
  EVP_MD_CTX* verifyInit_ = nullptr;
  unsigned char ed25519Key_[32] = {};
  // Checks the key fits alg; takes ownership of key in every case.
  static std::shared_ptr<const VerificationKey> make(EVP_PKEY* key, Algorithm alg, std::string x5t,
                                                     std::string* error);
  EVP_PKEY* key_;
  Algorithm alg_;
  std::string x5t_;
  friend class SigningKey;
};

class SigningKey {
 public:
  // PKCS#12 if the path ends in .p12/.pfx, else PEM (private key, optionally followed by the
  // certificate). The algorithm must fit the key: RS256 needs RSA >= 2048, ES256 P-256, EdDSA
  // Ed25519.
  static std::unique_ptr<SigningKey> load(const std::string& path, const std::string& password,
                                          Algorithm alg, std::string* error);
  static std::unique_ptr<SigningKey> fromPem(std::string_view pem, Algorithm alg,
                                             std::string* error);
  // The same keystore formats, the algorithm following the key type (RSA -> RS256, P-256 -> ES256,
  // Ed25519 -> EdDSA): for the TLS server's key, which signs handshakes rather than API keys.
  static std::unique_ptr<SigningKey> loadAnyAlgorithm(const std::string& path,
                                                      const std::string& password,
                                                      std::string* error);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;  // owns key_ and cert_
  SigningKey& operator=(const SigningKey&) = delete;

  Algorithm algorithm() const { return alg_; }
  // JWS signature bytes over signingInput; nullopt (and logged by the caller) on failure.
  std::optional<std::string> sign(std::string_view signingInput) const;
  std::shared_ptr<const VerificationKey> publicKey() const { return public_; }
  EVP_PKEY* pkey() const { return key_; }      // for the TLS server
  X509* certificate() const { return cert_; }  // may be null for a bare PEM key

 private:
  SigningKey() = default;
  // Checks the key fits alg and the certificate (may be null) is current and matches; takes
  // ownership.
  static std::unique_ptr<SigningKey> assemble(EVP_PKEY* key, X509* cert, Algorithm alg,
                                              std::string* error);
  static std::unique_ptr<SigningKey> loadFile(const std::string& path, const std::string& password,
                                              std::optional<Algorithm> alg, std::string* error);
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  Algorithm alg_ = Algorithm::kRS256;
  std::shared_ptr<const VerificationKey> public_;
};

// Creates a private key and a self-signed certificate (CN=localhost, SAN localhost and 127.0.0.1,
// valid 2 years) for development. Writes PEM (key then certificate; the key encrypted when password
// is not empty) to pemPath, mode 0600, or PKCS#12 when pemPath ends in .p12/.pfx (password required
// then). Never overwrites an existing file. Returns false with error set.
[[nodiscard]] bool generateKeystore(const std::string& pemPath, Algorithm alg,
                                    const std::string& password, std::string* error);

// One certificate of a truststore: its alias (the PKCS#12 friendlyName, "" when none) and PEM.
struct TrustedCertificate {
  std::string alias;
  std::string pem;
};

// Every certificate of a PKCS#12 truststore (WSO2 API Microgateway 3.x's ballerinaTruststore.p12;
// Java's and OpenSSL 1.x's legacy encryption included), for TLS verification. False with *error
// set (the path named) when the file cannot be read or decrypted.
[[nodiscard]] bool readPkcs12Certificates(const std::string& path, const std::string& password,
                                          std::vector<TrustedCertificate>* out, std::string* error);

}  // namespace mgw::token
