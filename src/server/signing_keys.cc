#include "server/signing_keys.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "config/config_loader.h"
#include "server/request_util.h"
#include "token/iso_time.h"

namespace mgw::server {
namespace fs = std::filesystem;

namespace {

std::int64_t skewSeconds(const config::Config& config) {
  return (config.server.timestampSkewMs + 999) / 1000;
}

std::string dateOrDash(const std::optional<std::int64_t>& t) {
  return t ? token::isoTime(*t) : std::string("-");
}

}  // namespace

std::shared_ptr<const token::SigningKeySet> loadSigningKeySet(
    const config::Config& config, std::shared_ptr<const token::SigningKey> configured,
    std::int64_t now, std::vector<std::string>* errors, std::vector<std::string>* warnings) {
  const config::IssuerConfig& issuer = config.tokenIssuer;
  std::vector<token::SigningKeyEntry> entries;
  std::string error;
  if (!token::readKeySetFile(issuer.keySetPath, &entries, &error)) errors->push_back(error);

  bool haveConfigured = false;
  for (auto& e : entries) {
    const std::string where =
        (fs::path(issuer.keySetPath) / token::kKeySetFileName).string() + ": kid \"" + e.kid + "\"";
    if (e.kid == issuer.certificateAlias) {
      // The configured keystore: keyset.json only sets its dates.
      haveConfigured = true;
      if (!e.file.empty())
        errors->push_back(where +
                          " is [apikey.issuer.tokenConfig] certificateAlias, the configured "
                          "keystore: its \"file\" must be \"\"");
      e.key = configured;
      continue;
    }
    if (e.file.empty()) {
      errors->push_back(where + ": \"file\" is empty (only certificateAlias's entry may omit it)");
      continue;
    }
    const std::string path = (fs::path(issuer.keySetPath) / e.file).string();
    auto key = token::SigningKey::loadAnyAlgorithm(path, issuer.keyStorePassword, &error);
    if (!key) {
      errors->push_back(where + ": " + error);
      continue;
    }
    // The kid follows from the key: a file replaced by another key is refused, not trusted.
    const std::string thumbprint = token::jwkThumbprint(*key->publicKey());
    if (thumbprint != e.kid) {
      errors->push_back(where + ": " + path + " holds the key with thumbprint " + thumbprint +
                        ", not this kid; restore the file or remove the entry");
      continue;
    }
    e.key = std::move(key);
  }
  if (!haveConfigured)
    entries.insert(entries.begin(), {issuer.certificateAlias, "", 0, 0, {}, configured});

  auto set = std::make_shared<const token::SigningKeySet>(
      std::move(entries), issuer.validityTime > 0 ? issuer.validityTime : 0, skewSeconds(config));
  const auto& keys = set->keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto retires = set->retiresAt(i);
    if (retires && !set->verifiesUntil(i)) {
      warnings->push_back(
          "signing key \"" + keys[i].kid + "\" " + (*retires <= now ? "retired" : "retires") +
          " at " + token::isoTime(*retires) + ", and [apikey.issuer.tokenConfig] validityTime = " +
          std::to_string(issuer.validityTime) +
          " lets the keys it signed live forever: it stays in the JWKS and keeps verifying until "
          "you choose its end: set \"verifyUntil\" in " +
          (fs::path(issuer.keySetPath) / token::kKeySetFileName).string() +
          " (or `micro-gw keystore rotate --verify-until DATE` at the next rotation), then SIGHUP");
    }
  }
  return set;
}

namespace {

struct CliConfig {
  std::string configPath = "conf/micro-gw.conf";
  std::optional<config::Config> config;
};

// Loads the configuration named by --config (other arguments are left to the caller).
bool loadCliConfig(const std::string& path, CliConfig* out) {
  auto result = config::loadConfig(path, config::defaultRuntimeHome(path));
  for (const auto& e : result.errors) std::cerr << "micro-gw: " << e.toString() << "\n";
  if (!result.config) return false;
  out->config = std::move(result.config);
  return true;
}

std::unique_ptr<token::SigningKey> loadConfigured(const config::Config& config,
                                                  std::string* error) {
  auto alg = token::parseAlgorithm(config.tokenIssuer.signatureAlgorithm);
  if (!alg) {
    *error = "[apikey.issuer.tokenConfig] signatureAlgorithm must be RS256, ES256 or EdDSA";
    return nullptr;
  }
  return token::SigningKey::load(config.tokenIssuer.keyStorePath,
                                 config.tokenIssuer.keyStorePassword, *alg, error);
}

}  // namespace

int keystoreRotate(const std::vector<std::string>& args) {
  std::string configPath = "conf/micro-gw.conf";
  std::optional<std::int64_t> leadTime, verifyUntil;
  std::string alg;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool hasValue = i + 1 < args.size();
    if (args[i] == "--config" && hasValue) {
      configPath = args[++i];
    } else if (args[i] == "--lead-time" && hasValue) {
      const std::string& v = args[++i];
      if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
        std::cerr << "micro-gw: keystore rotate: --lead-time is a number of seconds\n";
        return 2;
      }
      leadTime = std::stoll(v);
    } else if (args[i] == "--alg" && hasValue) {
      alg = args[++i];
    } else if (args[i] == "--verify-until" && hasValue) {
      verifyUntil = token::parseIsoTime(args[++i]);
      if (!verifyUntil) {
        std::cerr << "micro-gw: keystore rotate: --verify-until is an RFC 3339 UTC time such as "
                     "2027-01-31T00:00:00Z\n";
        return 2;
      }
    } else {
      std::cerr << "micro-gw: keystore rotate: unknown argument '" << args[i]
                << "'\nusage: micro-gw keystore rotate [--config PATH] [--lead-time SECONDS] "
                   "[--alg RS256|ES256|EdDSA] [--verify-until DATE]\n";
      return 2;
    }
  }
  CliConfig cli;
  if (!loadCliConfig(configPath, &cli)) return 1;
  const config::Config& config = *cli.config;
  const config::IssuerConfig& issuer = config.tokenIssuer;
  std::string error;
  auto configured = loadConfigured(config, &error);
  if (!configured) {
    std::cerr << "micro-gw: keystore rotate: the configured keystore must load first: " << error
              << "\n";
    return 1;
  }
  auto algorithm = token::parseAlgorithm(alg.empty() ? issuer.signatureAlgorithm : alg);
  if (!algorithm) {
    std::cerr << "micro-gw: keystore rotate: --alg must be RS256, ES256 or EdDSA\n";
    return 2;
  }

  const std::int64_t now = nowSeconds();
  std::vector<std::string> errors, warnings;
  auto current =
      loadSigningKeySet(config, std::shared_ptr<const token::SigningKey>(std::move(configured)),
                        now, &errors, &warnings);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "micro-gw: " << e << "\n";
    return 1;
  }
  for (const auto& k : current->keys()) {
    if (k.activates > now) {
      std::cerr << "micro-gw: keystore rotate: key \"" << k.kid
                << "\" is already next (it signs from " << token::isoTime(k.activates)
                << "); rotate again after that\n";
      return 1;
    }
  }
  const std::int64_t activates = now + leadTime.value_or(issuer.rotationLeadTime);
  if (verifyUntil && *verifyUntil < activates) {
    std::cerr << "micro-gw: keystore rotate: --verify-until " << token::isoTime(*verifyUntil)
              << " is before the new key signs (" << token::isoTime(activates)
              << "): the current key would stop verifying while it still signs\n";
    return 1;
  }

  // The new key: generated under a temporary name, then named by its kid.
  std::error_code ec;
  fs::create_directories(issuer.keySetPath, ec);
  ::chmod(issuer.keySetPath.c_str(), 0700);
  const std::string tmp =
      (fs::path(issuer.keySetPath) / (".rotate-" + std::to_string(::getpid()) + ".pem")).string();
  if (!token::generateKeystore(tmp, *algorithm, issuer.keyStorePassword, &error)) {
    std::cerr << "micro-gw: keystore rotate: " << error << "\n";
    return 1;
  }
  auto key = token::SigningKey::loadAnyAlgorithm(tmp, issuer.keyStorePassword, &error);
  if (!key) {
    ::unlink(tmp.c_str());
    std::cerr << "micro-gw: keystore rotate: " << error << "\n";
    return 1;
  }
  const std::string kid = token::jwkThumbprint(*key->publicKey());
  const std::string file = kid + ".pem";
  if (::rename(tmp.c_str(), (fs::path(issuer.keySetPath) / file).c_str()) != 0) {
    ::unlink(tmp.c_str());
    std::cerr << "micro-gw: keystore rotate: cannot name the new key " << file << "\n";
    return 1;
  }

  std::vector<token::SigningKeyEntry> entries;
  const token::SigningKeyEntry* active = current->activeAt(now);
  for (const auto& k : current->keys()) {
    token::SigningKeyEntry e{k.kid, k.file, k.created, k.activates, k.verifyUntil, nullptr};
    if (verifyUntil && &k == active) e.verifyUntil = verifyUntil;
    entries.push_back(std::move(e));
  }
  entries.push_back({kid, file, now, activates, {}, nullptr});
  if (!token::writeKeySetFile(issuer.keySetPath, entries, &error)) {
    std::cerr << "micro-gw: keystore rotate: " << error << "\n";
    return 1;
  }
  token::SigningKeySet next(std::move(entries), issuer.validityTime > 0 ? issuer.validityTime : 0,
                            skewSeconds(config));
  std::optional<std::int64_t> oldUntil;
  for (std::size_t i = 0; i < next.keys().size(); ++i)
    if (next.keys()[i].kid == active->kid) oldUntil = next.verifiesUntil(i);
  std::cout << "created signing key " << kid << " (" << token::algorithmName(key->algorithm())
            << ") in " << (fs::path(issuer.keySetPath) / file).string() << "\n"
            << "published in the JWKS at the next SIGHUP (or start) of each node; it signs from "
            << token::isoTime(activates) << "\n"
            << "key " << active->kid << " retires then and verifies until "
            << (oldUntil ? token::isoTime(*oldUntil)
                         : std::string("you set its verifyUntil (validityTime = -1)"))
            << "\n"
            << "every node must read the same files: copy " << issuer.keySetPath
            << " to each node and send it SIGHUP before " << token::isoTime(activates) << "\n";
  return 0;
}

int keystoreList(const std::vector<std::string>& args) {
  std::string configPath = "conf/micro-gw.conf";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      configPath = args[++i];
    } else {
      std::cerr << "micro-gw: keystore list: unknown argument '" << args[i]
                << "'\nusage: micro-gw keystore list [--config PATH]\n";
      return 2;
    }
  }
  CliConfig cli;
  if (!loadCliConfig(configPath, &cli)) return 1;
  const config::Config& config = *cli.config;
  std::string error;
  std::vector<std::string> errors, warnings;
  auto configured = loadConfigured(config, &error);
  if (!configured) errors.push_back(error);
  const std::int64_t now = nowSeconds();
  auto set =
      loadSigningKeySet(config, std::shared_ptr<const token::SigningKey>(std::move(configured)),
                        now, &errors, &warnings);
  std::printf("%-44s %-8s %-6s %-21s %-21s %-21s %s\n", "KID", "STATE", "ALG", "SIGNS FROM",
              "RETIRES", "VERIFIES UNTIL", "FILE");
  const auto& keys = set->keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const std::string file = k.file.empty()
                                 ? config.tokenIssuer.keyStorePath
                                 : (fs::path(config.tokenIssuer.keySetPath) / k.file).string();
    std::printf("%-44s %-8s %-6s %-21s %-21s %-21s %s\n", k.kid.c_str(),
                std::string(token::keyStateName(set->stateAt(i, now))).c_str(),
                k.key ? std::string(token::algorithmName(k.key->algorithm())).c_str() : "?",
                k.activates > 0 ? token::isoTime(k.activates).c_str() : "-",
                dateOrDash(set->retiresAt(i)).c_str(), dateOrDash(set->verifiesUntil(i)).c_str(),
                file.c_str());
  }
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  for (const auto& e : errors) std::cerr << "micro-gw: " << e << "\n";
  return errors.empty() ? 0 : 1;
}

}  // namespace mgw::server
