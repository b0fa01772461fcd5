// The cost of one validated request body (issue 27) without the rest of the gateway: the schema
// and the 1 KiB order of bench/validation.sh, checked N times by validation::checkRequestBody.
// Prints the time per check; under callgrind (load-independent) the instructions per check are
// the program's total over N (the set-up is a few hundred thousand, negligible at N = 5000):
//   build-bench/bench/mgw-validation-cost [N]
//   valgrind --tool=callgrind --toggle-collect='mgw::validation::checkRequestBody*' \
//     build-bench/bench/mgw-validation-cost 5000
// and the same check through valijson only (before the RapidJSON fast path), for comparison:
//   valgrind --tool=callgrind --toggle-collect='checkValijsonOnly*' \
//     build-bench/bench/mgw-validation-cost 5000 valijson
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "validation/operation.h"
#include "validation/schema.h"

namespace {

using nlohmann::json;

// bench/validation.sh's definition, as JSON.
json definition() {
  return json::parse(R"({
    "openapi": "3.0.3",
    "info": {"title": "Bench", "version": "1.0.0"},
    "paths": {"/orders": {"post": {
      "requestBody": {"required": true, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Order"}}}},
      "responses": {"200": {"description": "ok"}}}}},
    "components": {"schemas": {
      "Line": {"type": "object", "required": ["sku", "quantity"], "additionalProperties": false,
        "properties": {
          "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
          "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
          "note": {"type": "string", "nullable": true, "maxLength": 64}}},
      "Order": {"type": "object", "required": ["id", "customer", "lines"],
        "properties": {
          "id": {"type": "integer", "format": "int64"},
          "customer": {"type": "string", "maxLength": 64},
          "express": {"type": "boolean"},
          "lines": {"type": "array", "maxItems": 100,
                    "items": {"$ref": "#/components/schemas/Line"}}}}}}
  })");
}

// bench/validation.sh's body: 17 lines, padded with spaces to 1,024 bytes.
std::string body() {
  json lines = json::array();
  for (int i = 0; i < 17; ++i) {
    char sku[16];
    std::snprintf(sku, sizeof sku, "ABC-%04d", i);
    lines.push_back(
        {{"sku", sku}, {"quantity", i + 1}, {"note", i % 2 ? json(nullptr) : json("fragile")}});
  }
  std::string text = json{
      {"id", 4242},
      {"customer", "bench customer"},
      {"express", true},
      {"lines", lines}}.dump();
  while (text.size() < 1024) text.insert(text.size() - 1, " ");
  return text;
}

}  // namespace

// noinline: callgrind counts it by name.
__attribute__((noinline)) bool checkValijsonOnly(const mgw::validation::CompiledSchema& schema,
                                                 const std::string& text) {
  std::string unreadable;
  return !schema.checkTextValijson(text, &unreadable) && unreadable.empty();
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  // "valijson": the check through valijson only (the path before the RapidJSON fast path)
  const bool valijsonOnly = argc > 2 && std::string(argv[2]) == "valijson";
  std::vector<mgw::validation::SchemaError> errors;
  auto op = mgw::validation::buildOperation(definition(), "/paths/~1orders/post",
                                            mgw::validation::Dialect::kOpenApi30, &errors);
  if (!op) {
    std::fprintf(stderr, "the definition was refused: %s\n", errors.front().message.c_str());
    return 1;
  }
  const std::string text = body();
  auto bad = mgw::validation::checkRequestBody(*op, "application/json", R"({"id":1})");
  if (bad.ok()) {
    std::fprintf(stderr, "an invalid body passed\n");
    return 1;
  }
  const mgw::validation::CompiledSchema& schema = *op->body.front().schema;
  std::printf("fast path: %s\n",
              schema.hasFastPath() ? "yes" : ("no: " + schema.noFastPathReason()).c_str());
  if (valijsonOnly) {
    // The same check through valijson alone (what checkText did before the fast path), for a
    // before/after from one binary: callgrind's --toggle-collect='checkValijsonOnly*'.
    std::string unreadable;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i)
      if (!checkValijsonOnly(schema, text)) {
        std::fprintf(stderr, "the body was refused\n");
        return 1;
      }
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    std::printf("%zu-byte body, %d checks through valijson only: %.0f ns per check\n", text.size(),
                n, ns / n);
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto r = mgw::validation::checkRequestBody(*op, "application/json", text);
    if (!r.ok()) {
      std::fprintf(stderr, "the body was refused: %s\n", r.description.c_str());
      return 1;
    }
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu-byte body, %d checks: %.0f ns per check\n", text.size(), n, ns / n);
  return 0;
}
