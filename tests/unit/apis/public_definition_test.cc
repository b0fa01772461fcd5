#include "apis/public_definition.h"

#include <gtest/gtest.h>

namespace mgw::apis {
namespace {

using nlohmann::json;

gateway::ApiDefinition api(const std::string& context) {
  gateway::ApiDefinition a;
  a.name = "Shop";
  a.version = "1.0.0";
  a.context = context;
  return a;
}

TEST(PublicDefinition, ExtensionsAndBackendsGoNamesAndDataStay) {
  json doc = json::parse(R"({
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1.0.0", "x-wso2-owner": "team"},
    "servers": [{"url": "http://backend.internal:8080/v1"}],
    "x-wso2-production-endpoints": {"urls": ["http://b"],
                                    "securityConfig": {"password": "s3cret"}},
    "X-Vendor": {"token": "t"},
    "paths": {
      "x-paths-extension": 1,
      "/menu": {
        "servers": [{"url": "http://menu.internal"}],
        "get": {
          "servers": [{"url": "http://op.internal"}],
          "x-wso2-throttling-tier": "Gold",
          "parameters": [{"name": "x-id", "in": "header", "x-internal": true}],
          "responses": {
            "200": {
              "description": "ok",
              "headers": {"X-Rate-Limit": {"schema": {"type": "integer", "x-format": "a"}}},
              "content": {"application/json": {
                "schema": {"type": "object",
                           "properties": {"x-total": {"type": "integer", "x-nullable": true}},
                           "default": {"x-d": 1}, "enum": [{"x-e": 1}]},
                "examples": {"x-named": {"value": {"x-v": 1}, "x-note": "n"}}}}
            },
            "x-responses-extension": 1
          },
          "security": [{"x-key": []}]
        }
      }
    },
    "components": {"schemas": {"x-model": {"type": "string", "x-internal": 1}}}
  })");
  const json out = publicDefinition(doc, api("/shop/1.0.0"));
  EXPECT_EQ(out["info"], json::parse(R"({"title": "Shop", "version": "1.0.0"})"));
  EXPECT_EQ(out["servers"], json::parse(R"([{"url": "/shop/1.0.0"}])"));
  EXPECT_FALSE(out.contains("x-wso2-production-endpoints"));
  EXPECT_FALSE(out.contains("X-Vendor"));
  EXPECT_FALSE(out["paths"].contains("x-paths-extension"));
  const json& path = out["paths"]["/menu"];
  EXPECT_FALSE(path.contains("servers"));
  const json& get = path["get"];
  EXPECT_FALSE(get.contains("servers"));
  EXPECT_FALSE(get.contains("x-wso2-throttling-tier"));
  EXPECT_EQ(get["parameters"], json::parse(R"([{"name": "x-id", "in": "header"}])"));
  EXPECT_FALSE(get["responses"].contains("x-responses-extension"));
  const json& ok = get["responses"]["200"];
  EXPECT_EQ(ok["headers"]["X-Rate-Limit"], json::parse(R"({"schema": {"type": "integer"}})"));
  const json& media = ok["content"]["application/json"];
  EXPECT_EQ(media["schema"]["properties"], json::parse(R"({"x-total": {"type": "integer"}})"));
  EXPECT_EQ(media["schema"]["default"], json::parse(R"({"x-d": 1})"));
  EXPECT_EQ(media["schema"]["enum"], json::parse(R"([{"x-e": 1}])"));
  EXPECT_EQ(media["examples"], json::parse(R"({"x-named": {"value": {"x-v": 1}}})"));
  EXPECT_EQ(get["security"], json::parse(R"([{"x-key": []}])"));
  EXPECT_EQ(out["components"]["schemas"], json::parse(R"({"x-model": {"type": "string"}})"));
  EXPECT_EQ(out.dump().find("s3cret"), std::string::npos);
  EXPECT_EQ(out.dump().find("internal:"), std::string::npos);
}

TEST(PublicDefinition, Swagger2LosesHostAndSchemesAndGetsTheContext) {
  json doc = json::parse(R"({"swagger": "2.0", "info": {"title": "Shop", "version": "1.0.0"},
    "host": "backend.internal:9000", "schemes": ["http"], "basePath": "/v1",
    "x-wso2-basePath": "/shop/1.0.0", "paths": {}})");
  const json out = publicDefinition(doc, api("/shop/1.0.0"));
  EXPECT_FALSE(out.contains("host"));
  EXPECT_FALSE(out.contains("schemes"));
  EXPECT_FALSE(out.contains("servers"));
  EXPECT_FALSE(out.contains("x-wso2-basePath"));
  EXPECT_EQ(out["basePath"], "/shop/1.0.0");
}

TEST(PublicDefinition, InlineApiGetsAMinimalDocument) {
  gateway::ApiDefinition a = api("/echo/1.0.0");
  a.resources = {gateway::Resource{"*", "/*", true, {}, {}, {}, {}, {}}};
  a.keySources = {{gateway::KeyLocation::kHeader, "x-key"},
                  {gateway::KeyLocation::kBearer, "Authorization"}};
  const json out = generatedDefinition(a);
  EXPECT_EQ(out["openapi"], "3.0.3");
  EXPECT_EQ(out["servers"], json::parse(R"([{"url": "/echo/1.0.0"}])"));
  EXPECT_EQ(out["paths"], json::object());
  EXPECT_EQ(out["components"]["securitySchemes"], json::parse(R"({
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-key"},
    "apiKeyBearer": {"type": "http", "scheme": "bearer"}})"));
  EXPECT_EQ(out["security"], json::parse(R"([{"apiKeyHeader": []}, {"apiKeyBearer": []}])"));
  // An open API (security = []): no scheme.
  a.resources.front().secured = false;
  EXPECT_FALSE(generatedDefinition(a).contains("security"));
}

}  // namespace
}  // namespace mgw::apis
