// Mutual TLS on API resources (WSO2 MGW 3.x: [mutualSSLConfig] and x-wso2-mutual-ssl): the client
// certificate the HTTPS listener verified against the truststore (and its CRLs) during the
// handshake. Nothing is left to judge here but whether the API takes it: the request only carries a
// certificate the transport verified. The certificate's subject is the caller.
// Trusts the transport's verification; everything else in the request is client input.
#pragma once

#include "gateway/authenticator.h"

namespace mgw::gateway {

// The challenge of a 401 for a missing client certificate (WSO2 MGW 3.x's scheme name).
inline constexpr std::string_view kMutualTlsChallenge = "Mutual SSL realm=\"micro-gw\"";

class MutualTlsAuthenticator final : public Authenticator {
 public:
  Scheme scheme() const override { return Scheme::kMutualTls; }
  // The verified certificate's SHA-256 when the API takes mutual TLS (x-wso2-mutual-ssl) and the
  // listener verified one.
  std::optional<Credential> extract(const message::HttpRequest& request, const ApiDefinition& api,
                                    const Resource& resource) const override;
  // Accepted: keyId "x509:<sha256>", subject the certificate's subject (RFC 2253), keytype
  // PRODUCTION, tier Unlimited, the certificate counted as its own subscriber.
  [[nodiscard]] AuthVerdict verify(const Credential& credential,
                                   const AuthInput& input) const override;
};

}  // namespace mgw::gateway
