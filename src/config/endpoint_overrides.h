// WSO2 API Microgateway 3.x's runtime endpoint overrides: an operator changes an API's backend URLs
// and its endpoint's basic-auth credentials at run time, without touching the definition. WSO2's
// toolkit generated one config lookup per URL and per credential (config:getAsString, so the
// command line's --key=value, then the environment, then micro-gw.conf), named
//   <name>_<prod|sand>_endpoint_<index>    the index-th URL of the list (0 for a single URL)
//   <name>_<prod|sand>_basic_username      securityConfig's user name
//   <name>_<prod|sand>_basic_password      its password (WSO2 3.x read it from here only)
// where <name> is the x-wso2-endpoints entry's name, or api_<md5(title:version)> for an API's own
// x-wso2-production-endpoints / x-wso2-sandbox-endpoints (or its servers). Here: the key syntax and
// where the values come from; apis/endpoint_overrides.h applies them to the loaded definitions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mgw::config {

enum class OverrideField { kUrl, kUsername, kPassword };

struct OverrideKey {
  std::string name;      // the endpoint list's name (never empty)
  bool sandbox = false;  // "sand"; else "prod"
  OverrideField field = OverrideField::kUrl;
  std::size_t index = 0;  // kUrl: which URL of the list
};

// Parsed from the end, so a name may itself hold "_prod_". nullopt: not an override key (also for
// an index with a leading zero or more than four digits, which WSO2 never generated).
std::optional<OverrideKey> parseOverrideKey(std::string_view key);

// The key WSO2 generated for one URL or credential of a list.
std::string overrideKeyText(const std::string& name, bool sandbox, OverrideField field,
                            std::size_t index = 0);

// The environment's override keys (envp: NAME=value strings, null-terminated, as environ). Only
// names an environment variable can have ([A-Za-z_][A-Za-z0-9_]*) are looked at, as Ballerina's.
std::vector<EndpointOverride> overridesFromEnvironment(char** envp);

// One entry per key, the first list that has it winning: pass the command line, the environment,
// then the file (Ballerina's precedence). Sorted by key.
std::vector<EndpointOverride> mergeOverrides(
    const std::vector<const std::vector<EndpointOverride>*>& byPrecedence);

// "--<key>=<value>" of the command line, or nullopt when arg is not an override.
std::optional<EndpointOverride> overrideFromArgument(std::string_view arg);

}  // namespace mgw::config
