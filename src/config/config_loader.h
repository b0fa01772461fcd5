// Loads micro-gw.conf (TOML) into the plain Config structs. Trusts nothing in the file or the
// environment: every problem is collected (not just the first) and names file, line, key and what
// is allowed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mgw::config {

struct LoadError {
  std::string file;     // as given to the loader, e.g. "conf/micro-gw.conf"
  int line = 0;         // 1-based; 0 when there is no line (the file could not be read)
  std::string key;      // "[apikey.issuer.tokenConfig] signatureAlgorithm", "[foo]" or empty
  std::string message;  // what was wrong and what is allowed
  std::string value;    // the offending value as written; never filled for passwords
  // conf/micro-gw.conf:12: [apikey.issuer.tokenConfig] signatureAlgorithm = "HS256": must be one of
  // ...
  std::string toString() const;
};

struct LoadResult {
  std::optional<Config> config;     // set only when errors is empty
  std::vector<LoadError> errors;    // every error, in file order
  std::vector<LoadError> warnings;  // accepted but worth a startup log line (e.g. SHA-1 passwords)
  bool ok() const { return config.has_value(); }
};

// Reads and validates the file at path. An empty runtimeHome means defaultRuntimeHome(path).
LoadResult loadConfig(const std::string& path, const std::string& runtimeHome);

// The same from text (tests, --validate of piped input); displayName is used in error messages.
// An empty runtimeHome means defaultRuntimeHome(displayName).
LoadResult loadConfigFromString(std::string_view toml, const std::string& displayName,
                                const std::string& runtimeHome);

// ${mgw-runtime.home}: MGW_RUNTIME_HOME if set and non-empty, else the parent of the folder holding
// the config file (conf/micro-gw.conf -> the folder holding conf/). Absolute, no trailing '/'.
std::string defaultRuntimeHome(const std::string& configPath);

}  // namespace mgw::config
