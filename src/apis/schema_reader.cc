#include "apis/schema_reader.h"

#include <regex>

#include "validation/operation.h"
#include "validation/schema.h"

namespace mgw::apis {

using nlohmann::json;

namespace {

constexpr int kMaxDepth = 256;
constexpr std::size_t kMaxValues = 4 * 1024 * 1024;

bool isDigits(const std::string& s, std::size_t from) {
  if (from >= s.size()) return false;
  for (std::size_t i = from; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// A plain scalar under the YAML 1.2 core schema (section 10.3.2).
json plainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (isDigits(s, s[0] == '-' || s[0] == '+' ? 1 : 0) && s.size() < 19) return json(std::stoll(s));
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s.size() < 64 && std::regex_match(s, kFloat)) {
    json parsed = json::parse(s[0] == '+' ? s.substr(1) : s, nullptr, false);
    if (!parsed.is_discarded()) return parsed;
    return json(std::stod(s));
  }
  return s;
}

struct Converter {
  std::size_t values = 0;
  std::string error;

  std::optional<json> convert(const YAML::Node& n, int depth) {
    if (depth > kMaxDepth) {
      error = "the document is nested deeper than " + std::to_string(kMaxDepth) + " levels";
      return std::nullopt;
    }
    if (++values > kMaxValues) {
      error = "the document has more than 4194304 values once its aliases are expanded";
      return std::nullopt;
    }
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar:
        return n.Tag() == "!" ? json(n.Scalar()) : plainScalar(n.Scalar());
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const auto& item : n) {
          auto v = convert(item, depth + 1);
          if (!v) return std::nullopt;
          out.push_back(std::move(*v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            error = "a map key is not a string";
            return std::nullopt;
          }
          auto v = convert(kv.second, depth + 1);
          if (!v) return std::nullopt;
          out[kv.first.Scalar()] = std::move(*v);
        }
        return out;
      }
    }
    return json(nullptr);
  }
};

bool readSwitch(Reader& r, const YAML::Node& node, gateway::ApiDefinition* api) {
  const std::string pointer = "/x-mgw-validation";
  if (node.IsScalar()) {
    auto v = r.boolean(node, pointer);
    if (!v) return false;
    api->ownRequestValidation = *v;
    api->ownResponseValidation = *v;
    return true;
  }
  if (!node.IsMap()) {
    r.error(pointer, "must be true, false or {request: true|false, response: true|false}");
    return false;
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (key != "request" && key != "response") {
      r.error(pointer + "/" + validation::escapePointerToken(key),
              "unknown key: x-mgw-validation takes request and response");
      return false;
    }
    auto v = r.boolean(kv.second, pointer + "/" + key);
    if (!v) return false;
    (key == "request" ? api->ownRequestValidation : api->ownResponseValidation) = *v;
  }
  return true;
}

}  // namespace

std::optional<json> yamlToJson(const YAML::Node& node, std::string* error) {
  Converter c;
  auto out = c.convert(node, 0);
  if (!out && error) *error = c.error;
  return out;
}

bool readSchemas(Reader& r, const YAML::Node& root, bool swagger2, gateway::ApiDefinition* api,
                 std::vector<ApiLoadError>* schemaErrors) {
  if (const YAML::Node v = root["x-mgw-validation"]; v && !readSwitch(r, v, api)) return false;
  std::string why;
  auto document = yamlToJson(root, &why);
  if (!document) {
    schemaErrors->push_back(ApiLoadError{r.file, "", why});
    return true;
  }
  validation::Dialect dialect = validation::Dialect::kOpenApi30;
  if (swagger2)
    dialect = validation::Dialect::kSwagger2;
  else if (root["openapi"].Scalar().rfind("3.1", 0) == 0)
    dialect = validation::Dialect::kOpenApi31;
  for (gateway::Resource& res : api->resources) {
    std::string method = res.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string pointer =
        "/paths/" + validation::escapePointerToken(res.pathTemplate) + "/" + method;
    std::vector<validation::SchemaError> errors;
    res.schemas = validation::buildOperation(*document, pointer, dialect, &errors);
    for (auto& e : errors)
      schemaErrors->push_back(ApiLoadError{r.file, e.pointer, std::move(e.message)});
  }
  return true;
}

}  // namespace mgw::apis
