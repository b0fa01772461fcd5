#include "server/keys_command.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "common/key_format.h"
#include "config/config_loader.h"
#include "store/database.h"
#include "store/key_hasher.h"
#include "store/opaque_key_store.h"
#include "token/iso_time.h"

namespace mgw::server {
namespace {

constexpr const char* kKeysUsage = R"(usage:
  micro-gw keys scan [--prefix P | --config PATH] PATH...
      list this gateway's keys (opaque <prefix>_<random>_<checksum> and prefixed signed
      <prefix>_<JWS>_<checksum>, checksum verified) found in the files under PATH; exit 1 when
      any is found
  micro-gw keys stale --days N [--config PATH]
      list the opaque keys (and, with [apikey] trackLastUsed, signed keys' jtis) not used for N days
)";

int usage(const std::string& message) {
  std::cerr << "micro-gw: keys: " << message << "\n" << kKeysUsage;
  return 2;
}

// The configuration, or nullopt after printing its errors.
std::optional<config::Config> readConfig(const std::string& path) {
  auto result = config::loadConfig(path, config::defaultRuntimeHome(path));
  if (!result.ok()) {
    for (const auto& e : result.errors) std::cerr << e.toString() << "\n";
    return std::nullopt;
  }
  return std::move(*result.config);
}

// A found key as it may be shown: prefix, four characters of the random part, the last four.
std::string masked(std::string_view key, std::size_t prefixLength) {
  return std::string(key.substr(0, prefixLength + 5)) + "..." +
         std::string(key.substr(key.size() - 4));
}

std::size_t scanFile(const std::filesystem::path& path, const std::string& prefix) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t found = 0;
  std::size_t line = 1, lineStart = 0, counted = 0;
  for (const KeyMatch& m : findFormattedKeys(text, prefix)) {
    for (; counted < m.offset; ++counted)
      if (text[counted] == '\n') {
        ++line;
        lineStart = counted + 1;
      }
    std::cout << path.string() << ":" << line << ":" << (m.offset - lineStart + 1) << ": "
              << masked(std::string_view(text).substr(m.offset, m.length), prefix.size()) << "\n";
    ++found;
  }
  return found;
}

int scan(const std::vector<std::string>& args) {
  std::string prefix = "mgw";
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--prefix" && i + 1 < args.size()) {
      prefix = args[++i];
    } else if (args[i] == "--config" && i + 1 < args.size()) {
      auto c = readConfig(args[++i]);
      if (!c) return 2;
      prefix = c->opaqueKeys.keyPrefix;
    } else if (args[i].starts_with("--")) {
      return usage("scan: unknown option '" + args[i] + "'");
    } else {
      paths.push_back(args[i]);
    }
  }
  if (auto why = validateKeyPrefix(prefix)) return usage("--prefix " + *why);
  if (paths.empty()) return usage("scan: name at least one file or folder");
  std::size_t found = 0, files = 0;
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      found += scanFile(p, prefix);
      ++files;
      continue;
    }
    if (!fs::is_directory(p, ec)) {
      std::cerr << "micro-gw: keys scan: " << p << ": no such file or folder\n";
      return 2;
    }
    for (auto it =
             fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_symlink(ec)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      found += scanFile(it->path(), prefix);
      ++files;
    }
  }
  std::cerr << "micro-gw: keys scan: " << found << " key(s) of format " << prefix
            << "_<random>_<checksum> or " << prefix << "_<JWS>_<checksum> in " << files
            << " file(s)\n";
  return found > 0 ? 1 : 0;
}

int stale(const std::vector<std::string>& args) {
  std::string configPath = "conf/micro-gw.conf";
  long long days = -1;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      configPath = args[++i];
    } else if (args[i] == "--days" && i + 1 < args.size()) {
      try {
        days = std::stoll(args[++i]);
      } catch (const std::exception&) {
        days = -1;
      }
      if (days < 0) return usage("stale: --days takes a number of days (0 or more)");
    } else {
      return usage("stale: unknown argument '" + args[i] + "'");
    }
  }
  if (days < 0) return usage("stale: --days N is required");
  auto c = readConfig(configPath);
  if (!c) return 2;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t cutoff = now - days * 86400;
  try {
    store::Database db(c->storage.path);
    // Listing reads no hash: a hasher with a zero secret never touches the installation's.
    const store::KeyHasher hasher(std::string(store::KeyHasher::kSecretBytes, '\0'));
    store::OpaqueKeyStore keys(db, hasher);
    auto all = keys.listAll();
    if (!all.ok()) {
      std::cerr << "micro-gw: keys stale: " << c->storage.path << ": the store cannot be read\n";
      return 1;
    }
    std::size_t n = 0;
    std::cout << "id\towner\tapi\tlastUsed\tcreated\n";
    for (const auto& k : all.value) {
      if (k.revoked || (k.expiresAt > 0 && k.expiresAt <= now)) continue;
      const std::int64_t seen = k.lastUsed > 0 ? k.lastUsed : k.createdAt;
      if (seen > cutoff) continue;
      std::cout << k.id << "\t" << k.owner << "\t" << k.apiName << ":" << k.apiVersion << "\t"
                << (k.lastUsed > 0 ? token::isoTime(k.lastUsed) : std::string("never")) << "\t"
                << token::isoTime(k.createdAt) << "\n";
      ++n;
    }
    auto jtis = keys.listJtiUse();
    if (jtis.ok())
      for (const auto& j : jtis.value) {
        if (j.at > cutoff) continue;
        std::cout << "jti:" << j.jti << "\t" << j.sub << "\t-\t" << token::isoTime(j.at) << "\t-\n";
        ++n;
      }
    std::cerr << "micro-gw: keys stale: " << n << " key(s) unused for " << days << " day(s)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "micro-gw: keys stale: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int keysCommand(const std::vector<std::string>& args) {
  if (args.empty()) return usage("name a subcommand");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "scan") return scan(rest);
  if (args[0] == "stale") return stale(rest);
  return usage("unknown subcommand '" + args[0] + "'");
}

}  // namespace mgw::server
