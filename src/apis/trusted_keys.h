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
#include "token/signing_key_set.h"

namespace mgw::apis {

// The keys API keys are verified with. Without [apikey.tokenConfigs]: the local issuer alone
// (kid = tokenIssuer.certificateAlias). With it: each trusted issuer's certificateFile, or else the
// local key when the issuer is the local one, or else <truststore>/<certificateAlias>.pem or .crt
// (or the alias's entry of a PKCS#12 truststore). Then each [[jwtTokenConfig]] issuer's
// certificate (kid = certificateAlias, else the issuer), as a bearer-token issuer.
// Every problem is appended to *errors (may be null); the returned set holds the keys that loaded.
// rotated (issue 25, may be null): the local STS's key set; wherever the local key is trusted, its
// rotated keys are too (each under its own kid, until its verifiesUntil), and the configured key
// stops at its own verifiesUntil once retired.
std::shared_ptr<token::KeySet> buildTrustedKeySet(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::vector<std::string>* errors, const token::SigningKeySet* rotated = nullptr);

// The JWKS the local STS publishes: its own key (kid = tokenIssuer.certificateAlias) when it has
// one, and the [jwtGenerator] key under its own kid, which no trusted key set holds, so a backend
// JWT is never accepted as an API key (SPEC section 15). Either key may be null.
// With rotated: every key of the set, next keys included (published before they sign).
std::shared_ptr<token::KeySet> buildPublishedKeySet(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::shared_ptr<const token::VerificationKey> jwtGeneratorKey,
    const token::SigningKeySet* rotated = nullptr);

}  // namespace mgw::apis
