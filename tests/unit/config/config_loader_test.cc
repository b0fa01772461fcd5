#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace mgw::config {
namespace {

const std::string kSourceDir = MGW_SOURCE_DIR;
const std::string kTestdata = std::string(MGW_TESTDATA_DIR) + "/config";
const std::string kHome = "/srv/mgw";
const std::string kArgon2 =
    "$argon2id$v=19$m=65536,t=2,p=1$mhu3QKphxZpAP7x8okRmHQ$"
    "AguW3eQx87y3wQAV4UArfJTlfIGJ2trKGbhzFsF9TUs";

LoadResult load(std::string_view toml) { return loadConfigFromString(toml, "test.conf", kHome); }

std::string allErrors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.toString() + "\n";
  return out;
}

// The one error of a result, after checking there is exactly one.
LoadError onlyError(const LoadResult& r) {
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 1u) << allErrors(r);
  return r.errors.empty() ? LoadError{} : r.errors.front();
}

Config loaded(std::string_view toml) {
  LoadResult r = load(toml);
  EXPECT_TRUE(r.ok()) << allErrors(r);
  return r.config.value_or(Config{});
}

// Sets or unsets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// --- the shipped reference configuration ------------------------------------------------------

TEST(ShippedConfig, LoadsWithoutErrors) {
  LoadResult r = loadConfig(kSourceDir + "/conf/micro-gw.conf", kSourceDir);
  ASSERT_TRUE(r.ok()) << allErrors(r);
  EXPECT_TRUE(r.warnings.empty());
  const Config& c = *r.config;
  EXPECT_EQ(c.listener.host, "127.0.0.1");
  EXPECT_EQ(c.listener.httpPort, 9090);
  EXPECT_EQ(c.listener.httpsPort, 9095);
  EXPECT_EQ(c.listener.keyStorePath, kSourceDir + "/runtime/security/micro-gw-tls.pem");
  EXPECT_EQ(c.listener.trustStorePath, kSourceDir + "/runtime/security/truststore");
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].name, "admin");
  EXPECT_EQ(c.users[0].password.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(c.users[0].roles, std::vector<std::string>{"admin"});
  EXPECT_FALSE(c.users[0].apis.has_value());
  EXPECT_TRUE(c.tokenIssuer.enabled);
  EXPECT_EQ(c.tokenIssuer.issuer, "https://localhost:9095/apikey");
  EXPECT_EQ(c.tokenIssuer.certificateAlias, "ballerina");
  EXPECT_EQ(c.tokenIssuer.validityTime, -1);
  EXPECT_EQ(c.tokenIssuer.signatureAlgorithm, "RS256");
  EXPECT_EQ(c.tokenIssuer.keyStorePath, kSourceDir + "/runtime/security/micro-gw-signing.pem");
  ASSERT_EQ(c.issuerApis.size(), 2u);
  EXPECT_EQ(c.issuerApis[0].name, "PizzaShackAPI");
  EXPECT_EQ(c.issuerApis[0].versions, std::vector<std::string>{"1.0.0"});
  EXPECT_EQ(c.issuerApis[1].name, "Swagger Petstore New");
  EXPECT_EQ(c.issuerApis[1].versions, (std::vector<std::string>{"1.0.0", "v1", "v2"}));
  EXPECT_FALSE(c.tokenConfigsDeclared);
  EXPECT_EQ(c.server.timestampSkewMs, 5000);
  EXPECT_TRUE(c.caching.enabled);
  EXPECT_EQ(c.caching.tokenCacheExpiryTime, 900);
  EXPECT_EQ(c.caching.tokenCacheCapacity, 10000u);
  EXPECT_EQ(c.apis.definitions, std::vector<std::string>{kSourceDir + "/samples/apis"});
  EXPECT_EQ(c.storage.path, kSourceDir + "/runtime/data/micro-gw.db");
  EXPECT_EQ(c.sourcePath, kSourceDir + "/conf/micro-gw.conf");
  EXPECT_EQ(c.runtimeHome, kSourceDir);
}

// The seed document's block, verbatim: an empty [apikey.issuer] parent and ${mgw-runtime.home}.
TEST(ShippedConfig, SeedIssuerBlockLoads) {
  Config c = loaded(R"(
[apikey.issuer]
  # API Key STS token configurations
  [apikey.issuer.tokenConfig]
    enabled=true
    keyStorePath="${mgw-runtime.home}/runtime/bre/security/ballerinaKeystore.p12"
    keyStorePassword="ballerina"
    issuer="https://localhost:9095/apikey"
    certificateAlias="ballerina"
    validityTime=-1
    [[apikey.issuer.api]]
      name="Swagger Petstore New"
      versions="1.0.0, v1, v2"
    [[apikey.issuer.api]]
      name="MyAPI"
      versions="*"
)");
  EXPECT_EQ(c.tokenIssuer.keyStorePath, "/srv/mgw/runtime/bre/security/ballerinaKeystore.p12");
  EXPECT_EQ(c.tokenIssuer.keyStorePassword, "ballerina");
  ASSERT_EQ(c.issuerApis.size(), 2u);
  EXPECT_EQ(c.issuerApis[1].versions, std::vector<std::string>{"*"});
  EXPECT_EQ(c.issuerApis[1].line, 14);
}

TEST(Defaults, EmptyFileGivesDocumentedDefaults) {
  Config c = loaded("");
  EXPECT_EQ(c.listener.httpPort, 9090);
  EXPECT_EQ(c.listener.httpsPort, 9095);
  EXPECT_EQ(c.listener.maxRequestBytes, 10u * 1024 * 1024);
  EXPECT_EQ(c.listener.keyStorePath, "/srv/mgw/runtime/security/micro-gw-tls.pem");
  EXPECT_EQ(c.listener.trustStorePath, "/srv/mgw/runtime/security/truststore");
  EXPECT_EQ(c.tokenIssuer.keyStorePath, "/srv/mgw/runtime/security/micro-gw-signing.pem");
  EXPECT_EQ(c.storage.path, "/srv/mgw/runtime/data/micro-gw.db");
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(c.listener.ioThreads, cores);
  EXPECT_EQ(c.listener.workerThreads, cores);
  EXPECT_EQ(c.listener.maxHeaderBytes, 16384u);
  EXPECT_EQ(c.listener.maxConnections, 10000);
  EXPECT_EQ(c.listener.headerTimeoutSeconds, 10);
  EXPECT_EQ(c.listener.bodyTimeoutSeconds, 30);
  EXPECT_TRUE(c.users.empty());
  EXPECT_FALSE(c.tokenConfigsDeclared);
}

// Issue 22 items 3 and 4: the budgets a client shares with others.
TEST(Defaults, SharedResourceBudgets) {
  Config c = loaded("[listenerConfig]\nworkerThreads = 5\n");
  EXPECT_EQ(c.auth.maxConcurrentPasswordChecks, 2);  // half the workers
  EXPECT_EQ(c.listener.maxConnectionsPerAddress, 256);
  EXPECT_EQ(c.observability.maxConnections, 64);
  EXPECT_EQ(loaded("[listenerConfig]\nworkerThreads = 1\n").auth.maxConcurrentPasswordChecks, 1);
  c = loaded(
      "[listenerConfig]\nmaxConnectionsPerAddress = 0\n[authentication]\n"
      "maxConcurrentPasswordChecks = 7\n[observability]\nmaxConnections = 3\n");
  EXPECT_EQ(c.auth.maxConcurrentPasswordChecks, 7);
  EXPECT_EQ(c.listener.maxConnectionsPerAddress, 0);
  EXPECT_EQ(c.observability.maxConnections, 3);
  EXPECT_FALSE(load("[listenerConfig]\nmaxConnectionsPerAddress = -1\n").ok());
  EXPECT_FALSE(load("[authentication]\nmaxConcurrentPasswordChecks = -1\n").ok());
  EXPECT_FALSE(load("[observability]\nmaxConnections = 0\n").ok());
}

TEST(Defaults, PortalOnForLoopbackOnlyUnlessSet) {
  Config c = loaded("");
  EXPECT_FALSE(c.portal.enabled.has_value());
  EXPECT_TRUE(c.portal.enabledFor(true));
  EXPECT_FALSE(c.portal.enabledFor(false));
  EXPECT_EQ(c.portal.sessionLifetimeSeconds, 28800);
  c = loaded("[portal]\nenabled = true\nsessionLifetime = 600\n");
  EXPECT_TRUE(c.portal.enabledFor(false));
  EXPECT_EQ(c.portal.sessionLifetimeSeconds, 600);
  EXPECT_FALSE(loaded("[portal]\nenabled = false\n").portal.enabledFor(true));
  EXPECT_FALSE(load("[portal]\nsessionLifetime = 59\n").ok());
  EXPECT_FALSE(load("[portal]\nenabled = \"yes\"\n").ok());
  EXPECT_FALSE(load("[portal]\nlifetime = 600\n").ok());  // an unknown key is an error
}

TEST(Defaults, LastUsedWriteInterval) {
  EXPECT_EQ(loaded("").opaqueKeys.lastUsedWriteSeconds, 60);
  EXPECT_EQ(loaded("[apikey]\nlastUsedWriteSeconds = 1\n").opaqueKeys.lastUsedWriteSeconds, 1);
  const LoadError zero = onlyError(load("[apikey]\nlastUsedWriteSeconds = 0\n"));
  EXPECT_NE(zero.message.find("1 to 3600 seconds"), std::string::npos) << zero.message;
  EXPECT_FALSE(load("[apikey]\nlastUsedWriteSeconds = 3601\n").ok());
}

TEST(Defaults, EveryListenerAndAuthKeyIsRead) {
  Config c = loaded(R"(
[listenerConfig]
  host = "0.0.0.0"
  httpPort = 0
  httpsPort = -1
  workerThreads = 3
  maxRequestBytes = 1024
  maxHeaderBytes = 512
  maxHeaderCount = 20
  readTimeoutSeconds = 7
  writeTimeoutSeconds = 8
  keepAliveTimeoutSeconds = 2
  keepAliveMaxRequests = 50
  trustedProxies = ["10.0.0.0/8", "::1", "192.168.1.1"]
  keyStorePassword = "a"
  trustStorePassword = "b"
[authentication]
  maxFailures = 3
  failureWindowSeconds = 30
  credentialCacheSeconds = 0
[apikey.issuer.tokenConfig]
  enabled = false
[server]
  timestampSkew = 0
[caching]
  enabled = false
  tokenCacheExpiryTime = 60
  tokenCacheCapacity = 5
)");
  EXPECT_EQ(c.listener.host, "0.0.0.0");
  EXPECT_EQ(c.listener.httpPort, 0);
  EXPECT_EQ(c.listener.httpsPort, -1);
  EXPECT_EQ(c.listener.workerThreads, 3);
  EXPECT_EQ(c.listener.maxRequestBytes, 1024u);
  EXPECT_EQ(c.listener.maxHeaderBytes, 512u);
  EXPECT_EQ(c.listener.maxHeaderCount, 20u);
  EXPECT_EQ(c.listener.bodyTimeoutSeconds, 7);  // readTimeoutSeconds, its former name
  EXPECT_EQ(c.listener.writeTimeoutSeconds, 8);
  EXPECT_EQ(c.listener.keepAliveTimeoutSeconds, 2);
  EXPECT_EQ(c.listener.keepAliveMaxRequests, 50);
  EXPECT_EQ(c.listener.trustedProxies.size(), 3u);
  EXPECT_EQ(c.listener.keyStorePassword, "a");
  EXPECT_EQ(c.listener.trustStorePassword, "b");
  EXPECT_EQ(c.auth.maxFailures, 3);
  EXPECT_EQ(c.auth.failureWindowSeconds, 30);
  EXPECT_EQ(c.auth.credentialCacheSeconds, 0);
  EXPECT_FALSE(c.tokenIssuer.enabled);
  EXPECT_EQ(c.server.timestampSkewMs, 0);
  EXPECT_FALSE(c.caching.enabled);
  EXPECT_EQ(c.caching.tokenCacheExpiryTime, 60);
  EXPECT_EQ(c.caching.tokenCacheCapacity, 5u);
}

// --- error kinds: file, line, key, what was wrong, what is allowed ----------------------------

TEST(Errors, UnknownKeySuggestsClosest) {
  const std::string path = kTestdata + "/unknown_key.conf";
  LoadError e = onlyError(loadConfig(path, kHome));
  EXPECT_EQ(e.file, path);
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.key, "[listenerConfig] httpPrt");
  std::string text = e.toString();
  EXPECT_EQ(
      text.rfind(path + ":3: [listenerConfig] httpPrt = 9090: unknown key (did you mean httpPort?)",
                 0),
      0u)
      << text;
  EXPECT_NE(text.find("allowed in [listenerConfig]: host, httpPort, httpsPort"), std::string::npos)
      << text;
}

TEST(Errors, UnknownKeyCaseOnlyDifferenceSuggests) {
  LoadError e = onlyError(load("[caching]\nTokenCacheCapacity = 3\n"));
  EXPECT_NE(e.message.find("did you mean tokenCacheCapacity?"), std::string::npos) << e.toString();
}

TEST(Errors, UnknownTable) {
  // ([jwtTokenConfig] was the example here until issue 16 made it a WSO2 table micro-gw reads.)
  LoadError e = onlyError(load("\n[gatewayConfig]\n  enabled = true\n"));
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.key, "[gatewayConfig]");
  EXPECT_EQ(e.message.rfind("unknown table; allowed at the top level: listenerConfig, b7a,", 0), 0u)
      << e.toString();

  LoadError typo = onlyError(load("[cachng]\nenabled = true\n"));
  EXPECT_EQ(typo.key, "[cachng]");
  EXPECT_NE(typo.message.find("did you mean caching?"), std::string::npos) << typo.toString();

  LoadError nested = onlyError(load("[apikey.issuer.tokenConfgi]\nenabled = true\n"));
  EXPECT_EQ(nested.key, "[apikey.issuer.tokenConfgi]");
  EXPECT_NE(nested.message.find("did you mean tokenConfig?"), std::string::npos)
      << nested.toString();
}

TEST(Errors, TopLevelKeyOutsideATable) {
  LoadError e = onlyError(load("httpPort = 9090\n"));
  EXPECT_EQ(
      e.toString().rfind("test.conf:1: httpPort = 9090: unknown key; allowed at the top level", 0),
      0u)
      << e.toString();
}

TEST(Errors, WrongType) {
  LoadError e = onlyError(load("[listenerConfig]\nhttpPort = \"9090\"\n"));
  EXPECT_EQ(e.toString(),
            "test.conf:2: [listenerConfig] httpPort = \"9090\": wrong type: expected an integer, "
            "got a string");
  LoadError b = onlyError(load("[caching]\nenabled = 1\n"));
  EXPECT_EQ(b.toString(),
            "test.conf:2: [caching] enabled = 1: wrong type: expected a boolean (true or false), "
            "got an integer");
  LoadError t = onlyError(load("listenerConfig = 1\n"));
  EXPECT_NE(t.message.find("expected a table ([listenerConfig])"), std::string::npos)
      << t.toString();
}

TEST(Errors, BadPort) {
  LoadError e = onlyError(load("[listenerConfig]\n  httpsPort = 70000\n"));
  EXPECT_EQ(e.toString(),
            "test.conf:2: [listenerConfig] httpsPort = 70000: must be between -1 and 65535 "
            "(0 = any free port, -1 = listener off)");
  EXPECT_FALSE(load("[listenerConfig]\nhttpPort = -2\n").ok());
  EXPECT_TRUE(load("[listenerConfig]\nhttpPort = 65535\n").ok());
}

TEST(Errors, StsWithoutHttpsIsAWarning) {
  LoadResult r = load("[listenerConfig]\nhttpPort = 9090\nhttpsPort = -1\n");
  ASSERT_TRUE(r.ok()) << allErrors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].line, 3);
  EXPECT_EQ(r.warnings[0].key, "[listenerConfig] httpsPort");
  EXPECT_TRUE(
      load("[listenerConfig]\nhttpsPort = -1\n[apikey.issuer.tokenConfig]\nenabled = false\n")
          .warnings.empty());
}

TEST(Errors, BothListenersOffOrSamePort) {
  LoadError off = onlyError(load("[listenerConfig]\nhttpPort = -1\nhttpsPort = -1\n"));
  EXPECT_NE(off.message.find("at least one listener"), std::string::npos);
  LoadError same = onlyError(load("[listenerConfig]\nhttpPort = 8000\nhttpsPort = 8000\n"));
  EXPECT_NE(same.message.find("different ports"), std::string::npos);
  EXPECT_TRUE(load("[listenerConfig]\nhttpPort = 0\nhttpsPort = 0\n").ok());
}

TEST(Errors, NonPositiveLimits) {
  for (const char* key :
       {"maxRequestBytes", "maxHeaderBytes", "maxHeaderCount", "readTimeoutSeconds",
        "writeTimeoutSeconds", "keepAliveTimeoutSeconds", "keepAliveMaxRequests"}) {
    LoadError e = onlyError(load(std::string("[listenerConfig]\n") + key + " = 0\n"));
    EXPECT_EQ(e.key, std::string("[listenerConfig] ") + key);
    EXPECT_NE(e.message.find("must be a positive number"), std::string::npos) << e.toString();
  }
  EXPECT_FALSE(load("[caching]\ntokenCacheCapacity = -1\n").ok());
  EXPECT_FALSE(load("[apis]\n[[apis.api]]\nname=\"a\"\nversion=\"1\"\ncontext=\"/a\"\n"
                    "production=\"http://x\"\ntimeoutSeconds = 0\n")
                   .ok());
  EXPECT_FALSE(load("[listenerConfig]\nworkerThreads = -1\n").ok());
  EXPECT_FALSE(load("[server]\ntimestampSkew = -1\n").ok());
}

TEST(Defaults, Http2KeysAndTheirRanges) {
  Config d = loaded("");
  EXPECT_TRUE(d.listener.http2.cleartext);
  EXPECT_EQ(d.listener.http2.maxConcurrentStreams, 100u);
  EXPECT_EQ(d.listener.http2.streamWindowBytes, 262144u);
  EXPECT_EQ(d.listener.http2.connectionWindowBytes, 1048576u);
  Config c = loaded(R"(
[listenerConfig]
  http2Cleartext = false
  http2MaxConcurrentStreams = 8
  http2StreamWindowBytes = 16384
  http2ConnectionWindowBytes = 65535
  http2ResetBurst = 5
  http2ResetsPerSecond = 2
  http2ControlFramesPerSecond = 3
  http2MaxContinuations = 0
)");
  EXPECT_FALSE(c.listener.http2.cleartext);
  EXPECT_EQ(c.listener.http2.maxConcurrentStreams, 8u);
  EXPECT_EQ(c.listener.http2.streamWindowBytes, 16384u);
  EXPECT_EQ(c.listener.http2.connectionWindowBytes, 65535u);
  EXPECT_EQ(c.listener.http2.resetBurst, 5u);
  EXPECT_EQ(c.listener.http2.resetsPerSecond, 2u);
  EXPECT_EQ(c.listener.http2.controlFramesPerSecond, 3u);
  EXPECT_EQ(c.listener.http2.maxContinuations, 0u);
  for (const char* bad :
       {"http2MaxConcurrentStreams = 0", "http2StreamWindowBytes = 1000",
        "http2StreamWindowBytes = 2147483648", "http2ResetsPerSecond = 0", "http2Cleartext = 1"}) {
    LoadError e = onlyError(load(std::string("[listenerConfig]\n") + bad + "\n"));
    EXPECT_EQ(e.key.rfind("[listenerConfig] http2", 0), 0u) << e.toString();
  }
}

TEST(Errors, ClusterChangeStreamLength) {
  LoadResult ok = load("[cluster]\nchangeStreamLength = 500\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.config->cluster.changeStreamLength, 500);
  EXPECT_EQ(load("").config->cluster.changeStreamLength, 100000);
  LoadError e = onlyError(load("[cluster]\nchangeStreamLength = 99\n"));
  EXPECT_EQ(e.key, "[cluster] changeStreamLength");
  EXPECT_NE(e.message.find("between 100 and 100000000"), std::string::npos) << e.toString();
}

// Issue 22 item 7: a cluster node never talks to a Redis without a password.
TEST(Errors, ClusterRequiresRedisPassword) {
  LoadError e = onlyError(load("[cluster]\nredis = \"redis://127.0.0.1:6379/0\"\n"));
  EXPECT_EQ(e.key, "[cluster] redisPassword");
  EXPECT_NE(e.message.find("required when [cluster] redis is set"), std::string::npos)
      << e.toString();
  EXPECT_TRUE(
      load("[cluster]\nredis = \"redis://127.0.0.1:6379/0\"\nredisPassword = \"s3cret\"\n").ok());
  EXPECT_TRUE(load("[cluster]\nchangeStreamLength = 500\n").ok());  // no redis: off
}

// Issue 22 item 6: ';' path parameters are refused unless [apis] or the API allows them.
TEST(Apis, AllowPathParameters) {
  EXPECT_FALSE(load("").config->apis.allowPathParameters);
  EXPECT_TRUE(load("[apis]\nallowPathParameters = true\n").config->apis.allowPathParameters);
  LoadResult inl = load(
      "[[apis.api]]\nname=\"a\"\nversion=\"1\"\ncontext=\"/a\"\nproduction=\"http://x\"\n"
      "allowPathParameters = true\n");
  ASSERT_TRUE(inl.ok());
  EXPECT_EQ(inl.config->apis.inlineApis.at(0).allowPathParameters, std::optional<bool>(true));
  EXPECT_FALSE(load("[apis]\nallowPathParameters = \"yes\"\n").ok());
}

TEST(Errors, BadAlgorithm) {
  const std::string path = kTestdata + "/bad_algorithm.conf";
  LoadError e = onlyError(loadConfig(path, kHome));
  EXPECT_EQ(e.toString(), path +
                              ":5: [apikey.issuer.tokenConfig] signatureAlgorithm = \"HS256\": "
                              "must be one of RS256, ES256, EdDSA");
}

TEST(Errors, SignedKeyPrefixIsASwitchForTheOnePrefix) {
  EXPECT_FALSE(loaded("").tokenIssuer.keyPrefix);  // off: WSO2 clients expect a bare JWT
  const Config on =
      loaded("[apikey]\nkeyPrefix = \"acme\"\n[apikey.issuer.tokenConfig]\nkeyPrefix = true\n");
  EXPECT_TRUE(on.tokenIssuer.keyPrefix);
  EXPECT_EQ(on.opaqueKeys.keyPrefix, "acme");
  LoadError e = onlyError(load("[apikey.issuer.tokenConfig]\nkeyPrefix = \"mgw\"\n"));
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(
      e.toString().find("must be true or false: signed keys are framed with [apikey] keyPrefix"),
      std::string::npos)
      << e.toString();
}

TEST(Errors, BadPasswordFormatIsNotEchoed) {
  LoadError e = onlyError(load("[b7a.users.bob]\npassword = \"hunter2\"\n"));
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.key, "[b7a.users.bob] password");
  EXPECT_TRUE(e.value.empty());
  EXPECT_EQ(e.toString().find("hunter2"), std::string::npos) << e.toString();
  EXPECT_NE(e.message.find("$argon2id$"), std::string::npos);
  EXPECT_NE(e.message.find("@sha256:<64 hex digits>"), std::string::npos);
  EXPECT_NE(e.message.find("40-hex-digit SHA-1"), std::string::npos);
  // Wrong length after @sha256:, and an argon2i (not id) string.
  EXPECT_FALSE(load("[b7a.users.bob]\npassword = \"@sha256:abcd\"\n").ok());
  EXPECT_FALSE(
      load("[b7a.users.bob]\npassword = \"$argon2i$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA\"\n").ok());
}

TEST(Errors, AcceptedPasswordFormats) {
  Config c = loaded("[b7a.users.a]\npassword = \"" + kArgon2 +
                    "\"\n"
                    "[b7a.users.b]\npassword = \"@sha256:" +
                    std::string(64, 'a') + "\"\n");
  ASSERT_EQ(c.users.size(), 2u);
  EXPECT_EQ(c.users[0].password, kArgon2);
  EXPECT_EQ(c.users[0].line, 1);
  EXPECT_EQ(c.users[1].line, 3);

  // SHA-1 (WSO2 legacy): accepted, with a warning.
  LoadResult legacy =
      load("[b7a.users.c]\npassword = \"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8\"\n");
  ASSERT_TRUE(legacy.ok()) << allErrors(legacy);
  ASSERT_EQ(legacy.warnings.size(), 1u);
  EXPECT_NE(
      legacy.warnings[0].toString().find("test.conf:2: [b7a.users.c] password: unsalted SHA-1"),
      std::string::npos)
      << legacy.warnings[0].toString();
}

TEST(Errors, UserScopesAsWso2WritesThemOrAsAList) {
  // WSO2 MGW 3.x (Ballerina's config auth store): one comma-separated string; a list works too.
  Config c = loaded("[b7a.users.a]\npassword = \"" + kArgon2 +
                    "\"\nscopes = \"read:pets, write:pets\"\n"
                    "[b7a.users.b]\npassword = \"" +
                    kArgon2 + "\"\nscopes = [\"write:petsNew\"]\n");
  ASSERT_EQ(c.users.size(), 2u);
  EXPECT_EQ(c.users[0].scopes, (std::vector<std::string>{"read:pets", "write:pets"}));
  EXPECT_EQ(c.users[1].scopes, (std::vector<std::string>{"write:petsNew"}));
  EXPECT_FALSE(load("[b7a.users.c]\npassword = \"" + kArgon2 + "\"\nscopes = 3\n").ok());
}

TEST(Errors, Wso2MillisecondsCacheTimeGetsAWarning) {
  LoadResult r = load("[caching]\ntokenCacheExpiryTime = 900000\n");
  ASSERT_TRUE(r.ok()) << allErrors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].toString().find("write 900 for the same cache time"), std::string::npos)
      << r.warnings[0].toString();
  EXPECT_EQ(r.config->caching.tokenCacheExpiryTime, 900000);  // seconds, as SPEC section 3 says
  EXPECT_TRUE(load("[caching]\ntokenCacheExpiryTime = 900\n").warnings.empty());
}

TEST(Errors, UserWithoutPasswordAndUnknownRole) {
  LoadResult r =
      load("[b7a.users.carol]\nroles = [\"admin\", \"root\"]\napis = [\"PizzaShackAPI\"]\n");
  ASSERT_EQ(r.errors.size(), 3u) << allErrors(r);
  EXPECT_EQ(r.errors[0].toString(),
            "test.conf:1: [b7a.users.carol] password: missing: every user needs a "
            "password ($argon2id$... from `micro-gw hash-password`, @sha256:<64 hex "
            "digits> or a 40-hex-digit SHA-1)");
  EXPECT_EQ(r.errors[1].toString(),
            "test.conf:2: [b7a.users.carol] roles = \"root\": unknown role; must be one of admin");
  EXPECT_NE(r.errors[2].toString().find(
                "test.conf:3: [b7a.users.carol] apis = \"PizzaShackAPI\": must be "
                "\"Name:version\""),
            std::string::npos)
      << r.errors[2].toString();
}

TEST(Errors, UserApisNarrowing) {
  Config c = loaded("[b7a.users.d]\npassword = \"" + kArgon2 +
                    "\"\napis = [\"PizzaShackAPI:1.0.0\", \"X:*\"]\n");
  ASSERT_TRUE(c.users[0].apis.has_value());
  EXPECT_EQ(c.users[0].apis->size(), 2u);
}

TEST(Errors, UnknownTrustedProxyFormat) {
  LoadError e = onlyError(load("[listenerConfig]\ntrustedProxies = [\"10.0.0.0/33\"]\n"));
  EXPECT_NE(e.message.find("CIDR"), std::string::npos);
}

// Issue 22 item 8: Strict-Transport-Security on the HTTPS listener, a year by default, 0 = off.
TEST(Errors, HstsMaxAge) {
  EXPECT_EQ(loaded("").listener.hstsMaxAge, 31536000);
  EXPECT_EQ(loaded("[listenerConfig]\nhstsMaxAge = 0\n").listener.hstsMaxAge, 0);
  EXPECT_EQ(loaded("[listenerConfig]\nhstsMaxAge = 600\n").listener.hstsMaxAge, 600);
  for (const char* bad : {"-1", "63072001", "\"1y\""}) {
    LoadError e = onlyError(load(std::string("[listenerConfig]\nhstsMaxAge = ") + bad + "\n"));
    EXPECT_NE(e.toString().find("hstsMaxAge"), std::string::npos) << e.toString();
  }
}

// --- substitution -----------------------------------------------------------------------------

TEST(Substitution, UnsetEnvVarIsAnErrorNamingIt) {
  ScopedEnv unset("MGW_TEST_NOT_SET", nullptr);
  LoadError e =
      onlyError(load("[listenerConfig]\n\n  keyStorePassword = \"${MGW_TEST_NOT_SET}\"\n"));
  EXPECT_EQ(e.toString(),
            "test.conf:3: [listenerConfig] keyStorePassword: environment variable "
            "MGW_TEST_NOT_SET is not set (write ${MGW_TEST_NOT_SET:-default} to give a default)");
}

TEST(Substitution, SetEnvVarAndDefault) {
  ScopedEnv set("MGW_TEST_HOST", "10.1.2.3");
  ScopedEnv unset("MGW_TEST_NOT_SET", nullptr);
  ScopedEnv empty("MGW_TEST_EMPTY", "");
  Config c = loaded(R"(
[listenerConfig]
  host = "${MGW_TEST_HOST}"
  keyStorePassword = "pre-${MGW_TEST_NOT_SET:-fallback}-post"
  trustStorePassword = "${MGW_TEST_EMPTY:-was-empty}"
[apikey.issuer.tokenConfig]
  issuer = "https://${MGW_TEST_HOST}:9095/apikey"
)");
  EXPECT_EQ(c.listener.host, "10.1.2.3");
  EXPECT_EQ(c.listener.keyStorePassword, "pre-fallback-post");
  EXPECT_EQ(c.listener.trustStorePassword, "was-empty");
  EXPECT_EQ(c.tokenIssuer.issuer, "https://10.1.2.3:9095/apikey");
}

TEST(Substitution, IntegersAndBooleansFromEnvironment) {
  ScopedEnv port("MGW_TEST_PORT", "8443");
  Config c = loaded(
      "[listenerConfig]\nhttpsPort = \"${MGW_TEST_PORT}\"\nhttpPort = \"${MGW_TEST_NOT_SET:-0}\"\n"
      "[caching]\nenabled = \"${MGW_TEST_NOT_SET:-false}\"\n");
  EXPECT_EQ(c.listener.httpsPort, 8443);
  EXPECT_EQ(c.listener.httpPort, 0);
  EXPECT_FALSE(c.caching.enabled);
  ScopedEnv bad("MGW_TEST_PORT", "eighty");
  LoadError e = onlyError(load("[listenerConfig]\nhttpsPort = \"${MGW_TEST_PORT}\"\n"));
  EXPECT_NE(e.message.find("expected an integer after substitution, got \"eighty\""),
            std::string::npos);
}

TEST(Substitution, RuntimeHomeIsExpanded) {
  Config c = loaded("[storage]\npath = \"${mgw-runtime.home}/var/store.db\"\n");
  EXPECT_EQ(c.storage.path, "/srv/mgw/var/store.db");
  // A trailing '/' on the runtime home does not double the separator.
  LoadResult r = loadConfigFromString("[storage]\npath = \"${mgw-runtime.home}/x.db\"\n", "t.conf",
                                      "/opt/gw/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->storage.path, "/opt/gw/x.db");
  EXPECT_EQ(r.config->runtimeHome, "/opt/gw");
}

TEST(Substitution, MalformedReferences) {
  EXPECT_NE(onlyError(load("[listenerConfig]\nhost = \"${OOPS\"\n")).message.find("unterminated"),
            std::string::npos);
  EXPECT_NE(onlyError(load("[listenerConfig]\nhost = \"${1BAD}\"\n"))
                .message.find("not a valid reference"),
            std::string::npos);
}

// --- paths --------------------------------------------------------------------------------------

TEST(Paths, RelativeResolveAgainstRuntimeHomeAbsoluteStay) {
  Config c = loaded(R"(
[listenerConfig]
  keyStorePath = "runtime/security/tls.p12"
  trustStorePath = "/etc/ssl/certs"
[apikey.issuer.tokenConfig]
  keyStorePath = "./keys/../keys/signing.pem"
[apikey.tokenConfigs]
  issuer = "https://idp.example.com"
  certificateFile = "certs/idp.pem"
[storage]
  path = "data/gw.db"
)");
  EXPECT_EQ(c.listener.keyStorePath, "/srv/mgw/runtime/security/tls.p12");
  EXPECT_EQ(c.listener.trustStorePath, "/etc/ssl/certs");
  EXPECT_EQ(c.tokenIssuer.keyStorePath, "/srv/mgw/keys/signing.pem");
  EXPECT_EQ(c.trustedIssuers.at(0).certificateFile, "/srv/mgw/certs/idp.pem");
  EXPECT_EQ(c.storage.path, "/srv/mgw/data/gw.db");
}

TEST(Paths, DefinitionsMustExist) {
  LoadResult ok =
      loadConfigFromString("[apis]\ndefinitions = [\"config\"]\n", "t.conf", MGW_TESTDATA_DIR);
  ASSERT_TRUE(ok.ok()) << allErrors(ok);
  EXPECT_EQ(ok.config->apis.definitions, std::vector<std::string>{kTestdata});
  LoadError e = onlyError(load("[apis]\ndefinitions = \"samples/apsi\"\n"));
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("/srv/mgw/samples/apsi does not exist"), std::string::npos)
      << e.toString();
}

TEST(Paths, DefaultRuntimeHome) {
  ScopedEnv unset("MGW_RUNTIME_HOME", nullptr);
  EXPECT_EQ(defaultRuntimeHome("/opt/mgw/conf/micro-gw.conf"), "/opt/mgw");
  ScopedEnv set("MGW_RUNTIME_HOME", "/var/lib/mgw/");
  EXPECT_EQ(defaultRuntimeHome("/opt/mgw/conf/micro-gw.conf"), "/var/lib/mgw");
}

// --- trusted issuers and issuer APIs ----------------------------------------------------------

TEST(TokenConfigs, AbsentSingleTableOrArray) {
  EXPECT_FALSE(loaded("").tokenConfigsDeclared);

  Config single = loaded(R"(
[apikey.tokenConfigs]
  issuer = "https://localhost:9095/apikey"
  certificateAlias = "ballerina"
)");
  EXPECT_TRUE(single.tokenConfigsDeclared);
  ASSERT_EQ(single.trustedIssuers.size(), 1u);
  EXPECT_EQ(single.trustedIssuers[0].certificateAlias, "ballerina");
  EXPECT_TRUE(single.trustedIssuers[0].validateAllowedAPIs);
  EXPECT_TRUE(single.trustedIssuers[0].certificateFile.empty());

  Config array = loaded(R"(
[[apikey.tokenConfigs]]
  issuer = "https://a.example"
  certificateAlias = "a"
[[apikey.tokenConfigs]]
  issuer = "https://b.example"
  certificateAlias = "b"
  validateAllowedAPIs = false
)");
  EXPECT_TRUE(array.tokenConfigsDeclared);
  ASSERT_EQ(array.trustedIssuers.size(), 2u);
  EXPECT_EQ(array.trustedIssuers[1].issuer, "https://b.example");
  EXPECT_FALSE(array.trustedIssuers[1].validateAllowedAPIs);
}

TEST(TokenConfigs, IssuerAndKeyRequired) {
  LoadResult r = load("[[apikey.tokenConfigs]]\nvalidateAllowedAPIs = true\n");
  ASSERT_EQ(r.errors.size(), 2u) << allErrors(r);
  EXPECT_EQ(r.errors[0].key, "[[apikey.tokenConfigs]] issuer");
  EXPECT_EQ(r.errors[1].key, "[[apikey.tokenConfigs]] certificateAlias");
}

TEST(IssuerApis, VersionsSplitOnCommasAndTrimmed) {
  Config c = loaded(R"(
[[apikey.issuer.api]]
  name = "A"
  versions = " 1.0.0 ,v1,   v2 "
[[apikey.issuer.api]]
  name = "B"
  versions = "*"
[[apikey.issuer.api]]
  name = "C"
  versions = ["2.0", "3.0"]
)");
  ASSERT_EQ(c.issuerApis.size(), 3u);
  EXPECT_EQ(c.issuerApis[0].versions, (std::vector<std::string>{"1.0.0", "v1", "v2"}));
  EXPECT_EQ(c.issuerApis[1].versions, std::vector<std::string>{"*"});
  EXPECT_EQ(c.issuerApis[2].versions, (std::vector<std::string>{"2.0", "3.0"}));
}

TEST(IssuerApis, EmptyVersionMissingKeysAndDuplicates) {
  LoadError e = onlyError(load("[[apikey.issuer.api]]\nname = \"A\"\nversions = \"1.0,,2.0\"\n"));
  EXPECT_EQ(e.toString(),
            "test.conf:3: [[apikey.issuer.api]] versions = \"1.0,,2.0\": has an empty "
            "version; write \"1.0.0, v1\" or \"*\" (any version)");
  LoadResult missing = load("[[apikey.issuer.api]]\n");
  EXPECT_EQ(missing.errors.size(), 2u) << allErrors(missing);
  LoadError dup =
      onlyError(load("[[apikey.issuer.api]]\nname = \"A\"\nversions = \"1\"\n"
                     "[[apikey.issuer.api]]\nname = \"A\"\nversions = \"2\"\n"));
  EXPECT_EQ(dup.line, 4);
  EXPECT_NE(dup.message.find("duplicate API \"A\" (first declared at line 1)"), std::string::npos);
}

// --- inline APIs --------------------------------------------------------------------------------

TEST(InlineApis, EveryKeyIsRead) {
  Config c = loaded(R"(
[apis]
  [[apis.api]]
    name = "Echo"
    version = "1.0.0"
    context = "/echo/1.0.0"
    production = "http://127.0.0.1:8080/echo"
    sandbox = ["http://127.0.0.1:8081/a", "https://127.0.0.1:8082/b"]
    security = []
    apiKeyHeader = "X-API-Key"
    apiKeyQuery = "key"
    propagateApiKey = true
    subscriptionRequired = true
    timeoutSeconds = 5
    publishers = ["bob", "carol"]
  [[apis.api]]
    name = "Echo"
    version = "2.0.0"
    context = "/echo/2.0.0"
    production = ["http://127.0.0.1:8080/echo2"]
)");
  ASSERT_EQ(c.apis.inlineApis.size(), 2u);
  const InlineApi& a = c.apis.inlineApis[0];
  EXPECT_EQ(a.name, "Echo");
  EXPECT_EQ(a.context, "/echo/1.0.0");
  EXPECT_EQ(a.production, std::vector<std::string>{"http://127.0.0.1:8080/echo"});
  EXPECT_EQ(a.sandbox.size(), 2u);
  EXPECT_TRUE(a.security.empty());
  EXPECT_EQ(a.apiKeyHeader, "X-API-Key");
  EXPECT_EQ(a.apiKeyQuery, "key");
  EXPECT_TRUE(a.propagateApiKey);
  EXPECT_TRUE(a.subscriptionRequired);
  EXPECT_EQ(a.timeoutSeconds, 5);
  EXPECT_EQ(a.publishers, (std::vector<std::string>{"bob", "carol"}));  // issue 26
  EXPECT_EQ(a.line, 3);
  const InlineApi& b = c.apis.inlineApis[1];
  EXPECT_EQ(b.security, std::vector<std::string>{"api_key"});
  EXPECT_EQ(b.apiKeyHeader, "apikey");
  EXPECT_EQ(b.timeoutSeconds, 30);
  EXPECT_TRUE(b.publishers.empty());
  EXPECT_EQ(b.line, 16);
}

TEST(InlineApis, BadContextEndpointAndSecurity) {
  LoadResult r = load(R"([[apis.api]]
name = "A"
version = "1"
context = "a/"
production = "ftp://host/x"
security = ["oauth2"]
apiKeyHeader = "bad header"
)");
  ASSERT_EQ(r.errors.size(), 4u) << allErrors(r);
  EXPECT_EQ(r.errors[0].toString(),
            "test.conf:4: [[apis.api]] context = \"a/\": must start with '/', not end "
            "with '/', and hold no '//', '?', '#' or spaces (\"/pizzashack/1.0.0\")");
  EXPECT_EQ(r.errors[1].toString(),
            "test.conf:5: [[apis.api]] production = \"ftp://host/x\": must be an "
            "http://, https://, h2c:// or h2:// URL with a host (\"http://localhost:8080/api\")");
  EXPECT_EQ(r.errors[2].toString(),
            "test.conf:6: [[apis.api]] security = \"oauth2\": unknown security "
            "scheme; must be one of api_key, or [] for an open API");
  EXPECT_EQ(r.errors[3].line, 7);
  EXPECT_FALSE(
      load("[[apis.api]]\nname=\"A\"\nversion=\"1\"\ncontext=\"/a/\"\nproduction=\"http://x\"\n")
          .ok());
  EXPECT_FALSE(
      load(
          "[[apis.api]]\nname=\"A\"\nversion=\"1\"\ncontext=\"/apikey\"\nproduction=\"http://x\"\n")
          .ok());
}

// Issue 23: HTTP/2 backends in inline APIs (h2c:// cleartext, h2:// TLS); a scheme that is
// neither is refused naming the four.
TEST(InlineApis, Http2Endpoints) {
  Config c = loaded(R"(
[[apis.api]]
  name = "Echo"
  version = "1"
  context = "/echo.v1.Echo"
  production = "h2c://127.0.0.1:50051"
  sandbox = ["h2://127.0.0.1:50052"]
)");
  ASSERT_EQ(c.apis.inlineApis.size(), 1u);
  EXPECT_EQ(c.apis.inlineApis[0].production, std::vector<std::string>{"h2c://127.0.0.1:50051"});
  EXPECT_EQ(c.apis.inlineApis[0].sandbox, std::vector<std::string>{"h2://127.0.0.1:50052"});
  LoadResult r = load(R"([[apis.api]]
name = "A"
version = "1"
context = "/a"
production = "grpc://127.0.0.1:50051"
)");
  ASSERT_EQ(r.errors.size(), 1u) << allErrors(r);
  EXPECT_EQ(r.errors[0].toString(),
            "test.conf:5: [[apis.api]] production = \"grpc://127.0.0.1:50051\": must be an "
            "http://, https://, h2c:// or h2:// URL with a host (\"http://localhost:8080/api\")");
}

TEST(InlineApis, DuplicateNameVersionAndMissingKeys) {
  LoadResult r = load(R"([[apis.api]]
name = "A"
version = "1"
context = "/a"
production = "http://x"
[[apis.api]]
name = "A"
version = "1"
context = "/b"
production = "http://x"
)");
  LoadError e = onlyError(r);
  EXPECT_EQ(e.toString(),
            "test.conf:6: [[apis.api]] name: duplicate API A:1 (first declared at line 1); "
            "name:version must be unique");
  LoadResult missing = load("[[apis.api]]\nname = \"A\"\n");
  EXPECT_EQ(missing.errors.size(), 3u) << allErrors(missing);  // version, context, endpoints
}

// --- syntax and aggregation ---------------------------------------------------------------------

TEST(Syntax, ErrorNamesTheLine) {
  const std::string path = kTestdata + "/syntax_error.conf";
  LoadError e = onlyError(loadConfig(path, kHome));
  EXPECT_EQ(e.file, path);
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.toString().rfind(path + ":5: syntax error: ", 0), 0u) << e.toString();
  EXPECT_NE(e.message.find("missing value"), std::string::npos) << e.toString();

  LoadError dup = onlyError(load("[caching]\nenabled = true\nenabled = false\n"));
  EXPECT_EQ(dup.line, 3);
  EXPECT_NE(dup.message.find("already exists"), std::string::npos) << dup.toString();
}

TEST(Syntax, MissingFile) {
  LoadError e = onlyError(loadConfig("/nonexistent/micro-gw.conf", kHome));
  EXPECT_EQ(e.line, 0);
  EXPECT_EQ(e.toString().rfind("/nonexistent/micro-gw.conf: cannot read the configuration file", 0),
            0u)
      << e.toString();
}

TEST(Aggregation, EveryErrorIsReportedInFileOrder) {
  const std::string path = kTestdata + "/multiple_errors.conf";
  LoadResult r = loadConfig(path, kHome);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 5u) << allErrors(r);
  const int lines[] = {3, 4, 7, 8, 11};
  const char* keys[] = {"[listenerConfig] httpPort", "[listenerConfig] hots",
                        "[b7a.users.alice] password", "[b7a.users.alice] roles",
                        "[apikey.issuer.tokenConfig] signatureAlgorithm"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.errors[i].file, path);
    EXPECT_EQ(r.errors[i].line, lines[i]) << r.errors[i].toString();
    EXPECT_EQ(r.errors[i].key, keys[i]);
  }
  EXPECT_NE(r.errors[1].message.find("did you mean host?"), std::string::npos);
}

}  // namespace
}  // namespace mgw::config
