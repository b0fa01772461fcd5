// WSO2 API Microgateway 3.x's runtime endpoint overrides applied to the loaded definitions (the key
// syntax and the sources: config/endpoint_overrides.h). Load-time code: at start, --validate and
// every SIGHUP reload, so a changed override or definition takes effect as a reload does.
#pragma once

#include <string>
#include <vector>

#include "apis/openapi_loader.h"
#include "config/config.h"
#include "gateway/api.h"

namespace mgw::apis {

// The name WSO2 MGW 3.x's toolkit gave an API's own endpoint lists: "api_" + md5(title:version)
// in lower-case hex. (An operation's own inline lists had a random name per build: none here.)
std::string wso2ApiId(const std::string& title, const std::string& version);

// Applies overrides to every endpoint list of apis that has a name (the API's, and its
// operations' x-wso2-endpoints references), production or sandbox by where the list is: a URL
// replaces the index-th URL, a user name or password the securityConfig's. An error, naming the
// key and where it came from (never a password), for a key that names no list, an index past the
// list's URLs, an unusable or empty value, or credentials for a list without securityConfig basic;
// and for a securityConfig without a password that no override gives. An API with an error is
// left out (so the load fails, as for any error).
void applyEndpointOverrides(std::vector<gateway::ApiDefinition>* apis,
                            const std::vector<config::EndpointOverride>& overrides,
                            std::vector<ApiLoadError>* errors);

}  // namespace mgw::apis
