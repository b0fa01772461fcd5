#include "config/wso2_keys.h"

#include <string>

namespace mgw::config {
namespace {

using T = Wso2KeyTreatment;

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    out.push_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

// True when pattern's segments match the first pattern-length segments of path ('*' = any one).
bool matchesPrefix(const std::vector<std::string_view>& pattern,
                   const std::vector<std::string_view>& path) {
  if (pattern.size() > path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != "*" && pattern[i] != path[i]) return false;
  }
  return true;
}

}  // namespace

// The keys of WSO2 MGW 3.2's default-micro-gw.conf.template and of the configuration instances its
// gateway reads (components/micro-gateway-core .../constants), less the ones micro-gw honours:
// listenerConfig host, httpPort, httpsPort, keyStorePath/Password, trustStorePath/Password;
// b7a.users.<name>.password; apikey.tokenConfigs and apikey.issuer (audience included); caching
// tokenCacheExpiryTime, tokenCacheCapacity; server.timestampSkew.
const std::vector<Wso2Key>& wso2Keys() {
  static const std::vector<Wso2Key> kKeys = {
      {"listenerConfig.tokenListenerPort", T::kIgnored,
       "micro-gw serves /apikey on httpsPort, not on a port of its own"},
      {"listenerConfig.keepAlive", T::kIgnored,
       "keep-alive is always on; see keepAliveTimeoutSeconds and keepAliveMaxRequests"},
      {"listenerConfig.maxPipelinedRequests", T::kIgnored,
       "pipelined requests are answered in order without a separate limit"},
      {"listenerConfig.maxUriLength", T::kIgnored,
       "the request line counts against maxHeaderBytes"},
      {"listenerConfig.maxHeaderSize", T::kIgnored, "use maxHeaderBytes"},
      {"listenerConfig.maxEntityBodySize", T::kIgnored, "use maxRequestBytes"},
      {"authConfig", T::kIgnored,
       "the Authorization header carries basic auth and bearer tokens; the API key is "
       "always removed before forwarding"},
      {"keyManager", T::kIgnored, "micro-gw does not call a key manager (no introspection)"},
      {"keymanager", T::kIgnored, "micro-gw does not call a key manager (no introspection)"},
      {"tokenRevocationConfig", T::kIgnored,
       "revocations are micro-gw's own (POST /apikey/revoke), not received over JMS"},
      {"caching.tokenCacheEvictionFactor", T::kIgnored,
       "the cache evicts the oldest entries when full"},
      {"analytics", T::kIgnored, "no analytics are published (see the Prometheus metrics)"},
      {"b7a.observability", T::kIgnored, "see [observability] and GET /metrics"},
      {"b7a.log", T::kIgnored, "micro-gw logs JSON lines at its own levels"},
      {"b7a.http", T::kIgnored, "the access log is always written"},
      {"http2", T::kIgnored, "micro-gw speaks HTTP/1.1"},
      {"httpClients", T::kIgnored,
       "backends are always verified (host name and truststore) over TLS 1.2+; there is no "
       "proxy or HTTP/2 upstream"},
      {"mutualSSLConfig.protocolName", T::kIgnored, "the HTTPS listener speaks TLS"},
      {"mutualSSLConfig.protocolVersions", T::kIgnored,
       "the HTTPS listener speaks TLS 1.2 and 1.3 only"},
      {"mutualSSLConfig.ciphers", T::kIgnored,
       "the HTTPS listener offers ECDHE with AEAD ciphers only (TLS 1.2) and TLS 1.3's suites"},
      {"mutualSSLConfig.certificateHeaderName", T::kIgnored,
       "a client certificate is taken from the TLS handshake only, never from a header a load "
       "balancer sets (mutual TLS must end at micro-gw)"},
      {"mutualSSLConfig.isClientCertificateValidationEnabled", T::kIgnored,
       "a client certificate is taken from the TLS handshake only and always verified"},
      {"mutualSSLConfig.api", T::kRefused,
       "per-API certificate aliases are not served: an API with x-wso2-mutual-ssl accepts every "
       "certificate the truststore's CAs issued; ignoring the lists would open those APIs to "
       "all of them, so remove the table knowingly"},
      {"throttlingConfig", T::kIgnored,
       "no traffic manager: throttling is local (policies.yaml and [throttling])"},
      {"jwtGeneratorConfig.claimDialect", T::kIgnored,
       "the backend JWT's claims are micro-gw's (see [jwtGenerator] claims)"},
      {"jwtGeneratorConfig.restrictedClaims", T::kIgnored,
       "the backend JWT carries only the claims [jwtGenerator] claims lists"},
      {"jwtGeneratorConfig.audience", T::kIgnored, "the backend JWT's aud is the API"},
      {"jwtGeneratorConfig.certificateAlias", T::kIgnored, "the STS signing key signs"},
      {"jwtGeneratorConfig.privateKeyAlias", T::kIgnored, "the STS signing key signs"},
      {"jwtGeneratorConfig.generatorImpl", T::kIgnored, "no custom generator code is run"},
      {"jwtGeneratorConfig.claimRetrieval", T::kIgnored, "claims are not retrieved"},
      {"jwtGeneratorConfig.jwtGeneratorCaching.tokenCacheEnable", T::kIgnored,
       "backend JWTs are always cached, never past their exp"},
      {"jwtGeneratorConfig.jwtGeneratorCaching.tokenCacheExpiryTime", T::kIgnored,
       "a cached backend JWT is reused until shortly before its exp"},
      {"jwtGeneratorConfig.jwtGeneratorCaching.tokenCacheEvictionFactor", T::kIgnored,
       "the cache evicts the oldest entries when full"},
      {"server.header", T::kIgnored, "the Server header is not rewritten"},
      {"server.headerConf", T::kIgnored, "response headers are relayed as the backend sent them"},
      {"jwtTokenConfig.consumerKeyClaim", T::kIgnored,
       "subscriptions are read from the token's subscribedAPIs"},
      {"jwtTokenConfig.claimMapperClassName", T::kIgnored, "claims are not mapped"},
      {"jwtTokenConfig.remoteUserClaimRetrievalEnabled", T::kIgnored,
       "claims are not retrieved from a key manager"},
      {"jwtTokenConfig.claims", T::kIgnored, "claims are not mapped"},
      {"apim.eventHub", T::kIgnored, "micro-gw does not pull APIs or keys from API Manager"},
      {"apim.credentials", T::kIgnored, "micro-gw does not call API Manager"},
  };
  return kKeys;
}

const Wso2Key* findWso2Key(std::string_view dottedPath) {
  const auto path = segments(dottedPath);
  for (const Wso2Key& key : wso2Keys()) {
    if (matchesPrefix(segments(key.path), path)) return &key;
  }
  return nullptr;
}

bool isWso2Parent(std::string_view dottedPath) {
  const auto path = segments(dottedPath);
  for (const Wso2Key& key : wso2Keys()) {
    const auto pattern = segments(key.path);
    if (pattern.size() <= path.size()) continue;
    bool below = true;  // path is a leading part of the entry ("*" in the entry matches any name)
    for (std::size_t i = 0; i < path.size(); ++i)
      below = below && (pattern[i] == "*" || pattern[i] == path[i]);
    if (below) return true;
  }
  return false;
}

}  // namespace mgw::config
