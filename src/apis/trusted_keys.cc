#include "apis/trusted_keys.h"

#include <cctype>
#include <filesystem>
#include <functional>

namespace mgw::apis {
namespace {

namespace fs = std::filesystem;

bool isPkcs12File(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::error_code ec;
  return (ext == ".p12" || ext == ".pfx") && fs::is_regular_file(p, ec);
}

// A [[jwtTokenConfig]] issuer's certificate: certificateFile, else the truststore entry named
// certificateAlias (a PKCS#12 truststore, or <alias>.pem / .crt in a truststore folder).
std::shared_ptr<const token::VerificationKey> jwtIssuerKey(const config::Config& config,
                                                           const config::JwtIssuerConfig& j,
                                                           std::string* why) {
  if (!j.certificateFile.empty())
    return token::VerificationKey::fromPemFile(j.certificateFile, why);
  const fs::path store(config.listener.trustStorePath);
  if (isPkcs12File(store)) {
    return token::VerificationKey::fromPkcs12Alias(
        store.string(), config.listener.trustStorePassword, j.certificateAlias, why);
  }
  if (j.certificateAlias.empty() || j.certificateAlias.find_first_of("/\\") != std::string::npos ||
      j.certificateAlias.front() == '.') {
    *why = "certificateAlias \"" + j.certificateAlias + "\" cannot name a truststore file";
    return nullptr;
  }
  for (const char* ext : {".pem", ".crt"}) {
    const fs::path candidate = store / (j.certificateAlias + ext);
    std::error_code ec;
    if (fs::exists(candidate, ec))
      return token::VerificationKey::fromPemFile(candidate.string(), why);
  }
  *why =
      "no certificateFile and no truststore entry " + j.certificateAlias + " in " + store.string();
  return nullptr;
}

// A truststore entry named certificateAlias: the PKCS#12 truststore's entry, else
// <truststore>/<alias>.pem or .crt. Null with the error already reported when there is none.
std::shared_ptr<const token::VerificationKey> truststoreKey(
    const config::Config& config, const config::TrustedIssuer& ti, const std::string& where,
    const std::function<void(const std::string&)>& error) {
  // The alias becomes a file name: refuse anything that could leave the truststore folder.
  if (ti.certificateAlias.find('/') != std::string::npos ||
      ti.certificateAlias.find('\\') != std::string::npos || ti.certificateAlias.front() == '.') {
    error(where + ": certificateAlias \"" + ti.certificateAlias +
          "\" cannot name a truststore file");
    return nullptr;
  }
  std::string why;
  const fs::path dir(config.listener.trustStorePath);
  if (isPkcs12File(dir)) {
    // A PKCS#12 truststore (WSO2 MGW 3.x's ballerinaTruststore.p12): the entry named alias.
    auto key = token::VerificationKey::fromPkcs12Alias(
        dir.string(), config.listener.trustStorePassword, ti.certificateAlias, &why);
    if (!key) error(where + ": " + why);
    return key;
  }
  std::string tried;
  for (const char* ext : {".pem", ".crt"}) {
    fs::path candidate = dir / (ti.certificateAlias + ext);
    std::error_code ec;
    if (!fs::exists(candidate, ec)) {
      tried += (tried.empty() ? "" : ", ") + candidate.string();
      continue;
    }
    auto key = token::VerificationKey::fromPemFile(candidate.string(), &why);
    if (!key) error(where + ": " + candidate.string() + ": " + why);
    return key;
  }
  error(where + ": no certificateFile and no truststore entry (looked for " + tried + ")");
  return nullptr;
}

// Adds the local STS's key under kid, and its rotated keys (issue 25) under theirs: each verifies
// until its verifiesUntil (the configured key too, once a later key retired it).
void addLocalKeys(token::KeySet& set, const config::Config& config, const std::string& kid,
                  std::shared_ptr<const token::VerificationKey> localIssuerKey,
                  const config::TrustedIssuer* declared, const token::SigningKeySet* rotated) {
  token::TrustedKey original{
      kid, config.tokenIssuer.issuer, std::move(localIssuerKey), true, "", false, {}};
  if (declared) {
    original.validateAllowedApis = declared->validateAllowedAPIs;
    original.audience = declared->audience;
  }
  const std::size_t n = rotated ? rotated->keys().size() : 0;
  for (std::size_t i = 0; i < n; ++i)
    if (rotated->keys()[i].kid == config.tokenIssuer.certificateAlias)
      original.verifiesUntil = rotated->verifiesUntil(i);
  token::TrustedKey rotatedKey = original;
  set.add(std::move(original));
  for (std::size_t i = 0; i < n; ++i) {
    const token::SigningKeyEntry& e = rotated->keys()[i];
    if (e.kid == config.tokenIssuer.certificateAlias || !e.key) continue;
    rotatedKey.kid = e.kid;
    rotatedKey.key = e.key->publicKey();
    rotatedKey.verifiesUntil = rotated->verifiesUntil(i);
    set.add(rotatedKey);
  }
}

// [apikey.tokenConfigs], or the local issuer alone when it is not declared.
std::shared_ptr<token::KeySet> buildApiKeyIssuers(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::vector<std::string>* errors, const token::SigningKeySet* rotated) {
  auto set = std::make_shared<token::KeySet>();
  const std::function<void(const std::string&)> error = [errors](const std::string& e) {
    if (errors) errors->push_back(e);
  };
  if (!config.tokenConfigsDeclared) {
    if (!localIssuerKey) {
      error("[apikey.issuer.tokenConfig]: no signing key loaded, so no API key can be verified");
      return set;
    }
    addLocalKeys(*set, config, config.tokenIssuer.certificateAlias, localIssuerKey, nullptr,
                 rotated);
    return set;
  }
  for (const config::TrustedIssuer& ti : config.trustedIssuers) {
    const std::string where = "[apikey.tokenConfigs] issuer \"" + ti.issuer + "\"";
    if (ti.certificateAlias.empty()) {
      error(where + ": certificateAlias is empty (it is the kid the issuer's keys carry)");
      continue;
    }
    std::shared_ptr<const token::VerificationKey> key;
    bool local = false;
    if (!ti.certificateFile.empty()) {
      std::string why;
      key = token::VerificationKey::fromPemFile(ti.certificateFile, &why);
      if (!key) error(where + ": certificateFile " + ti.certificateFile + ": " + why);
    } else if (ti.issuer == config.tokenIssuer.issuer && localIssuerKey) {
      key = localIssuerKey;
      local = true;
    } else {
      key = truststoreKey(config, ti, where, error);
    }
    if (!key) continue;
    if (set->find(ti.certificateAlias) != nullptr) {
      error(where + ": certificateAlias \"" + ti.certificateAlias +
            "\" is already used by another trusted issuer");
      continue;
    }
    if (local) {
      addLocalKeys(*set, config, ti.certificateAlias, key, &ti, rotated);
      continue;
    }
    set->add(token::TrustedKey{
        ti.certificateAlias, ti.issuer, key, ti.validateAllowedAPIs, ti.audience, false, {}});
  }
  if (set->size() == 0) error("[apikey.tokenConfigs]: no trusted issuer key could be loaded");
  return set;
}

}  // namespace

std::shared_ptr<token::KeySet> buildTrustedKeySet(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::vector<std::string>* errors, const token::SigningKeySet* rotated) {
  auto set = buildApiKeyIssuers(config, std::move(localIssuerKey), errors, rotated);
  // WSO2 MGW 3.x [[jwtTokenConfig]]: bearer-token issuers, verified by the same code as API keys.
  for (const config::JwtIssuerConfig& j : config.jwtIssuers) {
    const std::string where = "[[jwtTokenConfig]] issuer \"" + j.issuer + "\"";
    std::string why;
    auto key = jwtIssuerKey(config, j, &why);
    if (!key) {
      if (errors) errors->push_back(where + ": " + why);
      continue;
    }
    const std::string kid = j.certificateAlias.empty() ? j.issuer : j.certificateAlias;
    if (set->find(kid) != nullptr) {
      if (errors)
        errors->push_back(where + ": certificateAlias \"" + kid +
                          "\" is already used by another trusted issuer");
      continue;
    }
    set->add(token::TrustedKey{kid, j.issuer, key, j.validateSubscription, j.audience, true, {}});
  }
  return set;
}

std::shared_ptr<token::KeySet> buildPublishedKeySet(
    const config::Config& config, std::shared_ptr<const token::VerificationKey> localIssuerKey,
    std::shared_ptr<const token::VerificationKey> jwtGeneratorKey,
    const token::SigningKeySet* rotated) {
  auto published = std::make_shared<token::KeySet>();
  if (localIssuerKey)
    addLocalKeys(*published, config, config.tokenIssuer.certificateAlias, std::move(localIssuerKey),
                 nullptr, rotated);
  if (jwtGeneratorKey)
    published->add({config.jwtGenerator.kid,
                    config.jwtGenerator.issuer,
                    std::move(jwtGeneratorKey),
                    true,
                    "",
                    false,
                    {}});
  return published;
}

}  // namespace mgw::apis
