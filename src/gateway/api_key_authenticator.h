// The API key scheme (SPEC section 7): a signed or opaque key from the resource's declared
// locations (header, query parameter), verified by the KeyValidator. Trusts the validator's key
// set; the key is client input and never leaves this path (logs name its jti or fingerprint).
#pragma once

#include "gateway/authenticator.h"
#include "gateway/key_validator.h"

namespace mgw::gateway {

class ApiKeyAuthenticator final : public Authenticator {
 public:
  explicit ApiKeyAuthenticator(const KeyValidator& validator) : validator_(validator) {}
  Scheme scheme() const override { return Scheme::kApiKey; }
  // The first non-empty value at the resource's key locations (keySourcesFor).
  std::optional<Credential> extract(const message::HttpRequest& request, const ApiDefinition& api,
                                    const Resource& resource) const override;
  // KeyValidator::validate; counts mgw_key_validations_total by result.
  [[nodiscard]] AuthVerdict verify(const Credential& credential,
                                   const AuthInput& input) const override;

 private:
  const KeyValidator& validator_;
};

// The validator's request facts (client address, X-Forwarded-For, Referer) for a credential.
RequestContext validationContext(const AuthInput& input);

// The validator's answer as a verdict: its failure as a refusal (keyId kept for the access log),
// or the caller.
// Taken by rvalue: the principal is moved once, into the verdict (it is 13 strings).
AuthVerdict verdictOf(ValidationResult&& result);

}  // namespace mgw::gateway
