// Reads one OpenAPI 3.x or Swagger 2.0 document (parsed YAML or JSON) into an ApiDefinition, one
// reader per part of the document (info, servers, context, endpoints, security schemes and
// requirements, the x-wso2-* extensions, paths and operations, CORS), and the checks the inline
// [[apis.api]] tables share with it. Internal to apis/: apis/openapi_loader.h is the interface.
// Trusts nothing in the document: every problem is an error naming its JSON pointer.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "apis/openapi_loader.h"
#include "gateway/api.h"

namespace mgw::apis {

// One definition file being read: collects errors with the file name.
struct Reader {
  std::string file;
  std::vector<ApiLoadError>* errors;
  std::vector<ApiLoadError>* warnings = nullptr;
  bool ok = true;

  // Loads, but worth a startup log line (WSO2 MGW 3.x constructs micro-gw does not serve).
  void warn(const std::string& pointer, const std::string& message) {
    if (warnings) warnings->push_back(ApiLoadError{file, pointer, message});
  }

  void error(const std::string& pointer, const std::string& message) {
    ok = false;
    if (errors) errors->push_back(ApiLoadError{file, pointer, message});
  }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& pointer,
                                    const char* what) {
    if (!node.IsScalar()) {
      error(pointer, std::string(what) + " must be a string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& pointer) {
    bool v = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, v)) {
      error(pointer, "must be true or false");
      return std::nullopt;
    }
    return v;
  }
};

// A definition as read, with where its name and context came from.
struct Loaded {
  gateway::ApiDefinition api;
  std::string contextPointer;  // where the context came from, for duplicate-context errors
  std::string namePointer;
  // Schema problems (issue 27: a dangling or circular $ref): errors only where validation is on.
  std::vector<ApiLoadError> schemaErrors;
};

// The definition in root (a document of r.file), or nullopt with every error in r.
std::optional<Loaded> readDefinition(Reader& r, const YAML::Node& root);

// Normalises a context (basePath) in place; returns why it is unusable, or "" when it is fine.
std::string checkContext(std::string* ctx);

// Normalises an endpoint URL in place (drops a trailing '/'); returns why it is unusable, or "".
std::string checkEndpointUrl(std::string* url);

// "" when every URL of one endpoint list speaks the same protocol (HTTP/1.1: http, https; HTTP/2:
// h2c, h2); else why not, naming the first URL of the other protocol. URLs already checked.
std::string checkOneProtocol(const std::vector<std::string>& urls);

void replaceAll(std::string* s, const std::string& from, const std::string& to);

}  // namespace mgw::apis
