#include "apis/openapi_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "gateway/cors.h"

namespace mgw::apis {
namespace {

using gateway::ApiDefinition;
using gateway::KeyLocation;
using gateway::Resource;

const std::string kSamples = std::string(MGW_SOURCE_DIR) + "/samples/apis";
const std::string kData = std::string(MGW_TESTDATA_DIR) + "/apis";

const Resource* findResource(const ApiDefinition& api, const std::string& method,
                             const std::string& path) {
  for (const Resource& r : api.resources) {
    if (r.method == method && r.pathTemplate == path) return &r;
  }
  return nullptr;
}

const ApiDefinition* findApi(const std::vector<ApiDefinition>& apis, const std::string& name) {
  for (const ApiDefinition& a : apis) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string joined(const std::vector<ApiLoadError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.toString() + "\n";
  return out;
}

TEST(OpenApiLoaderTest, PizzaShackSample) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kSamples + "/pizzashack.yaml"}, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  const ApiDefinition& a = apis[0];
  EXPECT_EQ(a.name, "PizzaShackAPI");
  EXPECT_EQ(a.version, "1.0.0");
  EXPECT_EQ(a.context, "/pizzashack/1.0.0");
  EXPECT_EQ(a.production.urls, std::vector<std::string>{"http://127.0.0.1:9080/pizzashack/1.0.0"});
  EXPECT_EQ(a.sandbox.urls, std::vector<std::string>{"http://127.0.0.1:9081/pizzashack/1.0.0"});
  EXPECT_EQ(a.resources.size(), 5u);
  for (auto [m, p] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/menu"},
                                                        {"POST", "/order"},
                                                        {"GET", "/order/{orderId}"},
                                                        {"PUT", "/order/{orderId}"},
                                                        {"DELETE", "/order/{orderId}"}}) {
    const Resource* r = findResource(a, m, p);
    ASSERT_NE(r, nullptr) << m << " " << p;
    EXPECT_TRUE(r->secured);
  }
  ASSERT_EQ(a.keySources.size(), 2u);
  EXPECT_EQ(a.keySources[0].in, KeyLocation::kHeader);
  EXPECT_EQ(a.keySources[0].name, "apikey");
  EXPECT_EQ(a.keySources[1].in, KeyLocation::kQuery);
  EXPECT_EQ(a.keySources[1].name, "apikey");
  EXPECT_FALSE(a.propagateApiKey);
  EXPECT_FALSE(a.subscriptionRequired);
  EXPECT_EQ(a.source, kSamples + "/pizzashack.yaml");
}

TEST(OpenApiLoaderTest, PetstoreSample) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kSamples + "/petstore.yaml"}, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  const ApiDefinition& a = apis[0];
  EXPECT_EQ(a.name, "Swagger Petstore New");
  EXPECT_EQ(a.version, "1.0.0");
  EXPECT_EQ(a.context, "/petstore/v1");
  EXPECT_EQ(a.production.urls, std::vector<std::string>{"http://127.0.0.1:9080/petstore/v1"});
  EXPECT_TRUE(a.sandbox.empty());
  EXPECT_EQ(a.resources.size(), 4u);
  EXPECT_NE(findResource(a, "GET", "/pet/findByStatus"), nullptr);
  EXPECT_NE(findResource(a, "GET", "/pet/{petId}"), nullptr);
  EXPECT_NE(findResource(a, "POST", "/pet"), nullptr);
  ASSERT_NE(findResource(a, "GET", "/store/inventory"), nullptr);
  EXPECT_TRUE(findResource(a, "GET", "/store/inventory")->secured);
  ASSERT_EQ(a.keySources.size(), 1u);
  EXPECT_EQ(a.keySources[0].in, KeyLocation::kHeader);
  EXPECT_EQ(a.keySources[0].name, "api_key");
}

TEST(OpenApiLoaderTest, SamplesFolderLoadsBoth) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kSamples}, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 2u);
  EXPECT_EQ(apis[0].name, "Swagger Petstore New");  // petstore.yaml sorts before pizzashack.yaml
  EXPECT_EQ(apis[1].name, "PizzaShackAPI");
}

// Issue 23: the gRPC sample, an API whose context is the service's full name and whose resources
// are its methods (POST), with an h2c:// endpoint.
TEST(OpenApiLoaderTest, GrpcSample) {
  std::vector<ApiLoadError> errors;
  auto apis =
      loadApiDefinitions({std::string(MGW_SOURCE_DIR) + "/samples/grpc/echo.yaml"}, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  const ApiDefinition& a = apis[0];
  EXPECT_EQ(a.context, "/echo.v1.Echo");
  EXPECT_EQ(a.production.urls, std::vector<std::string>{"h2c://127.0.0.1:50051/echo.v1.Echo"});
  for (const char* method : {"/Unary", "/ServerStream", "/ClientStream", "/Bidi"}) {
    const Resource* r = findResource(a, "POST", method);
    ASSERT_NE(r, nullptr) << method;
    EXPECT_TRUE(r->secured);
  }
  ASSERT_FALSE(a.keySources.empty());
  EXPECT_EQ(a.keySources[0].name, "apikey");
}

TEST(OpenApiLoaderTest, Http2EndpointsInWso2Extensions) {
  auto write = [](const std::string& name, const std::string& sandbox) {
    const std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream out(path);
    out << "openapi: 3.0.0\ninfo: {title: H2, version: \"1\"}\nx-wso2-basePath: /h2\n"
           "x-wso2-production-endpoints: {urls: [\"h2://127.0.0.1:8443/base\", "
           "\"h2c://127.0.0.1:8080\"], type: failover}\n"
           "x-wso2-sandbox-endpoints: {urls: [\"" +
               sandbox + "\"]}\npaths:\n  /a: {post: {}}\n";
    return path;
  };
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({write("mgw_h2_good.yaml", "h2c://127.0.0.1:1")}, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_EQ(apis[0].production.urls,
            (std::vector<std::string>{"h2://127.0.0.1:8443/base", "h2c://127.0.0.1:8080"}));
  EXPECT_TRUE(apis[0].production.failover);
  EXPECT_EQ(apis[0].sandbox.urls, std::vector<std::string>{"h2c://127.0.0.1:1"});

  // One list, one protocol: HTTP/1.1 and HTTP/2 URLs are not failover partners.
  errors.clear();
  apis = loadApiDefinitions(
      {write("mgw_h2_mixed.yaml", "h2c://127.0.0.1:1\", \"http://127.0.0.1:2")}, &errors);
  EXPECT_TRUE(apis.empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_NE(
      errors[0].toString().find("/x-wso2-sandbox-endpoints/urls: endpoint 'http://127.0.0.1:2' "
                                "speaks HTTP/1.1 and 'h2c://127.0.0.1:1' HTTP/2"),
      std::string::npos)
      << joined(errors);

  errors.clear();
  apis = loadApiDefinitions({write("mgw_h2_bad.yaml", "h3://127.0.0.1:1")}, &errors);
  EXPECT_TRUE(apis.empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_NE(errors[0].toString().find(
                "/x-wso2-sandbox-endpoints/urls/0: endpoint 'h3://127.0.0.1:1': endpoint URL is "
                "not an http://, https://, h2c:// or h2:// URL"),
            std::string::npos)
      << joined(errors);
}

TEST(OpenApiLoaderTest, JsonServersFallbackAndSecurityForms) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kData + "/good"}, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 2u);
  const ApiDefinition* inv = findApi(apis, "InventoryAPI");
  ASSERT_NE(inv, nullptr);
  EXPECT_EQ(inv->version, "v2");
  EXPECT_EQ(inv->context, "/inventory/v2");  // the path of the first servers URL
  EXPECT_EQ(inv->production.urls,
            (std::vector<std::string>{"https://inventory.internal:8443/inventory/v2",
                                      "https://inventory-backup.internal:8443/inventory/v2"}));
  EXPECT_TRUE(inv->production.failover);
  ASSERT_EQ(inv->keySources.size(), 1u);  // the oauth2 alternative is never taken
  EXPECT_EQ(inv->keySources[0].in, KeyLocation::kQuery);
  EXPECT_EQ(inv->keySources[0].name, "key");
  EXPECT_TRUE(inv->propagateApiKey);
  EXPECT_TRUE(inv->subscriptionRequired);
  EXPECT_TRUE(findResource(*inv, "GET", "/items")->secured);
  EXPECT_FALSE(findResource(*inv, "POST", "/items")->secured);  // security: []
  EXPECT_FALSE(findResource(*inv, "GET", "/health")->secured);  // x-wso2-disable-security

  const ApiDefinition* refs = findApi(apis, "RefsAPI");
  ASSERT_NE(refs, nullptr);
  EXPECT_EQ(refs->context, "/refs/2.1");
  EXPECT_EQ(refs->production.urls,
            (std::vector<std::string>{"http://127.0.0.1:9080/refs", "http://127.0.0.1:9082/refs"}));
  EXPECT_TRUE(refs->production.failover);
  EXPECT_EQ(refs->sandbox.urls, std::vector<std::string>{"http://127.0.0.1:9081/refs"});
  ASSERT_EQ(refs->resources.size(), 2u);
  for (const Resource& r : refs->resources) EXPECT_FALSE(r.secured);
}

struct BadCase {
  const char* file;
  const char* pointer;
  const char* messagePart;
};

class OpenApiLoaderBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(OpenApiLoaderBadTest, NamesFileAndPointer) {
  const BadCase& c = GetParam();
  const std::string path = kData + "/bad/" + c.file;
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({path}, &errors);
  EXPECT_TRUE(apis.empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0].file, path);
  EXPECT_EQ(errors[0].pointer, c.pointer);
  EXPECT_NE(errors[0].message.find(c.messagePart), std::string::npos) << errors[0].message;
  const std::string text = errors[0].toString();
  EXPECT_EQ(text.rfind(path + ": ", 0), 0u) << text;
  if (*c.pointer != '\0') {
    EXPECT_NE(text.find(std::string(": ") + c.pointer + ": "), std::string::npos) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, OpenApiLoaderBadTest,
    ::testing::Values(BadCase{"missing_title.yaml", "/info/title", "missing info.title"},
                      BadCase{"missing_version.yaml", "/info/version", "missing info.version"},
                      BadCase{"no_endpoints.yaml", "/x-wso2-production-endpoints", "no endpoints"},
                      BadCase{"endpoint_not_http.yaml", "/x-wso2-production-endpoints/urls/1",
                              "not an http://, https://, h2c:// or h2:// URL"},
                      BadCase{"bad_basepath.yaml", "/x-wso2-basePath",
                              "bad basePath '/shop/../admin'"},
                      BadCase{"yaml_syntax.yaml", "", "YAML syntax error at line 7"},
                      BadCase{"missing_ref.yaml", "/x-wso2-production-endpoints/$ref",
                              "missing endpoint 'backendB'"}));

// Issue 24 item 5: an undeclared scheme name is skipped with a warning naming it (WSO2 MGW 3.x's
// toolkit skipped it); an operation left with nothing takes WSO2's default, OAuth2 bearer tokens,
// and is never opened by it.
TEST(OpenApiLoaderTest, UndeclaredSchemeIsSkippedWithAWarning) {
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({kData + "/undeclared_scheme.yaml"}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  ASSERT_EQ(warnings.size(), 2u) << joined(warnings);
  EXPECT_EQ(warnings[0].toString(),
            kData +
                "/undeclared_scheme.yaml: /paths/~1menu/get/security/0/oauth: security scheme "
                "'oauth' is not declared (components.securitySchemes / securityDefinitions): "
                "ignored, as WSO2 API Microgateway 3.x ignored it");
  const Resource* menu = findResource(apis[0], "GET", "/menu");
  EXPECT_TRUE(menu->secured);
  EXPECT_TRUE(menu->security.oauth2);
  EXPECT_TRUE(menu->security.keySources.empty());
  const Resource* both = findResource(apis[0], "GET", "/both");
  EXPECT_TRUE(both->secured);
  EXPECT_FALSE(both->security.oauth2);
  ASSERT_EQ(both->security.keySources.size(), 1u);
  EXPECT_EQ(both->security.keySources[0].name, "X-Key");
}

// Issue 24 item 5: a security entry written as a string, scopes written as a string (read as
// WSO2's toolkit read them, with a warning), basePath /* and etcd(...) endpoints (refused by name).
TEST(OpenApiLoaderTest, Wso2ShorthandsAndRefusals) {
  const std::string path = ::testing::TempDir() + "/mgw_wso2_shorthands.yaml";
  const auto write = [&path](const std::string& text) {
    std::ofstream out(path);
    out << text;
  };
  const std::string head = R"(openapi: 3.0.0
info: {title: Shorthands, version: "1"}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: x-key}
    idp: {type: oauth2, flows: {implicit: {authorizationUrl: "https://idp.test/a", scopes: {}}}}
)";
  write(head + R"(x-wso2-basePath: /short
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
paths:
  /a: {get: {security: [key]}}
  /b: {get: {security: [{idp: "read:a write:a"}]}}
)");
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({path}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_EQ(warnings.size(), 2u) << joined(warnings);
  const Resource* a = findResource(apis[0], "GET", "/a");
  ASSERT_EQ(a->security.keySources.size(), 1u);
  EXPECT_EQ(a->security.keySources[0].name, "x-key");
  const Resource* b = findResource(apis[0], "GET", "/b");
  EXPECT_TRUE(b->security.oauth2);
  EXPECT_EQ(b->security.scopes, (std::vector<std::string>{"read:a", "write:a"}));

  for (const char* basePath : {"/*", "/"}) {
    write(head + "x-wso2-basePath: \"" + basePath + R"("
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
paths: {/a: {get: {}}}
)");
    errors.clear();
    EXPECT_TRUE(loadApiDefinitions({path}, &errors).empty());
    ASSERT_EQ(errors.size(), 1u) << joined(errors);
    EXPECT_NE(errors[0].message.find("an API on every path is not served"), std::string::npos)
        << errors[0].message;
  }
  write(head + R"y(x-wso2-basePath: /etcd
x-wso2-production-endpoints: {urls: ["etcd(shopKey, http://127.0.0.1:1/x)"]}
paths: {/a: {get: {}}}
)y");
  errors.clear();
  EXPECT_TRUE(loadApiDefinitions({path}, &errors).empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0].pointer, "/x-wso2-production-endpoints/urls/0");
  EXPECT_NE(errors[0].message.find("etcd(...) service discovery is not supported"),
            std::string::npos)
      << errors[0].message;
}

TEST(OpenApiLoaderTest, UnreadableFile) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kData + "/does-not-exist.yaml"}, &errors);
  EXPECT_TRUE(apis.empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, kData + "/does-not-exist.yaml");
  EXPECT_NE(errors[0].message.find("unreadable file"), std::string::npos);
}

TEST(OpenApiLoaderTest, DuplicateNameVersionAndContext) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kData + "/duplicate"}, &errors);
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_EQ(apis[0].production.urls[0], "http://127.0.0.1:9080/a");
  ASSERT_EQ(errors.size(), 2u) << joined(errors);
  EXPECT_EQ(errors[0].file, kData + "/duplicate/b.yaml");
  EXPECT_EQ(errors[0].pointer, "/info/title");
  EXPECT_NE(errors[0].message.find("duplicate API ShopAPI:1.0.0"), std::string::npos);
  EXPECT_EQ(errors[1].file, kData + "/duplicate/c.yaml");
  EXPECT_EQ(errors[1].pointer, "/x-wso2-basePath");
  EXPECT_NE(errors[1].message.find("duplicate context /shop-a"), std::string::npos);
}

TEST(OpenApiLoaderTest, BadFolderEntriesDoNotStopGoodOnes) {
  std::vector<ApiLoadError> errors;
  auto apis = loadApiDefinitions({kData + "/bad", kSamples}, &errors);  // 7 bad files
  EXPECT_EQ(apis.size(), 2u);
  EXPECT_EQ(errors.size(), 7u) << joined(errors);
}

config::InlineApi inlineApi() {
  config::InlineApi in;
  in.name = "EchoAPI";
  in.version = "v1";
  in.context = "/echo/{version}/";
  in.production = {"http://127.0.0.1:9080/echo/"};
  in.line = 42;
  return in;
}

TEST(OpenApiLoaderTest, InlineEndpointsTakeOneProtocol) {
  config::InlineApi mixed = inlineApi();
  mixed.production = {"http://127.0.0.1:1/a", "h2://127.0.0.1:2/a"};
  config::Config cfg;
  cfg.apis.inlineApis.push_back(mixed);
  std::vector<ApiLoadError> errors;
  EXPECT_TRUE(buildApis(cfg, &errors).empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_NE(errors[0].message.find("one endpoint list take one protocol"), std::string::npos)
      << joined(errors);
}

TEST(OpenApiLoaderTest, InlineApi) {
  config::InlineApi in = inlineApi();
  in.apiKeyHeader = "X-Key";
  in.apiKeyQuery = "k";
  in.propagateApiKey = true;
  ApiDefinition a = apiFromInline(in, "conf/micro-gw.conf");
  EXPECT_EQ(a.context, "/echo/v1");
  ASSERT_EQ(a.resources.size(), 1u);
  EXPECT_EQ(a.resources[0].method, "*");
  EXPECT_EQ(a.resources[0].pathTemplate, "/*");
  EXPECT_TRUE(a.resources[0].secured);
  EXPECT_EQ(a.production.urls, std::vector<std::string>{"http://127.0.0.1:9080/echo"});
  ASSERT_EQ(a.keySources.size(), 2u);
  EXPECT_EQ(a.keySources[0].name, "X-Key");
  EXPECT_EQ(a.keySources[1].in, KeyLocation::kQuery);
  EXPECT_EQ(a.keySources[1].name, "k");
  EXPECT_TRUE(a.propagateApiKey);
  EXPECT_EQ(a.source, "conf/micro-gw.conf:42");

  in.security.clear();
  EXPECT_FALSE(apiFromInline(in, "c").resources[0].secured);
}

TEST(OpenApiLoaderTest, BuildApisCombinesAndEnforcesUniqueness) {
  config::Config cfg;
  cfg.sourcePath = "conf/micro-gw.conf";
  cfg.apis.inlineApis.push_back(inlineApi());
  config::InlineApi clash = inlineApi();  // same context as the sample PizzaShack
  clash.name = "Clash";
  clash.context = "/pizzashack/1.0.0";
  clash.line = 50;
  cfg.apis.inlineApis.push_back(clash);
  cfg.apis.definitions = {kSamples};
  std::vector<ApiLoadError> errors;
  auto apis = buildApis(cfg, &errors);
  ASSERT_EQ(apis.size(), 3u) << joined(errors);
  EXPECT_EQ(apis[0].name, "EchoAPI");
  EXPECT_EQ(apis[1].name, "Clash");
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0].file, kSamples + "/pizzashack.yaml");
  EXPECT_EQ(errors[0].pointer, "/x-wso2-basePath");
  EXPECT_NE(errors[0].message.find("duplicate context /pizzashack/1.0.0"), std::string::npos);
}

TEST(OpenApiLoaderTest, BuildApisValidatesInline) {
  config::Config cfg;
  cfg.sourcePath = "conf/micro-gw.conf";
  config::InlineApi bad = inlineApi();
  bad.context = "/a/../b";
  bad.production = {"ftp://x"};
  bad.security = {"oauth2"};
  cfg.apis.inlineApis.push_back(bad);
  config::InlineApi noEndpoint = inlineApi();
  noEndpoint.name = "Other";
  noEndpoint.context = "/other";
  noEndpoint.production.clear();
  noEndpoint.line = 60;
  cfg.apis.inlineApis.push_back(noEndpoint);
  std::vector<ApiLoadError> errors;
  auto apis = buildApis(cfg, &errors);
  EXPECT_TRUE(apis.empty());
  ASSERT_EQ(errors.size(), 4u) << joined(errors);
  EXPECT_EQ(errors[0].file, "conf/micro-gw.conf:42");
  EXPECT_NE(errors[0].message.find("bad context"), std::string::npos);
  EXPECT_NE(errors[1].message.find("not an http://, https://, h2c:// or h2:// URL"),
            std::string::npos);
  EXPECT_NE(errors[2].message.find("security 'oauth2'"), std::string::npos);
  EXPECT_EQ(errors[3].file, "conf/micro-gw.conf:60");
  EXPECT_NE(errors[3].message.find("no endpoints"), std::string::npos);
}

TEST(OpenApiLoaderTest, InlineContextAndHeaderCharacters) {
  for (std::string ctx :
       {std::string("/a\0b", 4), std::string("/a b"), std::string("/a/*"), std::string("/"),
        std::string("a"), std::string("/a//b"), std::string("/a?b")}) {
    config::Config cfg;
    cfg.sourcePath = "c.conf";
    config::InlineApi in = inlineApi();
    in.context = ctx;
    cfg.apis.inlineApis.push_back(in);
    std::vector<ApiLoadError> errors;
    EXPECT_TRUE(buildApis(cfg, &errors).empty()) << ctx;
    ASSERT_EQ(errors.size(), 1u) << ctx;
    EXPECT_NE(errors[0].message.find("bad context"), std::string::npos) << errors[0].message;
  }
  config::Config cfg;
  cfg.sourcePath = "c.conf";
  config::InlineApi in = inlineApi();
  in.apiKeyHeader = std::string("ap\0i", 4);
  cfg.apis.inlineApis.push_back(in);
  std::vector<ApiLoadError> errors;
  EXPECT_TRUE(buildApis(cfg, &errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("apiKeyHeader"), std::string::npos);
}

TEST(OpenApiLoaderTest, DuplicateInlineNameVersion) {
  config::Config cfg;
  cfg.sourcePath = "c.conf";
  cfg.apis.inlineApis.push_back(inlineApi());
  config::InlineApi again = inlineApi();
  again.context = "/elsewhere";
  again.line = 77;
  cfg.apis.inlineApis.push_back(again);
  std::vector<ApiLoadError> errors;
  auto apis = buildApis(cfg, &errors);
  EXPECT_EQ(apis.size(), 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].toString(), "c.conf:77: duplicate API EchoAPI:v1 (also in c.conf:42)");
}

// Issue 16 (fixtures of the project's own since issue 24): a definition in WSO2 MGW 3.x's shape
// loads as it is.
namespace wso2 {

const std::string kWso2 = std::string(MGW_TESTDATA_DIR) + "/wso2";

TEST(Wso2Definitions, LibraryApiLoads) {
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({kWso2 + "/library_api.yaml"}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  // Every operation takes oauth2 or a key; the two operation tiers are dropped for the API's
  // (issue 24 item 6, as WSO2's toolkit did).
  ASSERT_EQ(warnings.size(), 2u) << joined(warnings);
  EXPECT_EQ(warnings[0].pointer, "/paths/~1book/put/x-wso2-throttling-tier");
  EXPECT_NE(
      warnings[0].message.find("resource tier 40kPerMin ignored: the API-level tier 20PerMin"),
      std::string::npos)
      << warnings[0].message;
  ASSERT_EQ(apis.size(), 1u);
  const ApiDefinition& a = apis[0];
  EXPECT_EQ(a.context, "/library/v2");
  EXPECT_EQ(a.throttlingTier, "20PerMin");
  EXPECT_EQ(findResource(a, "GET", "/book/{bookId}")->throttlingTier, "");
  // Per-operation endpoints; a failover list; an endpoint with its own query.
  const Resource* inventory = findResource(a, "GET", "/stock/inventory");
  ASSERT_NE(inventory, nullptr);
  EXPECT_TRUE(inventory->production.failover);
  ASSERT_EQ(inventory->production.urls.size(), 2u);
  const Resource* byGenreNew = findResource(a, "GET", "/book/findByGenreNew");
  ASSERT_NE(byGenreNew, nullptr);
  ASSERT_EQ(byGenreNew->production.urls.size(), 1u);
  EXPECT_EQ(byGenreNew->production.urls[0],
            "https://localhost:2380/v1/book/findByGenreNew?shelf=a&floor=2");
  EXPECT_TRUE(findResource(a, "GET", "/book/{bookId}")->production.empty());  // the API's
  // x-wso2-disable-security wins over the operation's oauth2 requirement.
  const Resource* put = findResource(a, "PUT", "/book");
  EXPECT_FALSE(put->secured);
  EXPECT_EQ(put->sandbox.urls.size(), 1u);
  // Key locations per resource.
  const Resource* getBook = findResource(a, "GET", "/book/{bookId}");
  ASSERT_EQ(getBook->security.keySources.size(), 2u);
  EXPECT_EQ(getBook->security.keySources[1].name, "api_key_query");
  EXPECT_TRUE(getBook->security.oauth2);
  ASSERT_EQ(inventory->security.keySources.size(), 1u);
  EXPECT_EQ(inventory->security.keySources[0].in, KeyLocation::kHeader);
  // OAuth2 only (the API-level security): no API key, a bearer token.
  const Resource* byGenre = findResource(a, "GET", "/book/findByGenre");
  EXPECT_TRUE(byGenre->security.keySources.empty());
  EXPECT_TRUE(byGenre->security.oauth2);
  EXPECT_FALSE(byGenre->security.unsupportedOnly());
  // Scopes; basic served.
  const Resource* post = findResource(a, "POST", "/book");
  ASSERT_EQ(post->security.scopes.size(), 1u);
  EXPECT_EQ(post->security.scopes[0], "write:booksNew");
  EXPECT_TRUE(post->security.basic);
  EXPECT_EQ(post->security.keySources.size(), 1u);
}

// Issue 24 item 1: an operation's x-wso2-disable-security: false under the API's true is secured
// (by its own requirement, else the API's); an operation that says nothing stays open.
TEST(Wso2Definitions, OperationDisableSecurityFalseWinsOverTheApis) {
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({kWso2 + "/reading_room_api.yaml"}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_FALSE(findResource(apis[0], "GET", "/seats")->secured);
  const Resource* booking = findResource(apis[0], "POST", "/seats/{seatId}/booking");
  EXPECT_TRUE(booking->secured);
  EXPECT_TRUE(booking->security.oauth2);
  ASSERT_EQ(booking->security.scopes.size(), 1u);
  EXPECT_EQ(booking->security.scopes[0], "write:bookings");
  const Resource* seat = findResource(apis[0], "GET", "/seats/{seatId}");
  EXPECT_TRUE(seat->secured);
  EXPECT_TRUE(seat->security.oauth2);
}

TEST(Wso2Definitions, UnsupportedSchemesLoadWithAWarning) {
  const std::string path = ::testing::TempDir() + "/mgw_unsupported_scheme.yaml";
  {
    std::ofstream out(path);
    out << R"(openapi: 3.0.0
info: {title: Oidc, version: "1"}
x-wso2-basePath: /oidc
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
components:
  securitySchemes:
    oidc: {type: openIdConnect, openIdConnectUrl: "https://x/.well-known"}
    basic: {type: http, scheme: basic}
    key: {type: apiKey, in: header, name: k}
paths:
  /a: {get: {security: [{oidc: []}]}}
  /b: {get: {security: [{basic: []}]}}
  /c: {get: {security: [{oidc: []}, {key: []}]}}
  /d: {get: {security: [{oidc: []}, {basic: []}]}}
)";
  }
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({path}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  // Basic auth is served (against [b7a.users]): only /a is unsupported.
  EXPECT_EQ(warnings.size(), 1u) << joined(warnings);
  EXPECT_TRUE(findResource(apis[0], "GET", "/a")->security.unsupportedOnly());
  EXPECT_FALSE(findResource(apis[0], "GET", "/b")->security.unsupportedOnly());
  EXPECT_TRUE(findResource(apis[0], "GET", "/b")->security.basic);
  EXPECT_TRUE(findResource(apis[0], "GET", "/b")->security.keySources.empty());
  EXPECT_FALSE(findResource(apis[0], "GET", "/c")->security.unsupportedOnly());
  EXPECT_FALSE(findResource(apis[0], "GET", "/d")->security.unsupportedOnly());
  EXPECT_TRUE(findResource(apis[0], "GET", "/d")->security.basic);
  EXPECT_NE(warnings[0].message.find("900902"), std::string::npos);
}

// Issue 22 item 8 (OpenAPI 3 section 4.8.30): the schemes of one requirement object are all
// required (AND), the objects are alternatives (OR); apiKey locations in one object stay one key.
TEST(Wso2Definitions, OneRequirementObjectIsAndTheListIsOr) {
  const std::string path = ::testing::TempDir() + "/mgw_and_or_security.yaml";
  {
    std::ofstream out(path);
    out << R"(openapi: 3.0.0
info: {title: AndOr, version: "1"}
x-wso2-basePath: /andor
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
components:
  securitySchemes:
    oidc: {type: openIdConnect, openIdConnectUrl: "https://x/.well-known"}
    basic: {type: http, scheme: basic}
    key: {type: apiKey, in: header, name: k}
    keyQuery: {type: apiKey, in: query, name: k}
paths:
  /and: {get: {security: [{key: [], basic: []}]}}
  /or: {get: {security: [{key: []}, {basic: []}]}}
  /mixed: {get: {security: [{key: [], basic: []}, {keyQuery: []}]}}
  /never: {get: {security: [{key: [], oidc: []}]}}
  /keys: {get: {security: [{key: [], keyQuery: []}]}}
)";
  }
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({path}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  const auto& both = findResource(apis[0], "GET", "/and")->security.alternatives;
  ASSERT_EQ(both.size(), 1u);
  EXPECT_TRUE(both[0].apiKey && both[0].basic && !both[0].oauth2 && !both[0].unsupported);
  EXPECT_TRUE(findResource(apis[0], "GET", "/or")->security.alternatives.empty());
  const auto& mixed = findResource(apis[0], "GET", "/mixed")->security.alternatives;
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[0].kinds(), 2);
  EXPECT_TRUE(mixed[1].apiKey && mixed[1].kinds() == 1);
  const auto& never = findResource(apis[0], "GET", "/never")->security.alternatives;
  ASSERT_EQ(never.size(), 1u);
  EXPECT_TRUE(never[0].unsupported);  // an object micro-gw cannot meet whole: never a way in
  // Two apiKey locations are one kind (WSO2's {api_key, api_key_query}): either location.
  EXPECT_TRUE(findResource(apis[0], "GET", "/keys")->security.alternatives.empty());
  EXPECT_EQ(findResource(apis[0], "GET", "/keys")->security.keySources.size(), 2u);
}

TEST(Wso2Definitions, ApplicationSecurityAloneDecidesTheSchemes) {
  // x-wso2-application-security without any security requirement: [basic_auth] = basic only.
  const std::string path = ::testing::TempDir() + "/mgw_app_security_basic.yaml";
  {
    std::ofstream out(path);
    out << R"(openapi: 3.0.0
info: {title: AppBasic, version: "1"}
x-wso2-basePath: /appbasic
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
x-wso2-application-security: {security-types: [basic_auth]}
paths:
  /a: {get: {}}
)";
  }
  std::vector<ApiLoadError> errors, warnings;
  auto apis = loadApiDefinitions({path}, &errors, &warnings);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  const Resource* a = findResource(apis[0], "GET", "/a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->secured);
  EXPECT_TRUE(a->security.declared);
  EXPECT_TRUE(a->security.basic);
  EXPECT_TRUE(a->security.keySources.empty());
  EXPECT_FALSE(a->security.unsupportedOnly());
}

}  // namespace wso2

// x-wso2-cors in a definition: read through the same validators, and the API's own policy wins
// over the global [cors]; an API without one gets the global one.
class CorsDefinitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mgw-cors-def-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& cors) {
    const auto path = dir_ / name;
    std::ofstream(path) << "openapi: 3.0.0\ninfo: {title: " << name << ", version: 1.0.0}\n"
                        << "x-wso2-basePath: /" << name << "\n"
                        << "x-wso2-production-endpoints: {urls: [\"http://127.0.0.1:1\"]}\n"
                        << cors << "paths:\n  /x:\n    get: {}\n";
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(CorsDefinitionTest, OwnPolicyWinsOverTheGlobalOne) {
  config::Config cfg;
  cfg.cors.enabled = true;
  cfg.cors.allowOrigins = {"https://global.example"};
  cfg.apis.definitions = {
      write("own", "x-wso2-cors:\n  accessControlAllowOrigins: [\"https://own.example\"]\n"),
      write("none", ""), write("off", "x-wso2-cors: {corsConfigurationEnabled: false}\n")};
  std::vector<ApiLoadError> errors;
  auto apis = buildApis(cfg, &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].toString();
  ASSERT_EQ(apis.size(), 3u);
  for (const auto& api : apis) {
    if (api.name == "own") {
      ASSERT_TRUE(api.cors);
      EXPECT_TRUE(api.cors->originAllowed("https://own.example"));
      EXPECT_FALSE(api.cors->originAllowed("https://global.example"));
    } else if (api.name == "none") {
      ASSERT_TRUE(api.cors);
      EXPECT_TRUE(api.cors->originAllowed("https://global.example"));
    } else {
      EXPECT_FALSE(api.cors);
    }
  }
}

TEST_F(CorsDefinitionTest, BadValuesNameTheirPointer) {
  struct Case {
    const char* cors;
    const char* expect;
  };
  for (const Case& c : {
           Case{"x-wso2-cors:\n  accessControlAllowOrigins: [\"https://*.com\"]\n",
                "/x-wso2-cors/accessControlAllowOrigins/0"},
           Case{"x-wso2-cors:\n  accessControlAllowMethods: [\"GE T\"]\n",
                "/x-wso2-cors/accessControlAllowMethods/0"},
           Case{"x-wso2-cors:\n  accessControlMaxAge: 99999\n", "/x-wso2-cors/accessControlMaxAge"},
           Case{"x-wso2-cors:\n  accessControlAllowOrigin: [\"*\"]\n", "unknown field"},
           Case{"x-wso2-cors: [1]\n", "must be an object"},
           Case{"x-wso2-cors:\n  accessControlAllowCredentials: maybe\n", "true or false"},
           Case{"x-wso2-cors:\n  accessControlAllowOrigins: [\"*\"]\n"
                "  accessControlAllowCredentials: true\n",
                "cannot be combined with accessControlAllowCredentials = true"},
       }) {
    std::vector<ApiLoadError> errors;
    auto apis = loadApiDefinitions({write("bad", c.cors)}, &errors);
    EXPECT_TRUE(apis.empty()) << c.cors;
    std::string all;
    for (const auto& e : errors) all += e.toString() + "\n";
    EXPECT_NE(all.find(c.expect), std::string::npos) << c.cors << "\n" << all;
  }
}

}  // namespace
}  // namespace mgw::apis
