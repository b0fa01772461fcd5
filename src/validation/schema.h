// JSON Schema checks with valijson (Debian libvalijson-dev, header-only, over nlohmann::json): an
// OpenAPI schema is prepared once when its definition loads ($refs inlined from the definition,
// OpenAPI 3.0's dialect translated to draft 4), compiled once, then checked against every
// instance. Trusts the schemas it compiled (they come from the operator's definitions); nothing
// in an instance.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::validation {

// The JSON Schema draft a schema is read as: draft 4 for Swagger 2.0 and OpenAPI 3.0 (their
// schema objects are draft 4 subsets), draft 7 for OpenAPI 3.1 (valijson has no 2020-12; draft 7
// is the nearest it has: numeric exclusiveMinimum, const, if/then/else).
enum class Draft { kDraft4, kDraft7 };

// Why an instance does not match: where (a JSON pointer into the instance, RFC 6901; "" is the
// whole value) and the rule that failed, in the library's words.
struct Violation {
  std::string pointer;
  std::string rule;
  struct Leaf {
    std::string pointer;
    std::string rule;
  };
  std::vector<Leaf> all;  // every failed rule found, at most kMaxListed (the first is above)
};
inline constexpr std::size_t kMaxListed = 5;

// The longest string (or object key) handed to a regular expression: valijson checks `pattern`,
// `patternProperties` and the date, time and date-time formats with std::regex, whose libstdc++
// executor recurses once or more per input character. Measured on an 8 MiB thread stack:
// regex_search of ^[a-z]+$ on 100,000 bytes overflows the stack, ^(a|b)*$ at 20,000 bytes, and
// under ASan ^((a|b)|(c|d))*$ at 4,096 bytes. A longer string where a regex would run is refused
// before valijson sees the instance (bodies up to maxBodyBytes, and parameters, which come
// through the same check() bounded only by maxHeaderBytes).
inline constexpr std::size_t kMaxRegexInputBytes = 1024;

// JSON text nested deeper than this is refused before it is parsed (the parser and the
// library's comparisons recurse per level).
inline constexpr int kMaxJsonDepth = 128;

// A definition problem found at load: where in the definition (a JSON pointer) and what.
struct SchemaError {
  std::string pointer;
  std::string message;
};

class CompiledSchema {
 public:
  // The compiled schema, or null with *error set (the library refused it). The same schema text
  // already compiled and still in use (an unchanged definition across a reload) is reused.
  static std::shared_ptr<const CompiledSchema> compile(const nlohmann::json& schema, Draft draft,
                                                       std::string* error);
  static std::shared_ptr<const CompiledSchema> compileUncached(const nlohmann::json& schema,
                                                               Draft draft, std::string* error);
  ~CompiledSchema();
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;

  // nullopt when the instance matches; else the most specific violation (the deepest pointer).
  [[nodiscard]] std::optional<Violation> check(const nlohmann::json& instance) const;

  // The same check of an instance given as JSON text (a request or response body): parsed with
  // RapidJSON into a pool the thread reuses (no allocation per value, nothing to destroy) and
  // checked through valijson's RapidJSON adapter, the compiled schema being the same. Text that
  // is not one JSON value (RFC 8259, UTF-8), is nested deeper than kMaxJsonDepth, or has an
  // object with a member name twice (whose meaning depends on the parser that reads it next),
  // is not checked: *unreadable says why ("is not valid JSON", ...) and nullopt is returned.
  //
  // A draft 4 schema whose every keyword is on the fast path's list (FastSchema in schema.cc) is
  // first checked in one pass, RapidJSON's reader feeding RapidJSON's SAX schema validator (no
  // DOM): a body it accepts is answered at once. Anything else (a refusal, or an instance the
  // fast path does not trust itself with) goes through valijson as above, so every answer is
  // valijson's, the reference the JSON Schema Test Suite checks.
  [[nodiscard]] std::optional<Violation> checkText(std::string_view text,
                                                   std::string* unreadable) const;

  // checkText through valijson only (the tests compare the fast path with it).
  [[nodiscard]] std::optional<Violation> checkTextValijson(std::string_view text,
                                                           std::string* unreadable) const;

  // What the fast path alone says of text: kNone when the schema has no fast path, kUnsure when
  // it stopped before a verdict (text that is not valid JSON, too deep, a duplicate member
  // name, or a value it leaves to valijson: see FastHandler in schema.cc).
  enum class FastVerdict { kNone, kUnsure, kValid, kInvalid };
  [[nodiscard]] FastVerdict checkFast(std::string_view text) const;
  bool hasFastPath() const;
  // Why the schema has no fast path (a JSON pointer into the schema and the reason); empty when
  // it has one.
  const std::string& noFastPathReason() const;
  // Bodies the fast path refused and valijson accepted (valijson's answer was used; the first
  // is logged once per schema).
  std::uint64_t fastDisagreements() const;
  // The `pattern`s the fast path checks with its own automaton (pattern_dfa.h) instead of
  // RapidJSON's regex: those reached from the root through properties and items only.
  std::size_t fastPatternAutomata() const;

  const nlohmann::json& source() const { return source_; }

 private:
  CompiledSchema() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  nlohmann::json source_;
};

// A reference token of a JSON pointer (RFC 6901 section 3): '~' as "~0", '/' as "~1".
std::string escapePointerToken(std::string_view token);

// The value at a local reference ("#/components/schemas/Pet", RFC 6901 with percent-decoding of
// the URI fragment), or null when the document has none there.
const nlohmann::json* resolveLocalRef(const nlohmann::json& document, const std::string& ref);

// Replaces every {"$ref": "#/..."} inside *schema (found at `pointer` of `document`) with a copy
// of what it names, recursively. A reference outside the document, one that names nothing
// (dangling) or one that leads back to itself (circular) is an error naming the JSON pointer of
// the $ref in the definition. A result past a size bound (reference fan-out) is an error too.
std::optional<SchemaError> inlineRefs(const nlohmann::json& document, const std::string& pointer,
                                      nlohmann::json* schema);

// OpenAPI 3.0's schema object (and Swagger 2.0's x-nullable) as draft 4 reads it: nullable adds
// "null" to type (and to enum); example, discriminator, xml, externalDocs, readOnly, writeOnly and
// deprecated are annotations, removed; format int32/int64 become minimum/maximum bounds.
// exclusiveMinimum/exclusiveMaximum are already draft 4's booleans. Walks subschemas only (a
// property named "example" stays a property).
void translateOpenApi30(nlohmann::json* schema);

// OpenAPI 3.1 (draft 2020-12 dialect) as valijson's draft 7 reads it: int32/int64 bounds.
void translateOpenApi31(nlohmann::json* schema);

}  // namespace mgw::validation
