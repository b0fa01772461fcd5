#include "gateway/api_key_authenticator.h"

#include "gateway/key_extractor.h"
#include "observability/metrics.h"

namespace mgw::gateway {

RequestContext validationContext(const AuthInput& input) {
  RequestContext ctx;
  ctx.clientAddress = input.request.clientAddress;
  ctx.forwardedFor = std::string(input.forwardedFor);
  ctx.hasReferer = input.request.hasHeader("Referer");
  ctx.referer = input.request.header("Referer");
  return ctx;
}

AuthVerdict verdictOf(ValidationResult&& result) {
  if (result.failure != Failure::kNone) {
    return AuthVerdict::refused(
        Refusal{result.failure, result.takeDescription(), std::move(result.reason)},
        std::move(result.keyId));
  }
  return AuthVerdict::accepted(static_cast<Principal&&>(result));
}

std::optional<Credential> ApiKeyAuthenticator::extract(const message::HttpRequest& request,
                                                       const ApiDefinition& api,
                                                       const Resource& resource) const {
  auto key = extractKey(keySourcesFor(api, resource), request);
  if (!key) return std::nullopt;
  return Credential{Scheme::kApiKey, std::move(key->value), std::move(key->source)};
}

AuthVerdict ApiKeyAuthenticator::verify(const Credential& credential,
                                        const AuthInput& input) const {
  auto result = validator_.validate(credential.value, input.api, validationContext(input),
                                    input.nowMs / 1000);
  observability::metrics().countKeyValidation(result.failure);
  return verdictOf(std::move(result));
}

}  // namespace mgw::gateway
