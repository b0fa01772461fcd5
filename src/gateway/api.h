// An API as the gateway serves it, whether declared inline in micro-gw.conf or read from an
// OpenAPI/Swagger definition.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mgw::gateway {

enum class KeyLocation { kHeader, kQuery };

struct KeySource {
  KeyLocation in;
  std::string name;  // header names compare case-insensitively, query names exactly
};

struct Resource {
  std::string method;          // upper case, "*" for any (inline APIs)
  std::string pathTemplate;    // "/menu", "/order/{orderId}", "/*" for anything (inline APIs)
  bool secured = true;         // false: x-wso2-disable-security or security: []
  std::string throttlingTier;  // x-wso2-throttling-tier on the operation; empty = none
};

struct Endpoints {
  std::vector<std::string> urls;  // http:// or https://, tried in order when failover
  bool failover = false;
  bool empty() const { return urls.empty(); }
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
  int timeoutSeconds = 30;        // for the backend's response head, and between body reads
  int connectTimeoutSeconds = 5;  // TCP connect plus TLS handshake
  std::string throttlingTier;     // x-wso2-throttling-tier / throttlingTier; empty = none
  std::string source;             // "conf/micro-gw.conf:42" or the definition file, for messages
  std::uint32_t metricsId = 0;    // the metrics registry's id for name:version (0 = none)
};

}  // namespace mgw::gateway
