// The key sets built at load: the keys API keys and [[jwtTokenConfig]] bearer tokens are verified
// with (trusted), and the keys the local STS publishes as its JWKS. Trusts the configuration and
// the files it names; load-time only, the request path receives the finished sets.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "token/jws.h"
#include "token/keys.h"

namespace mgw::apis {

// The keys API keys are verified with. Without [apikey.tokenConfigs]: the local issuer alone
// (kid = tokenIssuer.certificateAlias). With it: each trusted issuer's certificateFile, or else the
// local key when the issuer is the local one, or else <truststore>/<certificateAlias>.pem or .crt
// (or the alias's entry of a PKCS#12 truststore). Then each [[jwtTokenConfig]] issuer's
// certificate (kid = certificateAlias, else the issuer), as a bearer-token issuer.
// Every problem is appended to *errors (may be null); the returned set holds the keys that loaded.
std::shared_ptr<token::KeySet> buildTrustedKeySet(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::vector<std::string>* errors);

// The JWKS the local STS publishes: its own key (kid = tokenIssuer.certificateAlias) when it has
// one, and the [jwtGenerator] key under its own kid, which no trusted key set holds, so a backend
// JWT is never accepted as an API key (SPEC section 15). Either key may be null.
std::shared_ptr<token::KeySet> buildPublishedKeySet(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::shared_ptr<const token::VerificationKey> jwtGeneratorKey);

}  // namespace mgw::apis
