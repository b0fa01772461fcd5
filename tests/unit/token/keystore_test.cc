// generateKeystore (src/token/keystore.cc) and loading what it writes, PEM and PKCS#12.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "token/jws.h"
#include "token/keys.h"
#include "token/openssl_util.h"
#include "token_test_util.h"

namespace mgw::token {
namespace {

using namespace testing;

class Keystore : public ::testing::TestWithParam<Algorithm> {
 protected:
  TempDir dir_;
  std::string name(const char* ext) const {
    return dir_.file(std::string(algorithmName(GetParam())) + ext);
  }

  void expectSignsAndVerifies(const SigningKey& key) {
    ASSERT_EQ(key.algorithm(), GetParam());
    std::string token = signWith(key, goodClaims());
    VerifyResult result = verifyToken(token, keySetFor(key), kNow, kSkewMs);
    EXPECT_EQ(result.failure, Failure::kNone) << result.reason;
  }
};

TEST_P(Keystore, PemRoundTripWithMode0600) {
  std::string error;
  ASSERT_TRUE(generateKeystore(name(".pem"), GetParam(), "", &error)) << error;
  struct stat st {};
  ASSERT_EQ(::stat(name(".pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = SigningKey::load(name(".pem"), "", GetParam(), &error);
  ASSERT_TRUE(key) << error;
  expectSignsAndVerifies(*key);
  // The certificate: self-signed, SAN localhost and 127.0.0.1, about two years.
  X509* cert = key->certificate();
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)),
            1);
  EXPECT_NEAR(days, 730, 1);
  EXPECT_FALSE(key->publicKey()->certificateSha1Thumbprint().empty());
  // Also trusted from the certificate alone, as a [apikey.tokenConfigs] certificateFile.
  detail::Owned<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto verifier =
      VerificationKey::fromPem(std::string(data, static_cast<std::size_t>(len)), &error);
  ASSERT_TRUE(verifier) << error;
  EXPECT_EQ(verifier->algorithm(), GetParam());
}

TEST_P(Keystore, EncryptedPemNeedsTheRightPassword) {
  std::string error;
  ASSERT_TRUE(generateKeystore(name(".pem"), GetParam(), "s3cret", &error)) << error;
  EXPECT_NE(readText(name(".pem")).find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  auto key = SigningKey::load(name(".pem"), "s3cret", GetParam(), &error);
  ASSERT_TRUE(key) << error;
  expectSignsAndVerifies(*key);
  EXPECT_FALSE(SigningKey::load(name(".pem"), "wrong", GetParam(), &error));
  EXPECT_EQ(error, name(".pem") + ": wrong password for the encrypted private key");
  EXPECT_FALSE(SigningKey::load(name(".pem"), "", GetParam(), &error));
  EXPECT_EQ(error, name(".pem") + ": the private key is encrypted and no password was given");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_P(Keystore, Pkcs12RoundTripAndWrongPassword) {
  std::string error;
  ASSERT_TRUE(generateKeystore(name(".p12"), GetParam(), "changeit", &error)) << error;
  auto key = SigningKey::load(name(".p12"), "changeit", GetParam(), &error);
  ASSERT_TRUE(key) << error;
  EXPECT_TRUE(key->certificate());
  expectSignsAndVerifies(*key);
  EXPECT_FALSE(SigningKey::load(name(".p12"), "wrong", GetParam(), &error));
  EXPECT_EQ(error, name(".p12") + ": wrong password for the PKCS#12 keystore");
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_P(Keystore, RefusesToOverwrite) {
  std::string error;
  ASSERT_TRUE(generateKeystore(name(".pem"), GetParam(), "", &error)) << error;
  const std::string before = readText(name(".pem"));
  EXPECT_FALSE(generateKeystore(name(".pem"), GetParam(), "", &error));
  EXPECT_EQ(error, name(".pem") + " already exists; remove it first to create a new keystore");
  EXPECT_EQ(readText(name(".pem")), before);
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, Keystore, ::testing::ValuesIn(kAllAlgorithms),
                         [](const auto& info) { return std::string(algorithmName(info.param)); });

TEST(KeystoreErrors, Pkcs12NeedsAPassword) {
  TempDir dir;
  std::string error;
  EXPECT_FALSE(generateKeystore(dir.file("k.p12"), Algorithm::kES256, "", &error));
  EXPECT_EQ(error, dir.file("k.p12") + ": a PKCS#12 keystore needs a password");
}

TEST(KeystoreErrors, WrongAlgorithmForTheStoredKey) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(generateKeystore(dir.file("ec.p12"), Algorithm::kES256, "pw", &error)) << error;
  EXPECT_FALSE(SigningKey::load(dir.file("ec.p12"), "pw", Algorithm::kRS256, &error));
  EXPECT_EQ(error, dir.file("ec.p12") + ": RS256 needs an RSA key, not EC");
}

TEST(KeystoreErrors, CreatesTheOutputFolder) {
  TempDir dir;
  std::string error;
  EXPECT_TRUE(generateKeystore(dir.file("a/b/key.pem"), Algorithm::kEdDSA, "", &error)) << error;
}

}  // namespace
}  // namespace mgw::token
