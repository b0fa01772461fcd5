// An API as the gateway serves it, whether declared inline in micro-gw.conf or read from an
// OpenAPI/Swagger definition.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/cors_config.h"

namespace mgw::validation {
struct OperationSchemas;  // validation/operation.h
}

namespace mgw::gateway {

class CorsPolicy;     // gateway/cors.h
class SelectionRule;  // gateway/selection_rule.h

// Where an API key is taken (issue 26 item 4): a header, a query parameter, the credentials of
// "Authorization: Bearer <key>" (name: the header, Authorization), or a cookie (RFC 6265).
enum class KeyLocation { kHeader, kQuery, kBearer, kCookie };

struct KeySource {
  KeyLocation in;
  std::string name;  // header names compare case-insensitively, query and cookie names exactly
};

// "header", "query parameter", "Authorization: Bearer" or "cookie", for messages.
inline const char* locationName(KeyLocation in) {
  switch (in) {
    case KeyLocation::kHeader:
      return "header";
    case KeyLocation::kQuery:
      return "query parameter";
    case KeyLocation::kBearer:
      return "Authorization: Bearer";
    case KeyLocation::kCookie:
      return "cookie";
  }
  return "header";
}

struct Endpoints {
  std::vector<std::string> urls;  // http(s):// or h2c:// / h2://, tried in order when failover
  bool failover = false;
  // WSO2 MGW 3.x securityConfig {type: basic}: "Basic base64(user:password)" sent to the backend
  // as Authorization; never logged. Empty = none.
  std::string backendAuthorization;
  int timeoutSeconds = 0;  // advanceEndpointConfig timeoutInMillis, rounded up; 0 = the API's
  // Load time only (apis/endpoint_overrides.h): the name WSO2 MGW 3.x's runtime overrides give
  // this list (<name>_prod_endpoint_0, ...; "" = none can), securityConfig's user name, and whether
  // the definition left the password to <name>_<prod|sand>_basic_password, as WSO2 3.x's did.
  std::string overrideName;
  std::string basicUsername;
  bool basicPasswordMissing = false;
  bool empty() const { return urls.empty(); }
};

// The kinds of credential one OpenAPI security requirement object names. OpenAPI 3 section
// 4.8.30: the schemes of one object are all required (AND); the objects of the list are
// alternatives (OR). Several apiKey schemes count as one kind: one API key, taken from any of
// their locations (WSO2 MGW 3.x, whose definitions write {api_key: [], api_key_query: []}).
struct SchemeSet {
  bool apiKey = false;
  bool oauth2 = false;
  bool basic = false;
  bool unsupported = false;  // a scheme micro-gw does not serve: the object can never be met
  int kinds() const { return int{apiKey} + int{oauth2} + int{basic} + int{unsupported}; }
};

// How one secured resource may be called (the operation's own security requirement, else the
// API's).
struct ResourceSecurity {
  bool declared = false;              // false: the API's keySources apply (inline APIs, old code)
  std::vector<KeySource> keySources;  // where an API key is taken; empty = no API key accepted
  bool oauth2 = false;                // Authorization: Bearer <JWT> from a [[jwtTokenConfig]]
  std::vector<std::string> scopes;    // OAuth2 scopes: the token needs one of them (none = any)
  // Authorization: Basic checked against [b7a.users] (http basic, Swagger 2 basic, WSO2's
  // basic_auth); the password check runs on the worker pool.
  bool basic = false;
  // Non-empty when an object of the requirement names more than one kind: the request must meet
  // every kind of one of these alternatives. Empty: each alternative is one kind, so any scheme
  // above is a way in.
  std::vector<SchemeSet> alternatives;
  bool unsupportedOnly() const { return declared && keySources.empty() && !oauth2 && !basic; }
};

struct Resource {
  std::string method;        // upper case, "*" for any (inline APIs)
  std::string pathTemplate;  // "/menu", "/order/{orderId}", "/*" for anything (inline APIs)
  bool secured = true;       // false: x-wso2-disable-security or security: []
  ResourceSecurity security;
  // The operation's own x-wso2-production-endpoints / x-wso2-sandbox-endpoints (WSO2 MGW 3.x);
  // empty = the API's.
  Endpoints production;
  Endpoints sandbox;
  std::string throttlingTier;  // x-wso2-throttling-tier on the operation; empty = none
  // Its parameters, request body and answers as the definition declares them, compiled at load
  // (issue 27); null for inline APIs.
  std::shared_ptr<const validation::OperationSchemas> schemas;
};

// x-wso2-mutual-ssl (WSO2 MGW 3.x): a client certificate verified by the HTTPS listener
// ([mutualSSLConfig]) is required on the API's secured resources, or taken when sent.
enum class MutualTls { kOff, kOptional, kMandatory };

// One plan of an API (issue 26 item 1; Gravitee's plans): the schemes it takes, its subscription
// tier and an optional selection rule. A request gets the first plan, in the definition's order,
// whose security takes the request's credential and whose rule holds.
struct ApiPlan {
  std::string name;
  SchemeSet security;  // api_key, oauth2, basic (none: the plan takes any credential)
  std::string tier;    // the subscription-level policy (SPEC section 13); "" = the key's own
  bool subscriptionRequired = false;
  std::shared_ptr<const SelectionRule> rule;  // null: always holds
  std::string ruleText;                       // as written, for the log
  std::uint32_t metricsId = 0;                // mgw_plan_requests_total's id (0 = none)
};

struct ApiDefinition {
  std::string name;
  std::string version;
  std::string context;  // "/pizzashack/1.0.0", no trailing slash
  std::vector<Resource> resources;
  Endpoints production;
  Endpoints sandbox;
  std::vector<KeySource> keySources = {{KeyLocation::kHeader, "apikey"},
                                       {KeyLocation::kQuery, "apikey"}};
  bool propagateApiKey = false;
  bool subscriptionRequired = false;
  // ';' parameters in path segments (issue 22 item 6): the API's own choice as loaded
  // (allowPathParameters, x-mgw-allow-path-parameters), and the one in force (its own, else
  // [apis] allowPathParameters) that buildApis sets.
  std::optional<bool> ownAllowPathParameters;
  bool allowPathParameters = false;
  std::string authHeader = "Authorization";  // where bearer tokens come (x-wso2-auth-header)
  MutualTls mutualTls = MutualTls::kOff;     // x-wso2-mutual-ssl
  // x-wso2-application-security optional: true with x-wso2-mutual-ssl: mandatory: the verified
  // client certificate alone may be the caller (WSO2's "mutual SSL or application security").
  bool certificateSuffices = false;
  int timeoutSeconds = 30;        // for the backend's response head, and between body reads
  int connectTimeoutSeconds = 5;  // TCP connect plus TLS handshake
  std::string throttlingTier;     // x-wso2-throttling-tier / throttlingTier; empty = none
  std::string source;             // "conf/micro-gw.conf:42" or the definition file, for messages
  // CORS (SPEC section 15): its own policy (x-wso2-cors, or [[apis.api]] cors) as loaded, and the
  // one in force (its own, else the global [cors]) that buildApis sets; null = CORS off.
  std::optional<config::CorsConfig> corsConfig;
  std::shared_ptr<const CorsPolicy> cors;
  std::uint32_t metricsId = 0;  // the metrics registry's id for name:version (0 = none)
  // Its plans in order (issue 26 item 1); empty: one implicit plan that takes every credential
  // the resources take, with the key's own tier (today's behaviour).
  std::vector<ApiPlan> plans;
  // Its publishers (issue 26; [[apis.api]] publishers, x-mgw-publishers): users who see the
  // subscriptions to it and manage the per-subscription keys bound to it, but may not renew or
  // revoke an application's shared key.
  std::vector<std::string> publishers;
  // Schema validation (issue 27): the API's own choice (x-mgw-validation) as loaded, and the one
  // in force (its own, else [validationConfig]) that buildApis sets.
  std::optional<bool> ownRequestValidation;
  std::optional<bool> ownResponseValidation;
  bool requestValidation = false;
  bool responseValidation = false;
  // What GET /apikey/apis/definition serves (apis/public_definition.h): the loaded document as
  // JSON text without extensions and backend addresses, or the one generated for [[apis.api]].
  std::shared_ptr<const std::string> publicDefinition;
};

}  // namespace mgw::gateway
