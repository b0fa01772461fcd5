#include "server/runtime_state.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "apis/openapi_loader.h"
#include "apis/trusted_keys.h"
#include "observability/metrics.h"
#include "server/request_util.h"
#include "server/signing_keys.h"

namespace mgw::server {
namespace fs = std::filesystem;

std::string defaultTlsKeystorePath(const config::Config& config) {
  return (fs::path(config.runtimeHome) / "runtime" / "security" / "micro-gw-tls.pem").string();
}

std::string defaultSigningKeystorePath(const config::Config& config) {
  return (fs::path(config.runtimeHome) / "runtime" / "security" / "micro-gw-signing.pem").string();
}

std::string defaultBackendJwtKeystorePath(const config::Config& config) {
  return (fs::path(config.runtimeHome) / "runtime" / "security" / "micro-gw-backend-jwt.pem")
      .string();
}

namespace {
bool sameFile(const std::string& a, const std::string& b) {
  return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
}
}  // namespace

// Never shipped, never committed, and announced loudly. A keystore the configuration names
// explicitly is never invented.
bool ensureDevKeystore(const std::string& path, const std::string& defaultPath,
                       token::Algorithm alg, const std::string& password,
                       const BuildOptions& options, std::vector<std::string>* errors,
                       std::vector<std::string>* warnings) {
  std::error_code ec;
  if (fs::exists(path, ec)) return true;
  if (!sameFile(path, defaultPath)) {
    errors->push_back(path + ": keystore not found");
    return false;
  }
  if (!options.createDevKeystores) {
    warnings->push_back(path +
                        ": no keystore yet; a development one will be generated at first start");
    return false;
  }
  fs::create_directories(fs::path(path).parent_path(), ec);
  ::chmod(fs::path(path).parent_path().c_str(), 0700);
  std::string error;
  if (!token::generateKeystore(path, alg, password, &error)) {
    errors->push_back(path + ": could not create a development keystore: " + error);
    return false;
  }
  warnings->push_back(path + ": generated a development keystore (" +
                      std::string(token::algorithmName(alg)) +
                      ", self-signed); use your own keystore in production");
  return true;
}

bool isLoopbackHost(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

namespace {

std::shared_ptr<RuntimeState> build(const config::Config& config,
                                    std::shared_ptr<store::RevocationList> revocations,
                                    const BuildOptions& options, std::vector<std::string>* errors,
                                    std::vector<std::string>* warnings,
                                    std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys) {
  auto state = std::make_shared<RuntimeState>();
  state->config = config;
  const size_t errorsBefore = errors->size();

  // The signing key of the local STS.
  const auto alg = token::parseAlgorithm(config.tokenIssuer.signatureAlgorithm);
  std::shared_ptr<const token::VerificationKey> localKey;
  // --validate writes nothing into the runtime home. Before the first start the development signing
  // keystore does not exist yet: check that path with a throwaway key in a scratch folder instead,
  // so a fresh checkout validates (and the generation itself is exercised).
  std::string signingPath = config.tokenIssuer.keyStorePath;
  std::string signingDefault = defaultSigningKeystorePath(config);
  std::error_code ec;
  fs::path scratch;
  BuildOptions signingOptions = options;
  if (!options.createDevKeystores && !fs::exists(signingPath, ec) &&
      sameFile(signingPath, signingDefault)) {
    std::string tmpl = (fs::temp_directory_path(ec) / "micro-gw-validate-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) {
      scratch = tmpl;
      signingPath = signingDefault = (scratch / "micro-gw-signing.pem").string();
      signingOptions.createDevKeystores = true;
      warnings->push_back(config.tokenIssuer.keyStorePath +
                          ": no keystore yet; a development one will be generated at first start");
    }
  }
  std::vector<std::string> scratchWarnings;
  if (!alg) {
    errors->push_back(
        "[apikey.issuer.tokenConfig] signatureAlgorithm: must be one of RS256, ES256, EdDSA");
  } else if (ensureDevKeystore(signingPath, signingDefault, *alg,
                               config.tokenIssuer.keyStorePassword, signingOptions, errors,
                               scratch.empty() ? warnings : &scratchWarnings)) {
    std::string error;
    auto key =
        token::SigningKey::load(signingPath, config.tokenIssuer.keyStorePassword, *alg, &error);
    if (!key) {
      errors->push_back(error);  // SigningKey::load names the file already
    } else {
      localKey = key->publicKey();
      state->signingKey = std::shared_ptr<const token::SigningKey>(std::move(key));
    }
  }
  if (!scratch.empty()) fs::remove_all(scratch, ec);
  // Rotated keys (issue 25): read on every start, --validate and SIGHUP.
  if (state->signingKey)
    state->signingKeys =
        loadSigningKeySet(config, state->signingKey, nowSeconds(), errors, warnings);

  // The default truststore is a folder of PEM certificates (trusted issuers and HTTPS backends by
  // alias); created empty on first start so that adding a certificate is the only step left.
  const auto defaultTrustStore =
      fs::path(config.runtimeHome) / "runtime" / "security" / "truststore";
  if (options.createDevKeystores &&
      sameFile(config.listener.trustStorePath, defaultTrustStore.string()) &&
      !fs::exists(defaultTrustStore, ec)) {
    fs::create_directories(defaultTrustStore, ec);
  }

  // [jwtGenerator] (SPEC section 15): its key is published in the same JWKS under its own kid.
  // Never the STS key (issue 22 item 8): a backend that trusts the backend JWT's key must not
  // thereby trust API keys, and the other way round. Without signingKey, a development ES256 key
  // of its own is generated at first start next to the STS key. A WSO2 MGW 3.x
  // [jwtGeneratorConfig] keeps WSO2's choice, the STS (keystore) key, so migrated backends verify.
  std::shared_ptr<const token::VerificationKey> jwtPublicKey;
  if (config.jwtGenerator.enabled) {
    std::shared_ptr<const token::SigningKey> jwtKey;
    std::string jwtPath = config.jwtGenerator.signingKey;
    std::string jwtPassword = config.jwtGenerator.signingKeyPassword;
    if (jwtPath.empty() && config.jwtGenerator.signWithStsKey) {
      jwtKey = state->signingKey;  // null when the STS key failed to load (already an error)
    } else if (jwtPath.empty()) {
      jwtPath = defaultBackendJwtKeystorePath(config);
      jwtPassword.clear();
      if (!ensureDevKeystore(jwtPath, jwtPath, token::Algorithm::kES256, "", options, errors,
                             warnings))
        jwtPath.clear();  // --validate before the first start: nothing to load yet
    }
    if (!jwtPath.empty()) {
      std::string error;
      auto key = token::SigningKey::loadAnyAlgorithm(jwtPath, jwtPassword, &error);
      if (key)
        jwtKey = std::move(key);
      else
        errors->push_back("[jwtGenerator] signingKey: " + error);
    }
    if (jwtKey) {
      jwtPublicKey = jwtKey->publicKey();
      state->jwtGenerator =
          std::make_shared<gateway::BackendJwtGenerator>(config.jwtGenerator, jwtKey);
    }
  }
  state->publishedKeys =
      apis::buildPublishedKeySet(config, localKey, jwtPublicKey, state->signingKeys.get());

  std::vector<std::string> keyErrors;
  auto trusted = apis::buildTrustedKeySet(config, localKey, &keyErrors, state->signingKeys.get());
  errors->insert(errors->end(), keyErrors.begin(), keyErrors.end());
  state->trustedKeys = trusted;

  // Users.
  state->users = std::make_shared<auth::UserStore>(config.users, config.auth);
  for (const auto& w : state->users->startupWarnings()) warnings->push_back(w);
  // The well-known password on a non-loopback listener: a start refuses it, so --validate and a
  // reload do too (one check, made where every path passes).
  if (!isLoopbackHost(config.listener.host)) {
    for (const auto& name : state->users->usersWithWellKnownPassword()) {
      errors->push_back("[b7a.users." + name +
                        "] password: the well-known password 'admin' is refused on a non-loopback "
                        "listener ([listenerConfig] host = \"" +
                        config.listener.host +
                        "\"); set another with `micro-gw hash-password`, or bind 127.0.0.1");
    }
  }

  // APIs and routes.
  std::vector<apis::ApiLoadError> apiErrors;
  std::vector<apis::ApiLoadError> apiWarnings;
  auto apis = apis::buildApis(config, &apiErrors, &apiWarnings);
  for (const auto& e : apiErrors) errors->push_back(e.toString());
  for (const auto& w : apiWarnings) warnings->push_back(w.toString());

  if (errors->size() != errorsBefore) return nullptr;

  if (state->signingKey)
    state->issuer = std::make_shared<const sts::ApiKeyIssuer>(state->signingKeys, config);
  // Endpoint URLs parsed once per configuration, not per request.
  for (const auto& api : apis) {
    std::vector<const gateway::Endpoints*> all = {&api.production, &api.sandbox};
    for (const auto& res : api.resources) {  // an operation's own endpoints (WSO2 MGW 3.x)
      all.push_back(&res.production);
      all.push_back(&res.sandbox);
    }
    for (const auto* endpoints : all) {
      for (const auto& url : endpoints->urls) {
        std::string error;
        auto target = mgw::parseEndpointUrl(url, &error);
        if (!target) {
          errors->push_back(api.source + ": API " + api.name + ":" + api.version + " endpoint \"" +
                            url + "\": " + error);
          continue;
        }
        state->endpoints.emplace(url, std::move(*target));
      }
    }
  }
  // Throttling policies (SPEC section 13): WSO2's defaults, policies.yaml, [[throttling.policy]].
  // A tier a definition or a user names that no policy has loads with a warning (--validate lists
  // it); its requests answer 500 naming it, as WSO2's gateway does.
  {
    auto policies = throttle::PolicySet::build(config, errors);
    auto unknown = [&](throttle::PolicyLevel level, const std::string& tier) {
      return !tier.empty() && policies.find(level, tier) == nullptr;
    };
    for (const auto& api : apis) {
      if (unknown(throttle::PolicyLevel::kApi, api.throttlingTier))
        warnings->push_back(api.source + ": API " + api.name + ":" + api.version +
                            " names the throttling tier '" + api.throttlingTier +
                            "', which no api-level policy defines: its requests answer 500");
      for (const auto& res : api.resources) {
        if (unknown(throttle::PolicyLevel::kApi, res.throttlingTier))
          warnings->push_back(api.source + ": API " + api.name + ":" + api.version + " " +
                              res.method + " " + res.pathTemplate + " names the throttling tier '" +
                              res.throttlingTier +
                              "', which no api-level policy defines: its requests answer 500");
      }
    }
    for (const auto& user : config.users) {
      if (unknown(throttle::PolicyLevel::kSubscription, user.tier))
        warnings->push_back(config.sourcePath + ":" + std::to_string(user.line) + ": [b7a.users." +
                            user.name + "] tier = \"" + user.tier +
                            "\": no subscription-level policy has this name; keys count as "
                            "[throttling] unknownTier");
    }
    if (policies.find(throttle::PolicyLevel::kSubscription, config.throttling.unknownTier) ==
            nullptr ||
        policies.find(throttle::PolicyLevel::kApplication, config.throttling.unknownTier) ==
            nullptr)
      errors->push_back(config.sourcePath + ": [throttling] unknownTier = \"" +
                        config.throttling.unknownTier +
                        "\": must name a policy of both the subscription and the application "
                        "level (default \"Unlimited\")");
    state->throttler = std::make_shared<const throttle::Throttler>(std::move(policies),
                                                                   config.throttling.unknownTier);
  }
  if (errors->size() != errorsBefore) return nullptr;
  // Metrics label sets are fixed here, at load: one id per API name and version.
  for (auto& api : apis) {
    api.metricsId = observability::metrics().registerApi(api.name, api.version);
    for (gateway::ApiPlan& plan : api.plans)
      plan.metricsId = observability::metrics().registerPlan(api.name, api.version, plan.name);
  }
  state->router = std::make_shared<const gateway::Router>(std::move(apis));
  state->validator = std::make_shared<const gateway::KeyValidator>(
      trusted, config, std::move(revocations), std::move(opaqueKeys));
  return state;
}

}  // namespace

std::shared_ptr<RuntimeState> buildRuntimeState(
    const config::Config& config, std::shared_ptr<store::RevocationList> revocations,
    const BuildOptions& options, std::vector<std::string>* errors,
    std::vector<std::string>* warnings, std::shared_ptr<const store::OpaqueKeyIndex> opaqueKeys) {
  // The reload boundary: nothing below may end the process. A throw here is a gap between the
  // config loader's checks and a module's; it refuses this configuration and the running one
  // stays.
  try {
    return build(config, std::move(revocations), options, errors, warnings, std::move(opaqueKeys));
  } catch (const std::exception& e) {
    errors->push_back(config.sourcePath + ": the configuration cannot be applied: " + e.what());
  } catch (...) {
    errors->push_back(config.sourcePath + ": the configuration cannot be applied");
  }
  return nullptr;
}

}  // namespace mgw::server
