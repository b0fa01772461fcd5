// The OAuth2 bearer scheme (WSO2 MGW 3.x [[jwtTokenConfig]]): "Authorization: Bearer <JWT>" on a
// resource that takes oauth2, verified by the same KeyValidator as API keys, with the resource's
// scopes (one of them needed). Trusts the validator's key set; the token is client input.
#pragma once

#include "gateway/authenticator.h"
#include "gateway/key_validator.h"

namespace mgw::gateway {

class BearerAuthenticator final : public Authenticator {
 public:
  explicit BearerAuthenticator(const KeyValidator& validator) : validator_(validator) {}
  Scheme scheme() const override { return Scheme::kBearer; }
  // The bearer token (RFC 6750 section 2.1) when the resource takes oauth2.
  std::optional<Credential> extract(const message::HttpRequest& request, const ApiDefinition& api,
                                    const Resource& resource) const override;
  // KeyValidator::validate as a bearer token with the resource's scopes; counts
  // mgw_key_validations_total by result.
  [[nodiscard]] AuthVerdict verify(const Credential& credential,
                                   const AuthInput& input) const override;

 private:
  const KeyValidator& validator_;
};

}  // namespace mgw::gateway
