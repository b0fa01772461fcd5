// The schemas of a definition for request and response validation (issue 27): the document as
// JSON (once), then each operation's parameters, request body and answers compiled by
// validation/operation.h, and x-mgw-validation. Internal to apis/. Trusts nothing in the
// document: a dangling or circular $ref, or a schema the library refuses, is an error with its
// JSON pointer (kept apart: it fails the load only where validation is on).
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apis/definition_reader.h"

namespace mgw::apis {

// A YAML document as JSON (YAML 1.2 core schema for plain scalars; quoted scalars stay strings).
// nullopt with *error when it is deeper than 256 levels or larger than 4 million values (alias
// fan-out).
std::optional<nlohmann::json> yamlToJson(const YAML::Node& node, std::string* error);

// x-mgw-validation (true, false, or {request: bool, response: bool}) into the API, and every
// resource's compiled schemas; schema errors go to *schemaErrors. False on a malformed
// x-mgw-validation (an error in r).
bool readSchemas(Reader& r, const YAML::Node& root, bool swagger2, gateway::ApiDefinition* api,
                 std::vector<ApiLoadError>* schemaErrors);

}  // namespace mgw::apis
