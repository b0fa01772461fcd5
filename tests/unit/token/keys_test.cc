#include "token/keys.h"

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <atomic>
#include <thread>
#include <vector>

#include "token/openssl_util.h"
#include "token_test_util.h"

namespace mgw::token {
namespace {

using namespace testing;
using detail::Owned;

std::string pemOf(EVP_PKEY* key, X509* cert, bool privateKey) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (privateKey)
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  else if (key)
    PEM_write_bio_PUBKEY(bio.get(), key);
  if (cert) PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// A self-signed certificate valid from notBefore to notAfter seconds relative to now.
Owned<X509> certificateFor(EVP_PKEY* key, long notBefore, long notAfter) {
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), notBefore);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), notAfter);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

TEST(VerificationKey, AlgorithmFollowsTheKeyType) {
  std::string error;
  auto rsa = VerificationKey::fromPemFile(testdata("rfc7515_a2_rsa_public.pem"), &error);
  auto ec = VerificationKey::fromPemFile(testdata("rfc7515_a3_ec_public.pem"), &error);
  auto ed = VerificationKey::fromPemFile(testdata("rfc8037_a_ed25519_public.pem"), &error);
  ASSERT_TRUE(rsa && ec && ed) << error;
  EXPECT_EQ(rsa->algorithm(), Algorithm::kRS256);
  EXPECT_EQ(ec->algorithm(), Algorithm::kES256);
  EXPECT_EQ(ed->algorithm(), Algorithm::kEdDSA);
  EXPECT_EQ(rsa->signatureSize(), 256u);
  EXPECT_EQ(ec->signatureSize(), 64u);
  EXPECT_EQ(rsa->certificateSha1Thumbprint(), "");  // a bare public key has no certificate
}

TEST(VerificationKey, ClearErrors) {
  std::string error;
  EXPECT_FALSE(VerificationKey::fromPemFile("/nonexistent/cert.pem", &error));
  EXPECT_EQ(error, "cannot read /nonexistent/cert.pem: No such file or directory");
  EXPECT_FALSE(VerificationKey::fromPem("hello", &error));
  EXPECT_EQ(error, "no PEM certificate or public key (BEGIN CERTIFICATE / BEGIN PUBLIC KEY) found");
  EXPECT_FALSE(VerificationKey::fromPem(readText(testdata("rfc7515_a3_ec_private.pem")), &error));
  EXPECT_NE(error.find("found a private key"), std::string::npos) << error;
  EXPECT_EQ(ERR_peek_error(), 0u) << "failure paths must clear the OpenSSL error queue";
}

TEST(VerificationKey, CertificateGivesX5tAndExpiredIsRefused) {
  Owned<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Owned<X509> good = certificateFor(key.get(), -60, 3600);
  std::string error;
  auto verifier = VerificationKey::fromPem(pemOf(nullptr, good.get(), false), &error);
  ASSERT_TRUE(verifier) << error;
  unsigned char md[20];
  unsigned int len = 0;
  X509_digest(good.get(), EVP_sha1(), md, &len);
  EXPECT_EQ(verifier->certificateSha1Thumbprint(),
            base64UrlEncode(std::string(reinterpret_cast<char*>(md), len)));
  EXPECT_EQ(verifier->toJwk("k")["x5t"], verifier->certificateSha1Thumbprint());

  Owned<X509> expired = certificateFor(key.get(), -7200, -3600);
  EXPECT_FALSE(VerificationKey::fromPem(pemOf(nullptr, expired.get(), false), &error));
  EXPECT_EQ(error.rfind("certificate expired on ", 0), 0u) << error;
  EXPECT_FALSE(
      SigningKey::fromPem(pemOf(key.get(), expired.get(), true), Algorithm::kES256, &error));
  EXPECT_EQ(error.rfind("certificate expired on ", 0), 0u) << error;
}

TEST(VerificationKey, Rsa1024IsRefusedAtLoad) {
  Owned<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(weak);
  std::string error;
  EXPECT_FALSE(VerificationKey::fromPem(pemOf(weak.get(), nullptr, false), &error));
  EXPECT_EQ(
      error,
      "RS256 needs an RSA key of at least 2048 bits (RFC 7518 section 3.3); this one has 1024");
  TempDir dir;
  writeText(dir.file("weak.pem"), pemOf(weak.get(), nullptr, true));
  EXPECT_FALSE(SigningKey::load(dir.file("weak.pem"), "", Algorithm::kRS256, &error));
  EXPECT_EQ(error, dir.file("weak.pem") +
                       ": RS256 needs an RSA key of at least 2048 bits (RFC 7518 section 3.3); "
                       "this one has 1024");
}

TEST(VerificationKey, OtherCurvesAndTypesAreRefused) {
  Owned<EVP_PKEY> p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  std::string error;
  EXPECT_FALSE(VerificationKey::fromPem(pemOf(p384.get(), nullptr, false), &error));
  EXPECT_EQ(error, "ES256 needs the P-256 curve (RFC 7518 section 3.4), not secp384r1");
  Owned<EVP_PKEY> x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  EXPECT_FALSE(VerificationKey::fromPem(pemOf(x25519.get(), nullptr, false), &error));
  EXPECT_NE(error.find("unsupported key type X25519"), std::string::npos) << error;
}

TEST(VerificationKey, FromPublicKeyChecksTheAlgorithm) {
  std::string error;
  Owned<EVP_PKEY> ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_FALSE(VerificationKey::fromPublicKey(ed.release(), Algorithm::kRS256, &error));
  EXPECT_EQ(error, "RS256 needs an RSA key, not ED25519");
  EXPECT_FALSE(VerificationKey::fromPublicKey(nullptr, Algorithm::kRS256, &error));
}

TEST(VerificationKey, Es256RejectsDerAndWrongLengths) {
  const SigningKey& key = generatedKey(Algorithm::kES256);
  auto signature = key.sign("input");
  ASSERT_TRUE(signature);
  ASSERT_EQ(signature->size(), 64u);
  EXPECT_TRUE(key.publicKey()->verify("input", *signature));
  EXPECT_FALSE(key.publicKey()->verify("input", signature->substr(0, 63)));
  EXPECT_FALSE(key.publicKey()->verify("input", *signature + '\0'));
  EXPECT_FALSE(key.publicKey()->verify("input", std::string(64, '\0')));  // r = s = 0
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// One key verifies many signatures, on many threads at once (RS256 and ES256 copy one prepared
// context per verification): a refusal never changes the next answer, and nothing is shared that
// one verification could spoil for another.
TEST(VerificationKey, RepeatedAndConcurrentVerificationsKeepTheirAnswers) {
  for (Algorithm alg : kAllAlgorithms) {
    const SigningKey& key = generatedKey(alg);
    auto verifier = key.publicKey();
    auto good = key.sign("header.payload");
    ASSERT_TRUE(good);
    std::string flipped = *good;
    flipped[flipped.size() / 2] ^= 0x01;
    std::atomic<int> wrong{0};
    auto work = [&] {
      for (int i = 0; i < 50; ++i) {
        if (!verifier->verify("header.payload", *good)) ++wrong;
        if (verifier->verify("header.payload", flipped)) ++wrong;
        if (verifier->verify("header.payloaD", *good)) ++wrong;
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(work);
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0) << algorithmName(alg);
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SigningKey, WrongKeyTypeForTheAlgorithm) {
  std::string error;
  EXPECT_FALSE(SigningKey::fromPem(readText(testdata("rfc7515_a3_ec_private.pem")),
                                   Algorithm::kRS256, &error));
  EXPECT_EQ(error, "RS256 needs an RSA key, not EC");
  EXPECT_FALSE(SigningKey::fromPem(readText(testdata("rfc7515_a2_rsa_private.pem")),
                                   Algorithm::kEdDSA, &error));
  EXPECT_EQ(error, "EdDSA needs an Ed25519 key (RFC 8037 section 3.1), not RSA");
}

TEST(SigningKey, MissingFileAndNoKey) {
  std::string error;
  EXPECT_FALSE(SigningKey::load("/nonexistent/key.p12", "pw", Algorithm::kRS256, &error));
  EXPECT_EQ(error, "cannot read /nonexistent/key.p12: No such file or directory");
  EXPECT_FALSE(SigningKey::fromPem(readText(testdata("rfc7515_a2_rsa_public.pem")),
                                   Algorithm::kRS256, &error));
  EXPECT_EQ(error, "no PEM private key (BEGIN PRIVATE KEY) found");
}

TEST(SigningKey, CertificateMustMatchTheKey) {
  Owned<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Owned<EVP_PKEY> other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Owned<X509> cert = certificateFor(other.get(), -60, 3600);
  std::string error;
  EXPECT_FALSE(SigningKey::fromPem(pemOf(key.get(), cert.get(), true), Algorithm::kES256, &error));
  EXPECT_EQ(error.rfind("the certificate does not belong to the private key", 0), 0u) << error;
}

TEST(SigningKey, PublicKeyCarriesNoPrivateMaterial) {
  const SigningKey& key = generatedKey(Algorithm::kEdDSA);
  ASSERT_TRUE(key.publicKey());
  EXPECT_TRUE(key.pkey());
  EXPECT_TRUE(key.certificate());
  EXPECT_FALSE(key.publicKey()->toJwk("k").contains("d"));
}

TEST(Jwk, ShapesFollowRfc7517And7518And8037) {
  std::string error;
  auto rsa = VerificationKey::fromPemFile(testdata("rfc7515_a2_rsa_public.pem"), &error);
  auto ec = VerificationKey::fromPemFile(testdata("rfc7515_a3_ec_public.pem"), &error);
  ASSERT_TRUE(rsa && ec) << error;
  // The RFC 7515 appendix A.2 / A.3 JWK values.
  EXPECT_EQ(rsa->toJwk("r"),
            (nlohmann::json{
                {"kty", "RSA"},
                {"kid", "r"},
                {"use", "sig"},
                {"alg", "RS256"},
                {"e", "AQAB"},
                {"n",
                 "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
                 "4qPCJrcS2mJPMEzP1Pt0"
                 "Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-"
                 "bSf63kpaSHSXnd"
                 "S5z5rexMdbBYUsLA9e-KXBdQOS-"
                 "UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5Ih"
                 "lJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}}));
  EXPECT_EQ(ec->toJwk("e"), (nlohmann::json{{"kty", "EC"},
                                            {"crv", "P-256"},
                                            {"kid", "e"},
                                            {"use", "sig"},
                                            {"alg", "ES256"},
                                            {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                            {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}));
}

}  // namespace
}  // namespace mgw::token
