// The WSO2 API Microgateway 3.x key table (config/wso2_keys.h) and how the loader applies it.
#include "config/wso2_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config_loader.h"

namespace mgw::config {
namespace {

const std::string kWso2 = std::string(MGW_TESTDATA_DIR) + "/wso2";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

LoadResult load(std::string_view toml, const std::string& home = "/srv/mgw") {
  return loadConfigFromString(toml, "micro-gw.conf", home);
}

std::string all(const std::vector<LoadError>& list) {
  std::string out;
  for (const auto& e : list) out += e.toString() + "\n";
  return out;
}

std::size_t countContaining(const std::vector<LoadError>& list, const std::string& text) {
  std::size_t n = 0;
  for (const auto& e : list) n += e.toString().find(text) != std::string::npos;
  return n;
}

TEST(Wso2KeyTable, FindsKeysTablesAndWildcards) {
  ASSERT_NE(findWso2Key("listenerConfig.tokenListenerPort"), nullptr);
  EXPECT_EQ(findWso2Key("listenerConfig.tokenListenerPort")->treatment, Wso2KeyTreatment::kIgnored);
  // A whole table covers what is under it, keys WSO2's template does not list included.
  ASSERT_NE(findWso2Key("apim.eventHub"), nullptr);
  EXPECT_EQ(findWso2Key("apim.eventHub.service_url"), findWso2Key("apim.eventHub"));
  EXPECT_NE(findWso2Key("keymanager.security.oauth2.password"), nullptr);
  // Honoured since basic auth on resources is served ([b7a.users.<name>] scopes).
  EXPECT_EQ(findWso2Key("b7a.users.prometheus.scopes"), nullptr);
  // [mutualSSLConfig] is read by the loader since issue 24 item 7; its per-API alias lists are not.
  EXPECT_EQ(findWso2Key("mutualSSLConfig"), nullptr);
  EXPECT_EQ(findWso2Key("mutualSSLConfig.api.certificates")->treatment, Wso2KeyTreatment::kRefused);
  EXPECT_EQ(findWso2Key("mutualSSLConfig.ciphers")->treatment, Wso2KeyTreatment::kIgnored);
  // Mapped by the loader since issue 24 ([security] is read like micro-gw's own tables).
  EXPECT_EQ(findWso2Key("security.validateSubscriptions"), nullptr);
  // Not WSO2's, or honoured by micro-gw itself: not in the table.
  EXPECT_EQ(findWso2Key("listenerConfig.httpPort"), nullptr);
  EXPECT_EQ(findWso2Key("listenerConfig.tokenListenerPorts"), nullptr);
  EXPECT_EQ(findWso2Key("apim"), nullptr);
  EXPECT_EQ(findWso2Key("apimx.eventHub"), nullptr);
  EXPECT_EQ(findWso2Key("b7a.users.prometheus.password"), nullptr);
  EXPECT_TRUE(isWso2Parent("apim"));
  EXPECT_FALSE(isWso2Parent("apim.eventHub"));
  EXPECT_FALSE(isWso2Parent("nothing"));
  for (const Wso2Key& key : wso2Keys()) EXPECT_FALSE(key.why.empty()) << key.path;
}

TEST(Wso2Config, ApiKeyConfLoadsWithOneWarningPerIgnoredKey) {
  LoadResult r = load(readFile(kWso2 + "/api-key.conf"));
  ASSERT_TRUE(r.ok()) << all(r.errors);
  EXPECT_EQ(countContaining(r.warnings, "tokenListenerPort"), 1u) << all(r.warnings);
  EXPECT_EQ(countContaining(r.warnings, "[apim.eventHub]"), 1u) << all(r.warnings);
  EXPECT_EQ(countContaining(r.warnings, "WSO2 API Microgateway 3.x setting, ignored"), 3u)
      << all(r.warnings);
  const Config& c = *r.config;
  // ${ballerina.home} is WSO2's: <runtime home>/runtime (its bin/gateway sets it so).
  EXPECT_EQ(c.tokenIssuer.keyStorePath, "/srv/mgw/runtime/bre/security/ballerinaKeystore.p12");
  EXPECT_EQ(c.tokenIssuer.audience, "http://library.test/gateway");
  ASSERT_EQ(c.trustedIssuers.size(), 1u);
  // Issue 24 item 6: WSO2 3.2.10 never checked this audience; ignored with a warning.
  EXPECT_EQ(c.trustedIssuers[0].audience, "");
  EXPECT_EQ(countContaining(r.warnings, "[apikey.tokenConfigs] audience"), 1u) << all(r.warnings);
  LoadResult enforced = load(
      "[apikey.tokenConfigs]\nissuer = \"https://sts.test\"\n"
      "certificateFile = \"/srv/sts.pem\"\naudience = \"gw\"\n"
      "enforceAudience = true\n");
  ASSERT_TRUE(enforced.ok()) << all(enforced.errors);
  EXPECT_EQ(enforced.config->trustedIssuers[0].audience, "gw");
  EXPECT_EQ(countContaining(enforced.warnings, "audience"), 0u) << all(enforced.warnings);
  // micro-gw's own list form checks it as before.
  LoadResult list = load(
      "[[apikey.tokenConfigs]]\nissuer = \"https://sts.test\"\n"
      "certificateFile = \"/srv/sts.pem\"\naudience = \"gw\"\n");
  ASSERT_TRUE(list.ok()) << all(list.errors);
  EXPECT_EQ(list.config->trustedIssuers[0].audience, "gw");
  EXPECT_EQ(countContaining(list.warnings, "audience"), 0u) << all(list.warnings);
}

TEST(Wso2Config, ValidationConfLoads) {
  LoadResult r = load(readFile(kWso2 + "/validation.conf"));
  ASSERT_TRUE(r.ok()) << all(r.errors);
  // Honoured since issue 27: read, not warned about.
  EXPECT_EQ(countContaining(r.warnings, "[validationConfig]"), 0u) << all(r.warnings);
  EXPECT_TRUE(r.config->validation.enableRequestValidation);
  EXPECT_TRUE(r.config->validation.enableResponseValidation);
  EXPECT_EQ(r.config->validation.maxBodyBytes, 1024u * 1024u);
}

TEST(Wso2Config, KeysThatAreNotWso2sStayErrors) {
  LoadResult r = load("[listenerConfig]\ntokenListenerPorts = 1\n[apim]\nnotWso2 = 1\n[apim.x]\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 3u) << all(r.errors);
  EXPECT_EQ(countContaining(r.errors, "tokenListenerPorts = 1: unknown key"), 1u) << all(r.errors);
}

TEST(Wso2Config, RefusedKeys) {
  const auto r = load(
      "[mutualSSLConfig]\nsslVerifyClient = \"require\"\n[[mutualSSLConfig.api.certificates]]\n"
      "name = \"A\"\nversion = \"1\"\naliasList = [\"a\"]\n");
  EXPECT_EQ(countContaining(r.errors, "[mutualSSLConfig.api]"), 1u) << all(r.errors);
  EXPECT_EQ(r.errors.size(), 1u) << all(r.errors);
}

// Issue 24 item 7: [mutualSSLConfig] sslVerifyClient is honoured (WSO2's default "optional" when
// the table does not say), crlPath is micro-gw's; anything else is an error.
TEST(Wso2Config, MutualSslConfig) {
  auto r = load("[mutualSSLConfig]\nprotocolName = \"TLS\"\n");
  EXPECT_TRUE(r.ok()) << all(r.errors);
  EXPECT_EQ(r.config->mutualSsl.verifyClient, "optional");
  r = load("[mutualSSLConfig]\nsslVerifyClient = \"require\"\ncrlPath = \"/etc/ca.crl\"\n");
  EXPECT_TRUE(r.ok()) << all(r.errors);
  EXPECT_EQ(r.config->mutualSsl.verifyClient, "require");
  EXPECT_EQ(r.config->mutualSsl.crlPath, "/etc/ca.crl");
  r = load("[mutualSSLConfig]\nsslVerifyClient = \"want\"\n");
  EXPECT_EQ(countContaining(r.errors, "must be \"optional\" or \"require\""), 1u) << all(r.errors);
  EXPECT_EQ(load("").config->mutualSsl.verifyClient, "");
}

// Issue 24 item 5: [security] validateSubscriptions = true turns on every issuer's subscription
// validation (one warning saying so); false changes nothing.
TEST(Wso2Config, ValidateSubscriptionsIsMappedOntoEveryIssuer) {
  const std::string issuers = R"(
[[jwtTokenConfig]]
  issuer = "https://idp-a.test/token"
  certificateFile = "/srv/a.pem"
[[jwtTokenConfig]]
  issuer = "https://idp-b.test/token"
  certificateFile = "/srv/b.pem"
  validateSubscription = false
)";
  LoadResult on = load("[security]\nvalidateSubscriptions = true\n" + issuers);
  ASSERT_TRUE(on.ok()) << all(on.errors);
  ASSERT_EQ(on.config->jwtIssuers.size(), 2u);
  EXPECT_TRUE(on.config->jwtIssuers[0].validateSubscription);
  EXPECT_TRUE(on.config->jwtIssuers[1].validateSubscription);
  EXPECT_EQ(countContaining(on.warnings, "validateSubscription = true on every"), 1u)
      << all(on.warnings);
  LoadResult off = load("[security]\nvalidateSubscriptions = false\n" + issuers);
  ASSERT_TRUE(off.ok()) << all(off.errors);
  EXPECT_FALSE(off.config->jwtIssuers[0].validateSubscription);
  EXPECT_EQ(countContaining(off.warnings, "validateSubscriptions"), 0u) << all(off.warnings);
  EXPECT_FALSE(load("[security]\nvalidateSubscription = true\n").ok());  // a typo stays an error
}

// Issue 24 item 6: [jwtGeneratorConfig] and [jwtConfig] header mapped onto [jwtGenerator]; the
// keys micro-gw has no use for warned about; an unsigned backend JWT refused.
TEST(Wso2Config, JwtGeneratorConfigIsMappedOntoJwtGenerator) {
  LoadResult r = load(R"(
[jwtConfig]
  header = "X-Library-Assertion"
[jwtGeneratorConfig]
  jwtGeneratorEnabled = true
  claimDialect = "http://library.test/claims"
  signingAlgorithm = "SHA256withRSA"
  certificateAlias = "ballerina"
  privateKeyAlias = "ballerina"
  tokenExpiry = 120000
  restrictedClaims = ["email"]
  issuer = "library.test/gateway"
  audience = ["http://library.test/backends"]
  generatorImpl = "org.library.Generator"
  [jwtGeneratorConfig.jwtGeneratorCaching]
    tokenCacheEnable = true
    tokenCacheExpiryTime = 120000
    tokenCacheCapacity = 321
    tokenCacheEvictionFactor = 0.25
)");
  ASSERT_TRUE(r.ok()) << all(r.errors);
  const JwtGeneratorConfig& j = r.config->jwtGenerator;
  EXPECT_TRUE(j.enabled);
  EXPECT_EQ(j.header, "X-Library-Assertion");
  EXPECT_EQ(j.issuer, "library.test/gateway");
  EXPECT_EQ(j.validitySeconds, 120);
  EXPECT_EQ(j.cacheCapacity, 321u);
  EXPECT_EQ(j.signingKey, "");  // the STS key
  EXPECT_EQ(countContaining(r.warnings, "mapped onto [jwtGenerator]"), 2u) << all(r.warnings);
  for (const char* ignored : {"claimDialect", "restrictedClaims", "audience", "generatorImpl",
                              "privateKeyAlias", "tokenCacheEvictionFactor"})
    EXPECT_EQ(countContaining(r.warnings, ignored), 1u) << ignored << "\n" << all(r.warnings);
  LoadResult unsigned_ = load("[jwtGeneratorConfig]\nsigningAlgorithm = \"NONE\"\n");
  EXPECT_EQ(countContaining(unsigned_.errors, "only SHA256withRSA is served"), 1u)
      << all(unsigned_.errors);
}

TEST(Wso2Config, JwtTokenConfig) {
  LoadResult r = load(R"(
[[jwtTokenConfig]]
  issuer = "https://localhost:9443/oauth2/token"
  certificateAlias = "wso2apim310"
  jwksURL = ""
  validateSubscription = true
  consumerKeyClaim = "aud"
  claimMapperClassName = "org.wso2.micro.gateway.jwtTransformer.DefaultJwtTransformer"
  [[jwtTokenConfig.claims]]
    remoteClaim = "scp"
    localClaim = "scope"
[[jwtTokenConfig]]
  issuer = "https://host:port/issuer"
  audience = "http://org.wso2.apimgt/gateway"
  certificateAlias = "alias"
)");
  ASSERT_TRUE(r.ok()) << all(r.errors);
  ASSERT_EQ(r.config->jwtIssuers.size(), 2u);
  EXPECT_TRUE(r.config->jwtIssuers[0].validateSubscription);
  EXPECT_EQ(r.config->jwtIssuers[1].audience, "http://org.wso2.apimgt/gateway");
  EXPECT_EQ(countContaining(r.warnings, "consumerKeyClaim"), 1u) << all(r.warnings);
  EXPECT_EQ(countContaining(r.warnings, "claims"), 2u) << all(r.warnings);  // claims, claimMapper
  LoadResult jwks = load("[[jwtTokenConfig]]\nissuer = \"i\"\njwksURL = \"https://x/jwks\"\n");
  EXPECT_EQ(jwks.errors.size(), 2u) << all(jwks.errors);  // jwksURL, and no certificate
  EXPECT_EQ(countContaining(jwks.errors, "jwksURL"), 1u) << all(jwks.errors);
}

TEST(Wso2Config, DefinitionsFromApiDefinitionsFolder) {
  namespace fs = std::filesystem;
  const fs::path home = fs::temp_directory_path() / ("mgw-wso2-unit-" + std::to_string(::getpid()));
  fs::create_directories(home / "api_definitions");
  LoadResult r = load("", home.string());
  ASSERT_TRUE(r.ok()) << all(r.errors);
  ASSERT_EQ(r.config->apis.definitions.size(), 1u);
  EXPECT_EQ(r.config->apis.definitions[0], (home / "api_definitions").string());
  // Declared definitions win, even an empty list.
  LoadResult declared = load("[apis]\ndefinitions = []\n", home.string());
  ASSERT_TRUE(declared.ok()) << all(declared.errors);
  EXPECT_TRUE(declared.config->apis.definitions.empty());
  fs::remove_all(home);
}

}  // namespace
}  // namespace mgw::config
