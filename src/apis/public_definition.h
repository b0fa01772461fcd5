// An API's definition as its clients may read it (GET /apikey/apis/definition, the portal's
// "definition" link): the OpenAPI document the gateway loaded, as JSON, without what configures the
// gateway rather than describes the API.
//
// Removed: every specification extension (an "x-..." member of an OpenAPI object: x-wso2-*
// endpoints with their securityConfig passwords, x-wso2-endpoints, x-mgw-*, any vendor's), the
// backend addresses (OpenAPI 3 `servers` at every level; Swagger 2 `host` and `schemes`), replaced
// by the API's context on this gateway (`servers: [{"url": context}]`, a URL relative to the
// gateway serving the document; Swagger 2: `basePath`). Names that only look like extensions (a
// schema property, a response header, a component called "x-...") and example values stay.
//
// An API declared in [[apis.api]] has no document: generatedDefinition writes a minimal OpenAPI
// 3.0 one (its name, version, context, where the key goes, and no paths: every path under the
// context is forwarded).
#pragma once

#include <nlohmann/json.hpp>

#include "gateway/api.h"

namespace mgw::apis {

// The loaded document, cleaned, for api (its context and name).
nlohmann::json publicDefinition(nlohmann::json document, const gateway::ApiDefinition& api);

// The minimal OpenAPI 3.0 document of an API declared without one.
nlohmann::json generatedDefinition(const gateway::ApiDefinition& api);

}  // namespace mgw::apis
