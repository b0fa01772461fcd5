// The configuration as plain structs. Only config_loader.cc includes toml11: every other module
// sees these structs, already validated (types, ranges, allowed values) and with paths resolved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/cors_config.h"

namespace mgw::config {

// HTTP/2 to clients (RFC 9113): what a connection may cost, and the attacks refused. Defaults
// documented in conf/micro-gw.conf.
struct Http2Config {
  bool cleartext = true;                     // h2c with prior knowledge on the HTTP listener
  std::uint32_t maxConcurrentStreams = 100;  // SETTINGS_MAX_CONCURRENT_STREAMS
  std::uint32_t streamWindowBytes = 262144;  // SETTINGS_INITIAL_WINDOW_SIZE: request body bytes
                                             // buffered per stream at most
  std::uint32_t connectionWindowBytes = 1048576;  // the connection's window: all its streams
  std::uint32_t resetBurst = 200;      // RST_STREAM from a client: token bucket (CVE-2023-44487)
  std::uint32_t resetsPerSecond = 33;  // refilled per second; empty: GOAWAY ENHANCE_YOUR_CALM
  std::uint32_t controlFramesPerSecond = 50;  // SETTINGS and PING frames (burst 10x), then GOAWAY
  std::uint32_t maxContinuations = 8;  // CONTINUATION frames per header block (CVE-2024-27316)
};

struct ListenerConfig {
  std::string host = "127.0.0.1";
  int httpPort = 9090;       // 0 = any free port, -1 = off
  int httpsPort = 9095;      // 0 = any free port, -1 = off
  std::string keyStorePath;  // resolved; default runtime/security/micro-gw-tls.pem
  std::string keyStorePassword;
  std::string trustStorePath;  // resolved; default runtime/security/truststore (folder of PEM)
  std::string trustStorePassword;
  int ioThreads = 0;      // event-loop threads; 0 at load time becomes one per core
  int workerThreads = 0;  // blocking-work pool (argon2id, SQLite); 0 at load time becomes cores
  int maxConnections = 10000;          // concurrent client connections, both listeners together
  int maxConnectionsPerAddress = 256;  // from one client address (IPv6: a /64); 0 = no cap
  std::size_t maxRequestBytes = 10 * 1024 * 1024;
  std::size_t maxHeaderBytes = 16384;  // the whole request head: request line and fields
  std::size_t maxHeaderCount = 100;
  int headerTimeoutSeconds = 10;  // the whole head must arrive within this, from its first byte
  int bodyTimeoutSeconds = 30;    // longest wait for the next body bytes from a client
  // A request body slower than this on average past its first 5 seconds is cut off with 408
  // (Kestrel's MinRequestBodyDataRate: 240 bytes/s after a 5 s grace); 0 = no minimum.
  int minBodyBytesPerSecond = 240;
  // A forwarded request's body up to requestBufferBytes is read whole before a backend connection
  // is taken (nginx's proxy_request_buffering); a larger one streams. false = always stream.
  bool requestBuffering = true;
  std::size_t requestBufferBytes = 1024 * 1024;
  // Backend connections in use at once per origin (scheme://host:port), every I/O thread
  // together; past it an exchange waits up to 1 s for one, then 503.
  int maxConnectionsPerBackend = 256;
  int writeTimeoutSeconds = 30;
  int keepAliveTimeoutSeconds = 5;
  int keepAliveMaxRequests = 1000;
  std::vector<std::string> trustedProxies;  // CIDRs whose X-Forwarded-For is believed
  Http2Config http2;                        // the http2* keys
  int hstsMaxAge = 31536000;  // Strict-Transport-Security max-age on HTTPS answers; 0 = not sent
  // Origins (besides the listener's own) whose pages may call /apikey and the key management API.
  std::vector<std::string> managementAllowedOrigins;
};

struct UserConfig {
  std::string name;
  std::string password;                          // $argon2id$..., @sha256:{hex} or 40-hex SHA-1
  std::vector<std::string> roles;                // "admin"
  std::optional<std::vector<std::string>> apis;  // "Name:version" or "Name:*"
  std::string tier = "Unlimited";  // subscription tier written into this user's keys (SPEC 13)
  // WSO2 MGW 3.x: the OAuth2 scopes this user holds when calling a resource with basic auth (a
  // resource whose requirement names scopes needs one of them).
  std::vector<std::string> scopes;
  int line = 0;  // where [b7a.users.<name>] was declared, for later errors
};

struct AuthConfig {
  int maxFailures = 5;              // failures per (user name, client address) in the window
  int maxFailuresPerAddress = 20;   // failures per client address, any user names, in the window
  int failureWindowSeconds = 60;    // window, and the Retry-After given on 429
  int credentialCacheSeconds = 60;  // verified credentials kept in memory (keyed hash), 0 = off
  int keyLookupFailuresPerMinute = 100;  // unknown or invalid API keys per client address, then 429
  // argon2id checks running at once in the process (64 MiB each); more answer 503 with
  // Retry-After. 0 at load time becomes max(1, workerThreads / 2).
  int maxConcurrentPasswordChecks = 0;
};

struct IssuerConfig {
  bool enabled = true;
  std::string keyStorePath;  // resolved; default runtime/security/micro-gw-signing.pem
  std::string keyStorePassword;
  std::string issuer = "https://localhost:9095/apikey";
  std::string certificateAlias = "ballerina";
  std::int64_t validityTime = -1;            // seconds; <= 0 = no exp
  std::string signatureAlgorithm = "RS256";  // RS256, ES256, EdDSA
  std::string audience;                      // written as aud when set (WSO2 MGW 3.x key)
  // Issue 25, signing-key rotation: the key set folder (resolved; default signing-keys next to
  // keyStorePath) and how long `keystore rotate` publishes a new key before it signs (seconds).
  std::string keySetPath;
  std::int64_t rotationLeadTime = 24 * 3600;
  // Issue 25 item 4: signed keys issued as "<[apikey] keyPrefix>_<JWS>_<checksum>"
  // (common/key_format.h) so secret scanners recognise them. Off: WSO2 clients expect a bare JWT.
  bool keyPrefix = false;
};

struct IssuerApi {
  std::string name;
  std::vector<std::string> versions;  // trimmed; "*" = any
  int line = 0;                       // where it was declared, for later errors
};

struct TrustedIssuer {
  std::string issuer;
  std::string certificateAlias;
  std::string certificateFile;  // resolved; empty = truststore entry named certificateAlias
  bool validateAllowedAPIs = true;
  std::string audience;  // when set, a key's aud must name it (WSO2 MGW 3.x key)
};

// WSO2 MGW 3.x [[jwtTokenConfig]]: an issuer of OAuth2 bearer JWTs (API Manager's key manager).
struct JwtIssuerConfig {
  std::string issuer;
  std::string audience;          // when set, a token's aud must name it
  std::string certificateAlias;  // truststore alias of its certificate; a kid among several
  std::string certificateFile;   // resolved; PEM certificate or public key instead of the alias
  bool validateSubscription = false;  // its tokens' subscribedAPIs must name the API
  int line = 0;
};

struct ServerConfig {
  std::int64_t timestampSkewMs = 5000;
};

struct CachingConfig {
  bool enabled = true;
  int tokenCacheExpiryTime = 900;
  std::size_t tokenCacheCapacity = 10000;
};

// [[apis.api.plans]] (issue 26 item 1): one plan of an inline API. The rule is compiled where the
// API is built (apis/), which reports its errors with this line.
struct PlanConfig {
  std::string name;
  std::vector<std::string> security = {"api_key"};
  std::string tier;  // subscription-level policy; "" = the key's own
  bool subscriptionRequired = false;
  std::string selectionRule;  // "" = none
  int line = 0;
  int ruleLine = 0;  // where selectionRule is written
};

struct InlineApi {
  std::string name;
  std::string version;
  std::string context;
  std::vector<std::string> production;  // endpoint URLs; more than one = failover in order
  std::vector<std::string> sandbox;
  std::vector<std::string> security = {"api_key"};  // [] = open
  std::string apiKeyHeader = "apikey";
  std::string apiKeyQuery = "apikey";
  // Issue 26 item 4: the key may also come as "Authorization: Bearer <key>" (apiKeyBearer) and in
  // a cookie of this name (apiKeyCookie; "" = none). Both off by default.
  bool apiKeyBearer = false;
  std::string apiKeyCookie;
  bool propagateApiKey = false;
  bool subscriptionRequired = false;
  int timeoutSeconds = 30;         // backend response timeout
  int connectTimeoutSeconds = 5;   // backend connect (and TLS handshake) timeout
  std::string throttlingTier;      // API-level throttling policy; empty = none (SPEC section 13)
  int line = 0;                    // where it was declared, for later errors
  std::optional<CorsConfig> cors;  // its own cors table (SPEC section 15); else the global [cors]
  std::optional<bool> allowPathParameters;  // ';' in path segments; unset = [apis]' value
  std::vector<PlanConfig> plans;            // empty: one implicit plan
  // Issue 26: users who publish this API (see the subscriptions and the per-subscription keys on
  // it; may not renew or revoke an application's shared key).
  std::vector<std::string> publishers;
};

struct ApisConfig {
  std::vector<std::string> definitions;  // resolved paths of files or folders
  std::vector<InlineApi> inlineApis;
  // ';' parameters in path segments (/a;jsessionid=x): refused (400) unless allowed, since a
  // servlet container strips them and serves another resource than the one authorised.
  bool allowPathParameters = false;
};

struct StorageConfig {
  std::string path;  // resolved; default runtime/data/micro-gw.db
  // Live (neither revoked nor expired) opaque keys one user may hold; POST /apikeys answers 409
  // beyond it (issue 22 item 5: keys are cheap to make, and each one is a credential to keep).
  int maxKeysPerUser = 100;
};

// [jwtGenerator] (SPEC section 15): a signed JWT about the caller, sent to backends.
struct JwtGeneratorConfig {
  bool enabled = false;
  std::string header = "X-JWT-Assertion";
  std::string signingKey;  // resolved keystore path; "" = its own, generated at first start
  std::string signingKeyPassword;
  // WSO2 MGW 3.x [jwtGeneratorConfig]: signed by the STS key, as WSO2 signed with its keystore's
  // (a migrated backend verifies with that certificate); when signingKey is empty.
  bool signWithStsKey = false;
  std::string kid = "micro-gw-backend";  // its own kid in the JWKS
  std::string issuer = "micro-gw";
  int validitySeconds = 900;
  std::vector<std::string> claims = {"sub", "keytype", "application", "tier", "subscriber"};
  std::size_t cacheCapacity = 10000;  // tokens kept per (key, API)
  int line = 0;
};
// [cluster] (SPEC section 14): several nodes as one gateway over Redis. redis empty = one node.
struct ClusterConfig {
  std::string redis;          // "redis://HOST:PORT/DB" as written (validated at load), "" = off
  std::string redisPassword;  // AUTH; never logged
  bool redisTls = false;      // refused at load: this build's hiredis (0.14) has no TLS
  // Entries the change stream keeps (XADD MAXLEN ~): a node that falls further behind, or starts
  // after older changes were trimmed, has the whole state shared again (a stream gap).
  std::int64_t changeStreamLength = 100000;
};

// [throttling] and [[throttling.policy]] (SPEC section 13); the policies are resolved in
// throttle/policy.h (WSO2's defaults, then policies.yaml, then these).
struct ThrottlePolicyConfig {
  std::string name;
  std::string level;  // "api", "application", "subscription"
  std::int64_t count = 0;
  std::int64_t unitTime = 1;
  std::string timeUnit = "min";  // "sec", "min", "hour", "day" (and "ms")
  bool stopOnQuotaReach = true;
  int line = 0;
};
struct ThrottlingConfig {
  std::vector<ThrottlePolicyConfig> policies;
  std::string policiesFile;           // resolved; default <runtime home>/policies.yaml when present
  bool policiesFileDeclared = false;  // declared: a missing file is an error
  std::string unknownTier = "Unlimited";  // what an unknown tier in a key counts as
};

// [observability] (SPEC section 12): the plain-HTTP listener for /metrics and /health/*.
struct ObservabilityConfig {
  int metricsPort = 9797;  // 0 = any free port, -1 = off (no listener, nothing counted)
  std::string metricsHost = "127.0.0.1";
  int maxConnections = 64;  // its own budget, apart from [listenerConfig] maxConnections
};

// [mutualSSLConfig] (WSO2 API Microgateway 3.x's table): client certificates on the HTTPS listener,
// verified against the listener's truststore.
struct MutualSslConfig {
  std::string
      verifyClient;     // "" = not asked for (no table), "optional" (WSO2's default), "require"
  std::string crlPath;  // resolved; PEM certificate revocation lists; "" = none
};

// [portal] (issue 28): the developer portal page /portal on the HTTPS listener.
struct PortalConfig {
  // Unset: on when [listenerConfig] host is a loopback address (only this machine reaches the
  // page), off otherwise (a team turns it on knowingly: the page takes passwords from browsers).
  std::optional<bool> enabled;
  std::int64_t sessionLifetimeSeconds = 28800;  // a signed-in session ends after it (8 hours)

  bool enabledFor(bool loopbackListener) const { return enabled.value_or(loopbackListener); }
};

// [apikey] settings of opaque keys (issue 25): their format, rotation, last use, expiry warning.
struct OpaqueKeysConfig {
  // New opaque keys are "<keyPrefix>_<random>_<checksum>" (common/key_format.h).
  std::string keyPrefix = "mgw";
  // The longest grace period POST /apikeys/{id}/regenerate accepts (gracePeriodSeconds).
  std::int64_t maxGracePeriodSeconds = 7 * 24 * 3600;
  // Signed keys: record when each jti was last used (off: signed keys stay stateless).
  bool trackLastUsed = false;
  // How often the noted last uses are written to the store (one transaction each time); read at
  // start.
  int lastUsedWriteSeconds = 60;
  // A key this close to its expiry gets an API-Key-Expires response header; 0 = never.
  int expiryWarningDays = 7;
  // Basic-auth users (besides admins) who may call POST /apikeys/leaked and nothing else of it.
  std::vector<std::string> leakReporters;
};

// [validationConfig] (WSO2 MGW 3.x's table, issue 27): requests and responses checked against the
// API definition's schemas. An API's x-mgw-validation overrides the two switches.
struct ValidationConfig {
  bool enableRequestValidation = false;
  bool enableResponseValidation = false;
  std::size_t maxBodyBytes = 1024 * 1024;          // a validated request body; larger: 413
  std::size_t maxResponseBodyBytes = 1024 * 1024;  // a larger answer streams unvalidated (logged)
  bool enforceResponse = true;  // false: an invalid answer is logged and relayed, not replaced
};

// One WSO2 API Microgateway 3.x runtime endpoint override (config/endpoint_overrides.h):
// "<name>_prod_endpoint_0" = "http://...", "<name>_sand_basic_password" = "...", as given at the
// top level of micro-gw.conf, in the environment or as --<key>=<value> on the command line.
struct EndpointOverride {
  std::string key;
  std::string value;   // for a *_basic_password key a secret: never in a message or a log
  std::string origin;  // "the command line", "the environment", "conf/micro-gw.conf:3"
};

struct Config {
  std::string sourcePath;   // the file it was loaded from
  std::string runtimeHome;  // ${mgw-runtime.home}
  ListenerConfig listener;
  std::vector<UserConfig> users;
  AuthConfig auth;
  IssuerConfig tokenIssuer;
  std::vector<IssuerApi> issuerApis;
  bool tokenConfigsDeclared = false;  // false = the local issuer is the one trusted issuer
  std::vector<TrustedIssuer> trustedIssuers;
  std::vector<JwtIssuerConfig> jwtIssuers;  // [[jwtTokenConfig]]
  ServerConfig server;
  CachingConfig caching;
  ApisConfig apis;
  StorageConfig storage;
  OpaqueKeysConfig opaqueKeys;  // [apikey] keyPrefix, maxGracePeriodSeconds, ...
  CorsConfig cors;              // [cors]: the default for every API without its own
  JwtGeneratorConfig jwtGenerator;
  ClusterConfig cluster;
  ThrottlingConfig throttling;
  ObservabilityConfig observability;
  MutualSslConfig mutualSsl;
  PortalConfig portal;
  ValidationConfig validation;
  // WSO2 MGW 3.x endpoint overrides: one per key, the command line over the environment over the
  // file (Ballerina's config precedence); the file's only until the process adds the others.
  std::vector<EndpointOverride> endpointOverrides;
};

}  // namespace mgw::config
