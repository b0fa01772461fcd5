#include "gateway/mutual_tls_authenticator.h"

namespace mgw::gateway {

std::optional<Credential> MutualTlsAuthenticator::extract(const message::HttpRequest& request,
                                                          const ApiDefinition& api,
                                                          const Resource&) const {
  if (api.mutualTls == MutualTls::kOff || request.clientCertSha256.empty()) return std::nullopt;
  return Credential{Scheme::kMutualTls, request.clientCertSha256,
                    KeySource{KeyLocation::kHeader, "TLS client certificate"}};
}

AuthVerdict MutualTlsAuthenticator::verify(const Credential& credential,
                                           const AuthInput& input) const {
  const message::HttpRequest& request = input.request;
  if (!request.tls || request.clientCertSha256 != credential.value) {
    return AuthVerdict::refused(Refusal{Failure::kAuthInvalid,
                                        "a client certificate is taken from the TLS handshake only",
                                        "no verified client certificate"});
  }
  Principal caller;
  caller.keyId = "x509:" + request.clientCertSha256;
  caller.subject = request.clientCertSubject;
  caller.keytype = "PRODUCTION";
  caller.tier = "Unlimited";
  caller.subscriptionTier = caller.tier;
  caller.subscriber = subscriberOf("", "x509:" + request.clientCertSha256);
  caller.clientCertSubject = request.clientCertSubject;
  caller.clientCertSha256 = request.clientCertSha256;
  return AuthVerdict::accepted(std::move(caller));
}

}  // namespace mgw::gateway
