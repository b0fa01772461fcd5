// Everything built from one configuration: keys, users, issuer, routes and validator. Immutable
// once built; SIGHUP builds a new one and swaps it in, so in-flight requests finish on the old one.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/user_store.h"
#include "common/endpoint_url.h"
#include "config/config.h"
#include "gateway/backend_jwt.h"
#include "gateway/key_validator.h"
#include "gateway/router.h"
#include "store/revocation_list.h"
#include "sts/api_key_issuer.h"
#include "throttle/throttler.h"
#include "token/jws.h"
#include "token/keys.h"
#include "token/signing_key_set.h"

namespace mgw::server {

struct RuntimeState {
  config::Config config;
  std::shared_ptr<const token::SigningKey> signingKey;  // null when the issuer is disabled
  // The configured key and the rotated ones (issue 25); the issuer signs with the active one.
  std::shared_ptr<const token::SigningKeySet> signingKeys;
  std::shared_ptr<const token::KeySet> trustedKeys;
  std::shared_ptr<const token::KeySet> publishedKeys;  // JWKS: the local signing key
  std::shared_ptr<auth::UserStore> users;
  std::shared_ptr<const sts::ApiKeyIssuer> issuer;
  std::shared_ptr<const gateway::Router> router;
  std::shared_ptr<const gateway::KeyValidator> validator;
  std::unordered_map<std::string, mgw::UpstreamTarget> endpoints;  // every endpoint URL, parsed
  std::shared_ptr<gateway::BackendJwtGenerator> jwtGenerator;  // null unless [jwtGenerator] enabled
  std::shared_ptr<const throttle::Throttler> throttler;        // the policies (SPEC section 13)
};

struct BuildOptions {
  bool createDevKeystores = true;  // false for --validate: never write files
};

// Loads keystores and definitions named by `config` and makes every check a start makes (the
// well-known password on a non-loopback host included), so --validate, a start and a SIGHUP agree.
// On failure returns null and appends every error (each naming the file and what to do) to
// `errors`; `warnings` collects startup warnings. Never throws.
// opaqueKeys (the embedded store's in-memory index) lets the validator accept opaque keys; null:
// signed keys only.
std::shared_ptr<RuntimeState> buildRuntimeState(
    const config::Config& config, std::shared_ptr<store::RevocationList> revocations,
    const BuildOptions& options, std::vector<std::string>* errors,
    std::vector<std::string>* warnings,
    std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys = nullptr);

// 127.0.0.1, any 127.x address, ::1 or localhost.
bool isLoopbackHost(const std::string& host);

// First start without a keystore: generate a per-installation development one at `path` when it is
// the default path (any other missing path is an error). False with an error appended otherwise.
bool ensureDevKeystore(const std::string& path, const std::string& defaultPath,
                       token::Algorithm alg, const std::string& password,
                       const BuildOptions& options, std::vector<std::string>* errors,
                       std::vector<std::string>* warnings);

// The development keystore paths (created on first start when the configuration names no keystore).
std::string defaultTlsKeystorePath(const config::Config& config);
std::string defaultSigningKeystorePath(const config::Config& config);
std::string defaultBackendJwtKeystorePath(const config::Config& config);

}  // namespace mgw::server
