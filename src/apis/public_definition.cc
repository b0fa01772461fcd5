#include "apis/public_definition.h"

#include <string_view>

namespace mgw::apis {
namespace {

using nlohmann::json;

// What a member's value is: an OpenAPI object (its "x-" members are extensions), a map whose keys
// are names (a schema's properties, a response's headers, components), or data (examples,
// defaults, enums, security requirements) that is never touched.
enum class Kind { kObject, kNames, kData };

bool isExtension(std::string_view key) {
  return key.size() > 2 && (key[0] == 'x' || key[0] == 'X') && key[1] == '-';
}

Kind kindOf(std::string_view key) {
  static constexpr std::string_view kData[] = {"example", "default", "enum",
                                               "const",   "value",   "security"};
  static constexpr std::string_view kNames[] = {
      "properties",       "patternProperties", "definitions",     "$defs",
      "dependentSchemas", "headers",           "securitySchemes", "securityDefinitions",
      "schemas",          "parameters",        "requestBodies",   "links",
      "callbacks",        "encoding",          "variables",       "scopes",
      "mapping",          "content",           "pathItems",       "webhooks",
      "examples"};
  for (std::string_view k : kData)
    if (key == k) return Kind::kData;
  for (std::string_view k : kNames)
    if (key == k) return Kind::kNames;
  return Kind::kObject;
}

void clean(json& node, Kind kind, int depth) {
  if (kind == Kind::kData || depth > 256) return;  // yamlToJson bounds the depth already
  if (node.is_array()) {
    for (json& item : node) clean(item, Kind::kObject, depth + 1);
    return;
  }
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end();) {
    if (kind == Kind::kObject && isExtension(it.key())) {
      it = node.erase(it);
      continue;
    }
    clean(it.value(), kind == Kind::kNames ? Kind::kObject : kindOf(it.key()), depth + 1);
    ++it;
  }
}

}  // namespace

json publicDefinition(json document, const gateway::ApiDefinition& api) {
  clean(document, Kind::kObject, 0);
  if (!document.is_object()) return document;
  if (document.contains("swagger")) {
    // Swagger 2.0: without host and schemes a client uses the gateway serving the document.
    document.erase("host");
    document.erase("schemes");
    document["basePath"] = api.context;
    return document;
  }
  // OpenAPI 3: the API's place on this gateway, relative to the gateway serving the document;
  // servers of a path or an operation would name backends too.
  document["servers"] = json::array({{{"url", api.context}}});
  if (auto paths = document.find("paths"); paths != document.end() && paths->is_object()) {
    for (auto& item : *paths) {
      if (!item.is_object()) continue;
      item.erase("servers");
      for (auto& operation : item)
        if (operation.is_object()) operation.erase("servers");
    }
  }
  return document;
}

json generatedDefinition(const gateway::ApiDefinition& api) {
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", api.name},
        {"version", api.version},
        {"description",
         "Declared in the gateway's configuration ([[apis.api]]) without an OpenAPI definition: "
         "every method and path under the context is forwarded to the API's backend."}}},
      {"servers", json::array({{{"url", api.context}}})},
      {"paths", json::object()}};
  const bool secured = !api.resources.empty() && api.resources.front().secured;
  if (!secured) return doc;
  json schemes = json::object(), security = json::array();
  for (const gateway::KeySource& source : api.keySources) {
    // Named by where the key goes: apiKeyHeader, apiKeyQuery, apiKeyCookie, apiKeyBearer.
    static constexpr const char* kIn[] = {"header", "query", "bearer", "cookie"};
    static_assert(static_cast<int>(gateway::KeyLocation::kCookie) == 3);
    const std::string in = kIn[static_cast<int>(source.in)];
    const std::string name =
        "apiKey" + std::string(1, static_cast<char>(in[0] - 'a' + 'A')) + in.substr(1);
    json scheme = source.in == gateway::KeyLocation::kBearer
                      ? json{{"type", "http"}, {"scheme", "bearer"}}
                      : json{{"type", "apiKey"}, {"in", in}, {"name", source.name}};
    if (schemes.contains(name)) continue;
    schemes[name] = std::move(scheme);
    security.push_back({{name, json::array()}});  // any one of them
  }
  doc["components"] = {{"securitySchemes", std::move(schemes)}};
  doc["security"] = std::move(security);
  return doc;
}

}  // namespace mgw::apis
