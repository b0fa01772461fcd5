#include "gateway/mutual_tls_authenticator.h"

#include <gtest/gtest.h>

namespace mgw::gateway {
namespace {

constexpr const char* kSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

message::HttpRequest tlsRequest(bool withCertificate) {
  message::HttpRequest r;
  r.method = "GET";
  r.path = "/shelves/v1/rows";
  r.tls = true;
  if (withCertificate) {
    r.clientCertSubject = "CN=reader,O=Library";
    r.clientCertSha256 = kSha256;
  }
  return r;
}

// The certificate is a credential only on an API with x-wso2-mutual-ssl, and only as the TLS
// listener verified it.
TEST(MutualTlsAuthenticatorTest, ExtractsTheVerifiedCertificateOnMutualTlsApisOnly) {
  MutualTlsAuthenticator a;
  ApiDefinition api;
  Resource resource;
  EXPECT_FALSE(a.extract(tlsRequest(true), api, resource));  // x-wso2-mutual-ssl absent
  api.mutualTls = MutualTls::kOptional;
  EXPECT_FALSE(a.extract(tlsRequest(false), api, resource));
  auto credential = a.extract(tlsRequest(true), api, resource);
  ASSERT_TRUE(credential);
  EXPECT_EQ(credential->scheme, Scheme::kMutualTls);
  EXPECT_EQ(credential->value, kSha256);
}

TEST(MutualTlsAuthenticatorTest, TheSubjectIsTheCaller) {
  MutualTlsAuthenticator a;
  ApiDefinition api;
  api.mutualTls = MutualTls::kMandatory;
  Resource resource;
  const auto request = tlsRequest(true);
  const auto verdict = a.verify(Credential{Scheme::kMutualTls, kSha256, {}},
                                AuthInput{request, api, resource, "192.0.2.1", "", 0});
  ASSERT_EQ(verdict.kind, AuthVerdict::Kind::kAccepted);
  EXPECT_EQ(verdict.principal.subject, "CN=reader,O=Library");
  EXPECT_EQ(verdict.principal.keyId, std::string("x509:") + kSha256);
  EXPECT_EQ(verdict.principal.clientCertSha256, kSha256);
  EXPECT_EQ(verdict.principal.keytype, "PRODUCTION");
  // A credential that is not the connection's certificate is never accepted.
  const auto other = a.verify(Credential{Scheme::kMutualTls, "00", {}},
                              AuthInput{request, api, resource, "192.0.2.1", "", 0});
  EXPECT_EQ(other.kind, AuthVerdict::Kind::kRefused);
  auto plain = tlsRequest(true);
  plain.tls = false;
  EXPECT_EQ(a.verify(Credential{Scheme::kMutualTls, kSha256, {}},
                     AuthInput{plain, api, resource, "192.0.2.1", "", 0})
                .kind,
            AuthVerdict::Kind::kRefused);
}

}  // namespace
}  // namespace mgw::gateway
