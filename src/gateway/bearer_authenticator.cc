#include "gateway/bearer_authenticator.h"

#include "gateway/api_key_authenticator.h"
#include "gateway/key_extractor.h"
#include "observability/metrics.h"

namespace mgw::gateway {

std::optional<Credential> BearerAuthenticator::extract(const message::HttpRequest& request,
                                                       const ApiDefinition& api,
                                                       const Resource& resource) const {
  if (!resource.security.oauth2) return std::nullopt;
  auto token = extractBearer(request, api.authHeader);
  if (!token) return std::nullopt;
  // The resource also takes an API key as a bearer credential (issue 26 item 4): the value is an
  // OAuth2 token only when a [[jwtTokenConfig]] issuer's key would verify it; otherwise the API
  // key authenticator takes it.
  for (const KeySource& source : keySourcesFor(api, resource))
    if (source.in == KeyLocation::kBearer && !validator_.isOAuth2Token(token->value))
      return std::nullopt;
  return Credential{Scheme::kBearer, std::move(token->value), std::move(token->source)};
}

AuthVerdict BearerAuthenticator::verify(const Credential& credential,
                                        const AuthInput& input) const {
  RequestContext ctx = validationContext(input);
  ctx.bearer = true;
  ctx.requiredScopes = input.resource.security.scopes;
  auto result = validator_.validate(credential.value, input.api, ctx, input.nowMs / 1000);
  observability::metrics().countKeyValidation(result.failure);
  return verdictOf(std::move(result));
}

}  // namespace mgw::gateway
