// What one OpenAPI operation declares about its requests and answers, compiled once at load
// (buildOperation), and the checks of a request's parameters and JSON body, and of an answer's
// status, content type and JSON body against it. Trusts the definition (already read); nothing in
// a request or an answer: every value is checked, and a description never echoes more than a
// short excerpt of it.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "message/http_message.h"
#include "validation/schema.h"

namespace mgw::validation {

enum class Dialect { kSwagger2, kOpenApi30, kOpenApi31 };

enum class ParamIn { kPath, kQuery, kHeader, kCookie };

struct Parameter {
  std::string name;
  ParamIn in = ParamIn::kQuery;
  bool required = false;
  // How an array is written (OpenAPI 3 style/explode; Swagger 2 collectionFormat mapped onto
  // them): form + explode = repeated parameters; form, simple = commas; spaceDelimited,
  // pipeDelimited.
  std::string style;
  bool explode = false;
  std::string type;       // the schema's type ("" = any): how the text is read before checking
  std::string itemsType;  // an array's items' type
  std::shared_ptr<const CompiledSchema> schema;  // null: only presence is checked
};

struct MediaSchema {
  std::string mediaType;                         // lower case, without parameters
  std::shared_ptr<const CompiledSchema> schema;  // null: not a JSON type, or no schema
};

struct ResponseSpec {
  std::string status;  // "200", "2XX" or "default"
  std::vector<MediaSchema> content;
};

struct OperationSchemas {
  std::vector<Parameter> parameters;
  bool bodyDeclared = false;
  bool bodyRequired = false;
  std::vector<MediaSchema> body;
  bool responsesDeclared = false;
  std::vector<ResponseSpec> responses;

  // A body schema exists: the body must be read and checked.
  bool checksBody() const;
};

// What a check found: kNone, or the failure and a description for the client.
struct Finding {
  Failure failure = Failure::kNone;
  std::string description;
  bool ok() const { return failure == Failure::kNone; }
};

// The operation at opPointer ("/paths/~1pet/post") of document (the whole definition as JSON),
// with its path item's parameters. Errors (a dangling or circular $ref, a schema the library
// refuses) are appended with their JSON pointer; null when there are any.
std::shared_ptr<const OperationSchemas> buildOperation(const nlohmann::json& document,
                                                       const std::string& opPointer,
                                                       Dialect dialect,
                                                       std::vector<SchemaError>* errors);

// The request's path (after the API context), query, header and cookie parameters.
// pathTemplate is the resource's ("/pet/{petId}"), path the request's decoded path after the
// context.
Finding checkParameters(const OperationSchemas& op, const message::HttpRequest& request,
                        std::string_view pathTemplate, std::string_view path);

// The request body (whole, as received) with its Content-Type.
Finding checkRequestBody(const OperationSchemas& op, std::string_view contentType,
                         std::string_view body);

// The answer's head: its status declared, its content type one the status declares. *schema is
// set to the JSON schema its body must match (null: the body is not checked).
Finding checkResponseHead(const OperationSchemas& op, int status, std::string_view contentType,
                          const CompiledSchema** schema);

// An answer body against the schema checkResponseHead gave.
Finding checkResponseBody(const CompiledSchema& schema, std::string_view body);

// "application/json; charset=utf-8" -> "application/json".
std::string mediaTypeOf(std::string_view contentType);

}  // namespace mgw::validation
