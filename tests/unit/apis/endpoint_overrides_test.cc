#include "apis/endpoint_overrides.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/base64url.h"

namespace mgw::apis {
namespace {

using config::EndpointOverride;
using gateway::ApiDefinition;

// Two named lists (one used as production and sandbox, one by an operation), the API's own
// sandbox list, and an operation's inline list.
const char* kDefinition = R"(openapi: 3.0.0
info: {title: ArchiveAPI, version: "1.0.0"}
x-wso2-basePath: /archive/v1
x-wso2-endpoints:
  - archiveBackend:
      urls: ["http://127.0.0.1:8001/archive", "http://127.0.0.1:8002/archive"]
      type: failover
      securityConfig: {type: basic, username: archivist}
  - mapsBackend:
      urls: ["http://127.0.0.1:8003/maps"]
      securityConfig: {type: basic, username: cartographer, password: "maps-pw"}
x-wso2-production-endpoints: "#/x-wso2-endpoints/archiveBackend"
x-wso2-sandbox-endpoints: {urls: ["http://127.0.0.1:8004/sandbox"]}
paths:
  /boxes: {get: {}}
  /maps:
    get:
      x-wso2-production-endpoints: {$ref: "#/x-wso2-endpoints/mapsBackend"}
      x-wso2-sandbox-endpoints: "#/x-wso2-endpoints/archiveBackend"
  /inline:
    get:
      x-wso2-production-endpoints: {urls: ["http://127.0.0.1:8005/inline"]}
security: []
)";

// md5("ArchiveAPI:1.0.0"), as `echo -n ArchiveAPI:1.0.0 | md5sum` prints it.
const std::string kApiId = "api_" + std::string("01f4a3343aad578fc3084f00d2c3b710");

std::string definitionFile(const std::string& text) {
  // One file per process: ctest runs this file's tests in parallel processes.
  const std::string path =
      ::testing::TempDir() + "/mgw_endpoint_overrides_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

std::string joined(const std::vector<ApiLoadError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.toString() + "\n";
  return out;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64Encode(user + ":" + password);
}

struct Result {
  std::vector<ApiDefinition> apis;
  std::vector<ApiLoadError> errors;
};

Result build(std::vector<EndpointOverride> overrides, const std::string& text = kDefinition) {
  config::Config c;
  c.sourcePath = "test.conf";
  c.apis.definitions = {definitionFile(text)};
  c.endpointOverrides = std::move(overrides);
  Result r;
  r.apis = buildApis(c, &r.errors);
  return r;
}

const gateway::Resource& resource(const ApiDefinition& api, const std::string& path) {
  for (const auto& res : api.resources)
    if (res.pathTemplate == path) return res;
  ADD_FAILURE() << path;
  return api.resources.front();
}

TEST(EndpointOverridesTest, Wso2ApiIdIsMd5OfTitleAndVersion) {
  EXPECT_EQ(wso2ApiId("ArchiveAPI", "1.0.0"), kApiId);
  EXPECT_EQ(wso2ApiId("", ""), "api_853ae90f0351324bd73ea615e6487517");  // md5(":")
}

TEST(EndpointOverridesTest, NamesAsWso2sToolkitGaveThem) {
  auto r = build({{"archiveBackend_prod_basic_password", "archive-pw", "the environment"},
                  {"archiveBackend_sand_basic_password", "sand-pw", "the environment"}});
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.apis.size(), 1u);
  const ApiDefinition& api = r.apis[0];
  EXPECT_EQ(api.production.overrideName, "archiveBackend");
  EXPECT_EQ(api.sandbox.overrideName, kApiId);
  EXPECT_EQ(resource(api, "/maps").production.overrideName, "mapsBackend");
  EXPECT_EQ(resource(api, "/maps").sandbox.overrideName, "archiveBackend");
  EXPECT_EQ(resource(api, "/inline").production.overrideName, "");
  // The password WSO2 3.x read only from the override.
  EXPECT_EQ(api.production.backendAuthorization, basic("archivist", "archive-pw"));
  // Used as sandbox, the same entry takes the _sand_ keys.
  EXPECT_EQ(resource(api, "/maps").sandbox.backendAuthorization, basic("archivist", "sand-pw"));
  EXPECT_EQ(resource(api, "/maps").production.backendAuthorization,
            basic("cartographer", "maps-pw"));
}

TEST(EndpointOverridesTest, UrlsAndCredentialsReplaced) {
  auto r = build({
      {"archiveBackend_prod_endpoint_1", "http://10.0.0.2:9000/archive/", "the command line"},
      {"archiveBackend_prod_basic_password", "archive-pw", "the environment"},
      {"archiveBackend_sand_basic_password", "sand-pw", "the environment"},
      {"archiveBackend_sand_endpoint_0", "https://sandbox.test/archive", "the environment"},
      {"mapsBackend_prod_basic_username", "surveyor", "test.conf:1"},
      {kApiId + "_sand_endpoint_0", "http://127.0.0.1:8999/sb", "test.conf:2"},
  });
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  const ApiDefinition& api = r.apis.at(0);
  // Index 1 only; index 0 and the failover order stay; the trailing '/' is dropped.
  EXPECT_EQ(api.production.urls, (std::vector<std::string>{"http://127.0.0.1:8001/archive",
                                                           "http://10.0.0.2:9000/archive"}));
  EXPECT_TRUE(api.production.failover);
  EXPECT_EQ(api.sandbox.urls, std::vector<std::string>{"http://127.0.0.1:8999/sb"});
  const auto& maps = resource(api, "/maps");
  // A new user name keeps the definition's password.
  EXPECT_EQ(maps.production.backendAuthorization, basic("surveyor", "maps-pw"));
  // The entry used as an operation's sandbox: _sand_ keys, apart from its production use.
  EXPECT_EQ(maps.sandbox.urls, (std::vector<std::string>{"https://sandbox.test/archive",
                                                         "http://127.0.0.1:8002/archive"}));
  EXPECT_EQ(maps.sandbox.backendAuthorization, basic("archivist", "sand-pw"));
  EXPECT_EQ(api.production.backendAuthorization, basic("archivist", "archive-pw"));
}

TEST(EndpointOverridesTest, MissingPasswordNamesTheKeyToSet) {
  auto r = build({});
  EXPECT_TRUE(r.apis.empty());
  // Production and the operation's sandbox use: one error each, however many operations.
  ASSERT_EQ(r.errors.size(), 2u) << joined(r.errors);
  EXPECT_NE(joined(r.errors).find("endpoint list 'archiveBackend' (production): securityConfig has "
                                  "no password; set archiveBackend_prod_basic_password"),
            std::string::npos)
      << joined(r.errors);
  EXPECT_NE(joined(r.errors).find("set archiveBackend_sand_basic_password"), std::string::npos);
}

TEST(EndpointOverridesTest, BadOverridesStopTheLoadWithTheirName) {
  const EndpointOverride pw{"archiveBackend_prod_basic_password", "p", "the environment"};
  const EndpointOverride sandPw{"archiveBackend_sand_basic_password", "p", "the environment"};
  struct Case {
    EndpointOverride bad;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"archiveBackend_prod_endpoint_0", "not a url", "the environment"},
       "the environment: endpoint override archiveBackend_prod_endpoint_0: endpoint 'not a url'"},
      {{"archiveBackend_prod_endpoint_0", "", "the command line"},
       "the command line: endpoint override archiveBackend_prod_endpoint_0: is empty"},
      {{"archiveBackend_prod_endpoint_0", "etcd(k,http://x)", "test.conf:4"},
       "test.conf:4: endpoint override archiveBackend_prod_endpoint_0: etcd(...) service "
       "discovery is not supported"},
      {{"archiveBackend_prod_endpoint_0", "h2c://127.0.0.1:1", "the environment"},
       "endpoint list 'archiveBackend' (production) after its overrides: endpoint "
       "'http://127.0.0.1:8002/archive' speaks HTTP/1.1"},
      {{"archiveBackend_prod_endpoint_2", "http://x:1", "the environment"},
       "endpoint override archiveBackend_prod_endpoint_2: endpoint list 'archiveBackend' "
       "(production) has fewer than 3 URLs"},
      {{"mapsBackend_sand_endpoint_0", "http://x:1", "the environment"},
       "endpoint override mapsBackend_sand_endpoint_0: endpoint list 'mapsBackend' is not used as "
       "sandbox endpoints"},
      {{"archiveBakcend_prod_endpoint_0", "http://x:1", "the environment"},
       "endpoint override archiveBakcend_prod_endpoint_0: no API's endpoint list is named "
       "'archiveBakcend'"},
      {{kApiId + "_sand_basic_password", "x", "the environment"},
       "has no securityConfig {type: basic}: there is no basic auth to override"},
      {{"mapsBackend_prod_basic_username", "a:b", "the environment"},
       "endpoint override mapsBackend_prod_basic_username: must be a non-empty user name"},
      {{"mapsBackend_prod_basic_password", "", "the environment"},
       "endpoint override mapsBackend_prod_basic_password: must be a non-empty password"},
  };
  for (const Case& c : cases) {
    // Any error stops the load (buildRuntimeState); a key's own list is left out as well.
    auto r = build({pw, sandPw, c.bad});
    ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
    EXPECT_NE(r.errors[0].toString().find(c.expected), std::string::npos) << r.errors[0].toString();
  }
  // The unknown name lists the names that can be overridden.
  auto r = build({pw, sandPw, {"nope_prod_endpoint_0", "http://x:1", "the environment"}});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].toString().find("known: " + kApiId +
                                        " (sand), archiveBackend (prod, sand), mapsBackend (prod)"),
            std::string::npos)
      << r.errors[0].toString();
  // A password is never repeated in an error.
  r = build({pw, sandPw, {"mapsBackend_prod_basic_password", "secret\nline", "the environment"}});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].toString().find("secret"), std::string::npos);
}

TEST(EndpointOverridesTest, ServersFallbackIsTheApisOwnList) {
  auto r = build({{kApiId + "_prod_endpoint_0", "http://127.0.0.1:7000", "the environment"}},
                 "openapi: 3.0.0\ninfo: {title: ArchiveAPI, version: \"1.0.0\"}\n"
                 "servers: [{url: \"http://backend.test/archive\"}]\n"
                 "paths:\n  /boxes: {get: {security: []}}\n");
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  EXPECT_EQ(r.apis.at(0).production.urls, std::vector<std::string>{"http://127.0.0.1:7000"});
}

}  // namespace
}  // namespace mgw::apis
