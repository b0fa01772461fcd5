// Reads API definitions: OpenAPI 3.x and Swagger 2.0 (YAML or JSON) with the WSO2 API Microgateway
// extensions (SPEC section 4), and the inline [[apis.api]] tables of micro-gw.conf. Trusts nothing
// in the files: anything the gateway cannot serve safely is a load error naming the file and the
// JSON pointer (RFC 6901) of the offending value.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "gateway/api.h"

namespace mgw::apis {

struct ApiLoadError {
  std::string file;     // the definition file, or "conf/micro-gw.conf:42" for an inline API
  std::string pointer;  // JSON pointer into the file ("/paths/~1menu/get/security/0"); may be empty
  std::string message;
  // "file: pointer: message" (or "file: message" without a pointer).
  std::string toString() const;
};

// Each path is a definition file or a folder; a folder contributes its *.yaml, *.yml and *.json
// files (not recursive), in name order. An API with an error is left out and every error is
// appended to *errors (which may be null). name:version must be unique across the result.
// warnings (may be null) gets what loads but is not served as written (WSO2 MGW 3.x schemes).
std::vector<gateway::ApiDefinition> loadApiDefinitions(
    const std::vector<std::string>& paths, std::vector<ApiLoadError>* errors,
    std::vector<ApiLoadError>* warnings = nullptr);

// The API of an already validated [[apis.api]] table: one resource {"*", "/*"}, secured unless
// security = [], key sources apiKeyHeader then apiKeyQuery. "{version}" in the context is replaced.
gateway::ApiDefinition apiFromInline(const config::InlineApi& api, const std::string& configFile);

// Inline APIs (validated here: name, version, context, endpoint URLs, security) then the
// definitions; name:version and the context must each be unique across all of them.
std::vector<gateway::ApiDefinition> buildApis(const config::Config& config,
                                              std::vector<ApiLoadError>* errors,
                                              std::vector<ApiLoadError>* warnings = nullptr);

}  // namespace mgw::apis
