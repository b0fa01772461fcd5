// Issue 26 at load: x-mgw-plans and [[apis.api.plans]] with their rules compiled once (errors with
// the pointer or the line, and the line and column inside the rule), and the cookie and bearer
// key locations of OpenAPI security schemes and inline APIs.
#include <gtest/gtest.h>

#include <fstream>

#include "apis/openapi_loader.h"
#include "gateway/selection_rule.h"

namespace mgw::apis {
namespace {

using gateway::KeyLocation;

std::string joined(const std::vector<ApiLoadError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.toString() + "\n";
  return out;
}

std::vector<gateway::ApiDefinition> load(const std::string& text,
                                         std::vector<ApiLoadError>* errors) {
  // One file per test: ctest runs the tests of this suite in parallel.
  const std::string path = ::testing::TempDir() + "/mgw_plans_loader_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                           ".yaml";
  {
    std::ofstream out(path);
    out << R"(openapi: 3.0.0
info: {title: Plans, version: "1"}
x-wso2-basePath: /plans
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
components:
  securitySchemes:
    cookieKey: {type: apiKey, in: cookie, name: mgw_key}
    bearerKey: {type: http, scheme: bearer, x-mgw-api-key: true}
security: [{cookieKey: []}, {bearerKey: []}]
paths: {/a: {get: {}}}
)" << text;
  }
  return loadApiDefinitions({path}, errors);
}

TEST(PlansLoaderTest, OpenApiPlansAndKeyLocations) {
  std::vector<ApiLoadError> errors;
  auto apis = load(R"(x-mgw-plans:
  - name: gold
    tier: Gold
    selectionRule: "{#request.headers['x-tier'][0] == 'gold'}"
  - name: partners
    security: [oauth2, basic]
    subscriptionRequired: true
)",
                   &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  const auto& api = apis[0];
  ASSERT_EQ(api.plans.size(), 2u);
  EXPECT_EQ(api.plans[0].name, "gold");
  EXPECT_EQ(api.plans[0].tier, "Gold");
  EXPECT_TRUE(api.plans[0].security.apiKey);  // the default
  ASSERT_TRUE(api.plans[0].rule);
  EXPECT_FALSE(api.plans[1].rule);
  EXPECT_TRUE(api.plans[1].security.oauth2 && api.plans[1].security.basic);
  EXPECT_FALSE(api.plans[1].security.apiKey);
  EXPECT_TRUE(api.plans[1].subscriptionRequired);
  ASSERT_EQ(api.keySources.size(), 2u);
  EXPECT_EQ(api.keySources[0].in, KeyLocation::kCookie);
  EXPECT_EQ(api.keySources[0].name, "mgw_key");
  EXPECT_EQ(api.keySources[1].in, KeyLocation::kBearer);
  EXPECT_EQ(api.keySources[1].name, "Authorization");
}

TEST(PlansLoaderTest, ABadRuleNamesThePointerAndTheLineAndColumn) {
  std::vector<ApiLoadError> errors;
  EXPECT_TRUE(load(R"(x-mgw-plans:
  - name: gold
  - name: silver
    selectionRule: "request.headers['x'] == 'a' || request.path = '/x'"
)",
                   &errors)
                  .empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0].pointer, "/x-mgw-plans/1/selectionRule");
  EXPECT_EQ(errors[0].message, "line 1, column 45: '=' is not an operator; compare with '=='");

  for (const auto& [text, pointer] : std::vector<std::pair<std::string, std::string>>{
           {"x-mgw-plans: {gold: {}}\n", "/x-mgw-plans"},
           {"x-mgw-plans: [{tier: Gold}]\n", "/x-mgw-plans/0/name"},
           {"x-mgw-plans: [{name: a}, {name: a}]\n", "/x-mgw-plans/1/name"},
           {"x-mgw-plans: [{name: a, security: [mtls]}]\n", "/x-mgw-plans/0/security/0"},
           {"x-mgw-plans: [{name: a, rule: x}]\n", "/x-mgw-plans/0/rule"}}) {
    errors.clear();
    EXPECT_TRUE(load(text, &errors).empty()) << text;
    ASSERT_EQ(errors.size(), 1u) << text << joined(errors);
    EXPECT_EQ(errors[0].pointer, pointer) << text;
  }
}

TEST(PlansLoaderTest, ApiKeyOnlyOnABearerHttpScheme) {
  const std::string path = ::testing::TempDir() + "/mgw_plans_basic_key.yaml";
  {
    std::ofstream out(path);
    out << R"(openapi: 3.0.0
info: {title: Odd, version: "1"}
x-wso2-basePath: /odd
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1/x"]}
components:
  securitySchemes:
    odd: {type: http, scheme: basic, x-mgw-api-key: true}
paths: {/a: {get: {}}}
)";
  }
  std::vector<ApiLoadError> errors;
  EXPECT_TRUE(loadApiDefinitions({path}, &errors).empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0].pointer, "/components/securitySchemes/odd/x-mgw-api-key");
}

TEST(PlansLoaderTest, InlinePlansAndKeyLocations) {
  config::InlineApi in;
  in.name = "Menu";
  in.version = "1";
  in.context = "/menu";
  in.production = {"http://127.0.0.1:1/menu"};
  in.line = 7;
  in.apiKeyBearer = true;
  in.apiKeyCookie = "mgw_key";
  config::PlanConfig gold;
  gold.name = "gold";
  gold.tier = "Gold";
  gold.selectionRule = "key.claims['keytype'] == 'SANDBOX'";
  in.plans = {gold};
  config::Config cfg;
  cfg.sourcePath = "conf/micro-gw.conf";
  cfg.apis.inlineApis.push_back(in);
  std::vector<ApiLoadError> errors;
  auto apis = buildApis(cfg, &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  ASSERT_EQ(apis[0].plans.size(), 1u);
  EXPECT_TRUE(apis[0].plans[0].rule);
  EXPECT_EQ(apis[0].keySources.size(), 4u);
  EXPECT_EQ(apis[0].keySources[2].in, KeyLocation::kBearer);
  EXPECT_EQ(apis[0].keySources[3].in, KeyLocation::kCookie);

  cfg.apis.inlineApis[0].plans[0].selectionRule = "key.claims['keytype'] ==\n  'SANDBOX' &&";
  cfg.apis.inlineApis[0].plans[0].ruleLine = 12;
  errors.clear();
  EXPECT_TRUE(buildApis(cfg, &errors).empty());
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_NE(errors[0].toString().find("conf/micro-gw.conf:12"), std::string::npos)
      << joined(errors);
  EXPECT_NE(errors[0].toString().find(
                "[[apis.api.plans]] gold selectionRule: line 2, column 15: expected a value"),
            std::string::npos)
      << joined(errors);
}

// Issue 26: x-mgw-publishers, a list of user names; anything else is a load error at its pointer.
TEST(PlansLoaderTest, OpenApiPublishers) {
  std::vector<ApiLoadError> errors;
  auto apis = load("x-mgw-publishers: [bob, carol]\n", &errors);
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(apis.size(), 1u);
  EXPECT_EQ(apis[0].publishers, (std::vector<std::string>{"bob", "carol"}));

  errors.clear();
  EXPECT_TRUE(load("x-mgw-publishers: bob\n", &errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(joined(errors).find("/x-mgw-publishers"), std::string::npos) << joined(errors);
  EXPECT_NE(joined(errors).find("must be a list of user names"), std::string::npos);
  errors.clear();
  EXPECT_TRUE(load("x-mgw-publishers: [\"\"]\n", &errors).empty());
  EXPECT_NE(joined(errors).find("/x-mgw-publishers/0"), std::string::npos) << joined(errors);
}

}  // namespace
}  // namespace mgw::apis
