#include "validation/schema.h"

// valijson reports a schema it cannot use by throwing; without this it prints and aborts.
#define VALIJSON_USE_EXCEPTIONS 1

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

// RapidJSON for request and response bodies. With exceptions on, valijson's RapidJSON adapter
// makes RAPIDJSON_ASSERT a function taking __FILE__ as a std::string: an allocation per value
// accessed (measured: it tripled a body's check). Its own (throwing, as cheap as a branch) is
// defined here instead, and the adapter included without the macro it would redefine it for;
// everything else valijson reads the macro for is included above with it.
#define RAPIDJSON_ASSERT(x) \
  (static_cast<bool>(x) ? static_cast<void>(0) : throw std::logic_error("RapidJSON: " #x))
// RapidJSON's whitespace skipping with SSE2 where the target has it (every x86-64).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <stdexcept>
#undef VALIJSON_USE_EXCEPTIONS
#include <valijson/adapters/rapidjson_adapter.hpp>
#define VALIJSON_USE_EXCEPTIONS 1
// clang-format off
#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>  // its own regex (RAPIDJSON_SCHEMA_USE_STDREGEX stays undefined)
// clang-format on

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <mutex>
#include <regex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/log.h"
#include "common/regex_bounds.h"
#include "validation/pattern_dfa.h"

namespace mgw::validation {

using nlohmann::json;

namespace {

// Compiled schemas by their text: a reload whose definition did not change a schema reuses it
// (and operations sharing one share it). Entries die with the last definition using them.
struct CompileCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::weak_ptr<const CompiledSchema>> byText;
};

CompileCache& compileCache() {
  static CompileCache* cache = new CompileCache;  // never destroyed: used until exit
  return *cache;
}

}  // namespace

namespace {

bool isRegexFormat(const json& format) {
  return format.is_string() && (format == "date" || format == "time" || format == "date-time");
}

// Whether schema itself runs a regex on a string instance.
bool runsRegexOnString(const json& schema) {
  auto pattern = schema.find("pattern");
  if (pattern != schema.end() && pattern->is_string()) return true;
  auto format = schema.find("format");
  return format != schema.end() && isRegexFormat(*format);
}

// Marks every node of node (itself included) with a regex keyword at or below it; true when node
// is one. Not keyword-aware (a value under "enum" named "pattern" counts too): a false mark only
// makes the length walk look further, never skip a regex.
bool markRegexBelow(const json& node, std::unordered_set<const json*>* marked) {
  bool found = false;
  if (node.is_object()) {
    found = runsRegexOnString(node) || node.contains("patternProperties");
    for (const auto& [key, value] : node.items()) found = markRegexBelow(value, marked) || found;
  } else if (node.is_array()) {
    for (const json& value : node) found = markRegexBelow(value, marked) || found;
  }
  if (found) marked->insert(&node);
  return found;
}

// The two DOMs an instance comes in, seen alike by the length bound: nlohmann::json (parameters,
// checked as values) and RapidJSON (bodies, checked as text).
bool isString(const json& v) { return v.is_string(); }
bool isString(const rapidjson::Value& v) { return v.IsString(); }
bool isObject(const json& v) { return v.is_object(); }
bool isObject(const rapidjson::Value& v) { return v.IsObject(); }
bool isArray(const json& v) { return v.is_array(); }
bool isArray(const rapidjson::Value& v) { return v.IsArray(); }
std::string_view stringOf(const json& v) { return v.get_ref<const std::string&>(); }
std::string_view stringOf(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}
std::size_t arraySize(const json& v) { return v.size(); }
std::size_t arraySize(const rapidjson::Value& v) { return v.Size(); }
const json& elementAt(const json& v, std::size_t i) { return v[i]; }
const rapidjson::Value& elementAt(const rapidjson::Value& v, std::size_t i) {
  return v[static_cast<rapidjson::SizeType>(i)];
}
const json* memberOf(const json& v, std::string_view name) {
  auto it = v.find(std::string(name));
  return it == v.end() ? nullptr : &*it;
}
const rapidjson::Value* memberOf(const rapidjson::Value& v, std::string_view name) {
  auto it = v.FindMember(rapidjson::Value(
      rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
  return it == v.MemberEnd() ? nullptr : &it->value;
}
// f(name, value) for each member until f returns a violation.
template <class F>
std::optional<Violation> eachMember(const json& v, const F& f) {
  for (const auto& [key, value] : v.items())
    if (auto r = f(std::string_view(key), value)) return r;
  return std::nullopt;
}
template <class F>
std::optional<Violation> eachMember(const rapidjson::Value& v, const F& f) {
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it)
    if (auto r = f(stringOf(it->name), it->value)) return r;
  return std::nullopt;
}

// Where the walk is in the instance, as a chain to the root: the JSON pointer is spelled out only
// for a violation (the common case, a short string, allocates nothing).
struct Path {
  const Path* parent;
  std::string_view key;  // an object member's name, or
  std::size_t index;     // an array index when key.data() is null

  std::string pointer() const {
    std::string head = parent ? parent->pointer() : std::string();
    if (!parent) return head;
    return head + "/" + (key.data() ? escapePointerToken(key) : std::to_string(index));
  }
  Path member(std::string_view name) const { return Path{this, name, 0}; }
  Path element(std::size_t i) const { return Path{this, std::string_view(), i}; }
};

std::optional<Violation> tooLong(const Path& at, const char* what, std::size_t size) {
  const std::string pointer = at.pointer();
  std::string rule = std::string("a") + what + " of " + std::to_string(size) +
                     " bytes is longer than the " + std::to_string(kMaxRegexInputBytes) +
                     " bytes a pattern is checked on";
  return Violation{pointer, rule, {Violation::Leaf{pointer, rule}}};
}

// Every string and object key in instance, where the walk cannot tell which subschema applies.
template <class Value>
std::optional<Violation> boundAll(const Value& instance, const Path& at) {
  if (isString(instance)) {
    const std::size_t size = stringOf(instance).size();
    if (size > kMaxRegexInputBytes) return tooLong(at, " string", size);
  } else if (isObject(instance)) {
    return eachMember(instance, [&](std::string_view key, const Value& value) {
      const Path member = at.member(key);
      if (key.size() > kMaxRegexInputBytes) return tooLong(member, "n object key", key.size());
      return boundAll(value, member);
    });
  } else if (isArray(instance)) {
    for (std::size_t i = 0; i < arraySize(instance); ++i)
      if (auto v = boundAll(elementAt(instance, i), at.element(i))) return v;
  }
  return std::nullopt;
}

// What the length bound needs of a subschema, worked out when the schema is compiled: the walk of
// an instance touches only the parts with a regex keyword below them, and hashes no keyword.
struct RegexGuard {
  bool any = false;     // a regex keyword here or below: else nothing to do
  bool all = false;     // one under a keyword the walk does not follow: bound every string
  bool string = false;  // a string instance here is checked by a regex (pattern, date formats)
  bool keys = false;    // patternProperties: the instance's keys are
  const json* names = nullptr;  // the schema's "properties" (for additionalProperties)
  // Those with a regex below, as two lists: a std::pair of this still incomplete type does not
  // compile with clang (the fuzz build), and a vector of it does.
  std::vector<std::string> propertyNames;
  std::vector<RegexGuard> properties;
  std::unique_ptr<RegexGuard> additional;  // additionalProperties
  std::unique_ptr<RegexGuard> items;       // items: one schema
  std::vector<RegexGuard> tuple;           // items: a list
  std::vector<RegexGuard> combined;        // allOf, anyOf, oneOf

  // The keywords the guard follows (or that hold no subschema to follow).
  static bool followed(std::string_view key) {
    return key == "properties" || key == "additionalProperties" || key == "items" ||
           key == "allOf" || key == "anyOf" || key == "oneOf" || key == "pattern" ||
           key == "format" || key == "patternProperties";
  }

  static RegexGuard of(const json& schema, const std::unordered_set<const json*>& marked) {
    RegexGuard g;
    auto has = [&](const json& node) { return marked.count(&node) != 0; };
    if (!schema.is_object() || !has(schema)) return g;
    g.any = true;
    g.string = runsRegexOnString(schema);
    for (const auto& [key, value] : schema.items()) {
      if (key == "patternProperties") {
        g.keys = true;
        for (const auto& [name, sub] : value.items())  // its subschemas: not followed
          g.all = g.all || has(sub);
      } else if (!followed(key) && has(value)) {
        g.all = true;
      }
    }
    if (g.all) return g;
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) {
      g.names = &*it;
      for (const auto& [name, sub] : it->items())
        if (has(sub)) {
          g.propertyNames.push_back(name);
          g.properties.push_back(of(sub, marked));
        }
    }
    if (auto it = schema.find("additionalProperties"); it != schema.end() && has(*it))
      g.additional = std::make_unique<RegexGuard>(of(*it, marked));
    if (auto it = schema.find("items"); it != schema.end() && has(*it)) {
      if (it->is_array())
        for (const json& sub : *it) g.tuple.push_back(of(sub, marked));
      else
        g.items = std::make_unique<RegexGuard>(of(*it, marked));
    }
    for (const char* list : {"allOf", "anyOf", "oneOf"})
      if (auto it = schema.find(list); it != schema.end() && it->is_array() && has(*it))
        for (const json& sub : *it)
          if (has(sub)) g.combined.push_back(of(sub, marked));
    return g;
  }

  // The instance walked with the guard: a string a regex keyword would see, longer than
  // kMaxRegexInputBytes, is a violation. Follows properties, additionalProperties, items and
  // allOf/anyOf/oneOf; under any other keyword holding a regex keyword, every string is bounded.
  template <class Value>
  std::optional<Violation> check(const Value& instance, const Path& at) const {
    if (!any) return std::nullopt;
    if (all) return boundAll(instance, at);
    if (isString(instance)) {
      const std::size_t size = stringOf(instance).size();
      if (string && size > kMaxRegexInputBytes) return tooLong(at, " string", size);
    } else if (isObject(instance)) {
      if (keys)
        if (auto v = eachMember(
                instance, [&](std::string_view key, const Value&) -> std::optional<Violation> {
                  if (key.size() > kMaxRegexInputBytes)
                    return tooLong(at.member(key), "n object key", key.size());
                  return std::nullopt;
                }))
          return v;
      if (additional) {
        if (auto v = eachMember(
                instance,
                [&](std::string_view key, const Value& value) -> std::optional<Violation> {
                  const RegexGuard* sub = additional.get();
                  if (names && names->contains(std::string(key))) {
                    sub = nullptr;
                    for (std::size_t i = 0; i < properties.size(); ++i)
                      if (propertyNames[i] == key) sub = &properties[i];
                  }
                  if (sub) return sub->check(value, at.member(key));
                  return std::nullopt;
                }))
          return v;
      } else {
        for (std::size_t i = 0; i < properties.size(); ++i)
          if (const Value* found = memberOf(instance, propertyNames[i]))
            if (auto v = properties[i].check(*found, at.member(propertyNames[i]))) return v;
      }
    } else if (isArray(instance)) {
      for (std::size_t i = 0; i < arraySize(instance); ++i) {
        const RegexGuard* sub = items ? items.get() : i < tuple.size() ? &tuple[i] : nullptr;
        if (!sub) break;  // past a tuple: additionalItems, bounded above when it has a regex
        if (auto v = sub->check(elementAt(instance, i), at.element(i))) return v;
      }
    }
    for (const RegexGuard& g : combined)
      if (auto v = g.check(instance, at)) return v;
    return std::nullopt;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The fast path for bodies: RapidJSON's SAX schema validator (rapidjson/schema.h, its own
// Thompson-NFA regex, never std::regex) fed by the reader as it parses the text, no DOM. It only
// ever answers "valid": any other outcome goes to valijson, whose answer is the one given. So the
// one property that matters is that it never accepts what valijson refuses. Under `not` and
// `oneOf` a subschema RapidJSON refuses wrongly becomes an instance it accepts wrongly, so the two
// must agree in both directions, not only where RapidJSON is the stricter. It gets a schema only
// when every keyword is one both libraries implement alike (checked against the JSON Schema Test
// Suite and by fuzz_schema, which compare the two), and it hands to valijson every instance value
// on which they could differ (FastHandler).
//
// Keywords on the list, and the conditions, each for a difference found in the two libraries'
// code (RapidJSON 1.1.0, valijson 1.0 as Debian ships them):
//  - type, properties, required, additionalProperties (false, true or a schema), items (one
//    schema), allOf/anyOf/oneOf (non-empty), not, minLength/maxLength, minItems/maxItems,
//    minProperties/maxProperties (non-negative integers: RapidJSON ignores any other value);
//    every subschema an object (RapidJSON reads anything else as the empty schema).
//  - required with additionalProperties other than true: every required name also in
//    properties (RapidJSON counts a required-only name as a declared property, so it would
//    escape additionalProperties).
//  - patternProperties: only with additionalProperties absent or true (with a schema RapidJSON
//    accepts a member that fails its pattern's schema when it passes the additionalProperties
//    one; with false it checks a member matched by a pattern only against the previous member's
//    schema too).
//  - pattern and patternProperties: in the dialect both engines read alike (fastRegexRefusal:
//    printable ASCII; no \d \w \s \b classes or other escapes; ^ only first, $ only last; no
//    empty group or alternative; no quantifier on a quantifier or on a group holding one, whose
//    epsilon loop RapidJSON's matcher would recurse on forever; no anchor next to a top-level
//    '|', which RapidJSON applies to every alternative; a pattern that can match the empty
//    string only with both anchors, as RapidJSON's search misses empty matches), and RapidJSON
//    must compile it.
//    Instance strings a regex may see are then handed over unless printable ASCII (RapidJSON
//    matches code points and "." any of them, std::regex bytes and "." no line terminator).
//  - minimum/maximum with draft 4's boolean exclusiveMinimum/exclusiveMaximum: an exclusive
//    integer bound exactly representable as a double (valijson compares doubles, RapidJSON
//    integers exactly); instance integers from 2^53 on are handed over.
//  - multipleOf: a positive integer up to 2^53 (RapidJSON's floating-point test and valijson's
//    differ); an instance number with a fraction or exponent is handed over, and so is a string
//    valijson would read as a number (it applies multipleOf to "1").
//  - enum: scalar values, in a subschema whose type excludes object and array. RapidJSON compares
//    enum values by a 64-bit FNV-1a hash only, which a client could collide on purpose: every
//    instance scalar whose hash equals an enum value's and which is not that value is handed
//    over, and a schema whose own enum values collide has no fast path. -0.0 (valijson: equal
//    to 0; RapidJSON's hash: not) is handed over as an instance and keeps a schema off the path.
//  - format other than date, time and date-time (the only ones valijson checks; RapidJSON none).
//  - annotations both ignore: title, description, default, example(s), deprecated, readOnly,
//    writeOnly, externalDocs, xml, discriminator, x-*.
// Not on the list (the schema stays on valijson): $ref and definitions (definitions' schemas are
// inlined before compiling; the suite's raw $refs stay on valijson), items as a list and
// additionalItems, uniqueItems, dependencies, format date/time/date-time, and every draft 7 schema
// (OpenAPI 3.1: const, contains, if/then/else, numeric exclusive bounds are not in RapidJSON 1.1).
// Strings with a NUL are handed over too (valijson's minLength stops counting at a NUL).

namespace {

constexpr std::uint64_t kExactInteger = 9007199254740992ull;  // 2^53

// Why a `pattern` or `patternProperties` key is not given to RapidJSON's regex; nothing when it
// reads the same there as in std::regex (ECMAScript) on printable ASCII input.
std::optional<std::string> fastRegexRefusal(std::string_view p) {
  enum Prev { kStart, kAtom, kClose, kQuantifier, kAlternative, kOpen };
  Prev prev = kStart;
  // Per open group (the pattern itself first): whether it holds a quantifier, and whether it can
  // match the empty string (RapidJSON's search misses an empty match unless both anchors are
  // there: "a*" does not find "" in "b").
  struct Level {
    bool quantified = false;
    bool nullable = false;  // a finished alternative can match ""
    bool before = true;     // the current alternative's atoms before the last can
    bool last = true;       // the last atom can (true: none yet)
  };
  std::vector<Level> levels(1);
  bool closedQuantified = false;  // the group just closed held a quantifier
  bool topAlternation = false;
  auto atom = [&](bool nullable, Prev what) {
    Level& l = levels.back();
    l.before = l.before && l.last;
    l.last = nullable;
    prev = what;
  };
  auto quantifier = [&](std::size_t min, std::size_t max) -> std::optional<std::string> {
    if (prev == kClose && closedQuantified) return "a quantifier on a group holding one";
    if (prev != kAtom && prev != kClose) return "a quantifier on nothing or on a quantifier";
    if (max == 0) return "a quantifier of zero repetitions";
    levels.back().quantified = true;
    if (min == 0) levels.back().last = true;
    prev = kQuantifier;
    return std::nullopt;
  };
  auto ends = [&]() { return prev == kAtom || prev == kClose || prev == kQuantifier; };
  auto escapable = [](char c) { return std::strchr("^$|()?*+.[]{}\\fnrtv", c) != nullptr; };
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c < 0x20 || c > 0x7e) return "a character outside printable ASCII";
    switch (c) {
      case '^':
        if (i != 0) return "'^' other than first";
        break;
      case '$':
        if (i + 1 != p.size()) return "'$' other than last";
        if (!ends()) return "'$' after nothing";
        break;
      case '|':
        if (!ends()) return "an empty alternative";
        if (levels.size() == 1) topAlternation = true;
        levels.back().nullable =
            levels.back().nullable || (levels.back().before && levels.back().last);
        levels.back().before = levels.back().last = true;
        prev = kAlternative;
        break;
      case '(':
        if (i + 1 < p.size() && p[i + 1] == '?') return "a (? group";
        levels.emplace_back();
        prev = kOpen;
        break;
      case ')': {
        if (levels.size() == 1) return "an unbalanced ')'";
        if (!ends()) return "an empty group or alternative";
        const Level closed = levels.back();
        levels.pop_back();
        closedQuantified = closed.quantified;
        if (closedQuantified) levels.back().quantified = true;
        atom(closed.nullable || (closed.before && closed.last), kClose);
        break;
      }
      case '?':
        if (auto why = quantifier(0, 1)) return why;
        break;
      case '*':
        if (auto why = quantifier(0, kMaxRegexRepeat)) return why;
        break;
      case '+':
        if (auto why = quantifier(1, kMaxRegexRepeat)) return why;
        break;
      case '{': {
        std::size_t j = i + 1, n = 0, m = 0;
        auto digits = [&](std::size_t* out) {
          const std::size_t from = j;
          while (j < p.size() && p[j] >= '0' && p[j] <= '9' && j - from < 5)
            *out = *out * 10 + static_cast<std::size_t>(p[j++] - '0');
          return j > from && (j == p.size() || p[j] < '0' || p[j] > '9');
        };
        if (!digits(&n)) return "a '{' that is not {n}, {n,} or {n,m}";
        m = n;
        if (j < p.size() && p[j] == ',') {
          ++j;
          m = kMaxRegexRepeat;
          if (j < p.size() && p[j] != '}') {
            m = 0;
            if (!digits(&m) || m < n) return "a '{' that is not {n}, {n,} or {n,m}";
          }
        }
        if (j >= p.size() || p[j] != '}' || m > kMaxRegexRepeat)
          return "a '{' that is not {n}, {n,} or {n,m} up to " + std::to_string(kMaxRegexRepeat);
        if (auto why = quantifier(n, m)) return why;
        i = j;
        break;
      }
      case '}':
      case ']':
        return std::string("a lone '") + c + "'";
      case '[': {
        std::size_t j = i + 1;
        if (j < p.size() && p[j] == '^') ++j;
        const std::size_t first = j;
        for (; j < p.size() && p[j] != ']'; ++j) {
          const char k = p[j];
          if (k < 0x20 || k > 0x7e) return "a character outside printable ASCII";
          if (k == '[') return "a '[' inside a class";
          if (k == '\\') {
            if (j + 1 >= p.size() || !(escapable(p[j + 1]) || p[j + 1] == 'b'))
              return "an escape other than of a special character in a class";
            ++j;
            continue;
          }
          // a range a-b: both ends plain characters, in order
          if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            if (p[j + 2] == '\\' || p[j + 2] == '[' || p[j + 2] < k)
              return "a class range other than of two plain characters in order";
            j += 2;
          }
        }
        if (j >= p.size()) return "an unterminated class";
        if (j == first) return "an empty class";
        i = j;
        atom(false, kAtom);
        break;
      }
      case '\\':
        if (i + 1 >= p.size() || !escapable(p[i + 1]))
          return "an escape other than of a special character (RapidJSON has no \\d, \\w, \\s, "
                 "\\b)";
        ++i;
        atom(false, kAtom);
        break;
      default:
        atom(false, kAtom);
    }
  }
  if (levels.size() != 1) return "an unbalanced '('";
  if (!ends()) return "an empty alternative";
  const bool anchoredBegin = p.front() == '^';
  const bool anchoredEnd = p.back() == '$' && !(p.size() >= 2 && p[p.size() - 2] == '\\');
  if (topAlternation && (anchoredBegin || anchoredEnd))
    return "an anchor next to a top-level '|' (RapidJSON anchors every alternative)";
  const Level& top = levels.back();
  if ((top.nullable || (top.before && top.last)) && !(anchoredBegin && anchoredEnd))
    return "a pattern that matches the empty string, without both anchors";
  rapidjson::internal::GenericRegex<rapidjson::UTF8<>> compiled(std::string(p).c_str());
  if (!compiled.IsValid()) return "RapidJSON's regex cannot read it";
  return std::nullopt;
}

bool isSchemaCount(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= 0xFFFFFFFEu;
  return v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= 0xFFFFFFFE;
}

bool isExactInteger(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= kExactInteger;
  if (v.is_number_integer()) {
    const std::int64_t i = v.get<std::int64_t>();
    return i <= static_cast<std::int64_t>(kExactInteger) &&
           i >= -static_cast<std::int64_t>(kExactInteger);
  }
  return false;
}

bool isAnnotation(const std::string& key) {
  static const char* const kAnnotations[] = {
      "title",    "description", "default",      "example", "examples",     "deprecated",
      "readOnly", "writeOnly",   "externalDocs", "xml",     "discriminator"};
  for (const char* a : kAnnotations)
    if (key == a) return true;
  return key.size() > 2 && key[0] == 'x' && key[1] == '-';
}

// What the walk of a schema found that the instance handler needs.
struct FastFlags {
  bool regex = false;       // some pattern or patternProperties
  bool multipleOf = false;  // some multipleOf
};

// Why schema (at pointer) cannot take the fast path; nothing when it can.
std::optional<std::string> fastRefusal(const json& schema, const std::string& at, FastFlags* f) {
  if (!schema.is_object()) return at + ": a subschema that is not an object";
  auto sub = [&](const json& s, const std::string& where) { return fastRefusal(s, where, f); };
  const auto additional = schema.find("additionalProperties");
  const bool additionalLimits =
      additional != schema.end() && !(additional->is_boolean() && additional->get<bool>());
  for (const auto& [key, value] : schema.items()) {
    const std::string here = at + "/" + escapePointerToken(key);
    if (isAnnotation(key)) continue;
    if (key == "type") {
      static const char* const kTypes[] = {"null",   "boolean", "object", "array",
                                           "string", "number",  "integer"};
      auto known = [](const json& t) {
        if (!t.is_string()) return false;
        for (const char* k : kTypes)
          if (t == k) return true;
        return false;
      };
      if (value.is_array() ? value.empty() || !std::all_of(value.begin(), value.end(), known)
                           : !known(value))
        return here + ": not a type name or a non-empty list of them";
    } else if (key == "properties" || key == "patternProperties") {
      if (!value.is_object()) return here + ": not an object";
      for (const auto& [name, s] : value.items()) {
        if (key == "patternProperties") {
          f->regex = true;
          if (auto why = fastRegexRefusal(name)) return here + ": '" + name + "': " + *why;
        }
        if (auto why = sub(s, here + "/" + escapePointerToken(name))) return why;
      }
      if (key == "patternProperties" && additionalLimits)
        return here + ": patternProperties with additionalProperties other than true";
    } else if (key == "required") {
      if (!value.is_array() ||
          !std::all_of(value.begin(), value.end(), [](const json& n) { return n.is_string(); }))
        return here + ": not a list of names";
      if (additionalLimits) {
        const auto props = schema.find("properties");
        for (const json& n : value)
          if (props == schema.end() || !props->is_object() ||
              !props->contains(n.get_ref<const std::string&>()))
            return here + ": a required name not in properties, with additionalProperties";
      }
    } else if (key == "additionalProperties") {
      if (value.is_object()) {
        if (auto why = sub(value, here)) return why;
      } else if (!value.is_boolean()) {
        return here + ": neither a boolean nor a schema";
      }
    } else if (key == "items" || key == "not") {
      if (auto why = sub(value, here)) return why;
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      if (!value.is_array() || value.empty()) return here + ": not a non-empty list";
      for (std::size_t i = 0; i < value.size(); ++i)
        if (auto why = sub(value[i], here + "/" + std::to_string(i))) return why;
    } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
               key == "minProperties" || key == "maxProperties") {
      if (!isSchemaCount(value)) return here + ": not a count RapidJSON reads";
    } else if (key == "minimum" || key == "maximum") {
      if (!value.is_number()) return here + ": not a number";
    } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
      const auto bound = schema.find(key == "exclusiveMinimum" ? "minimum" : "maximum");
      if (!value.is_boolean() || bound == schema.end() || !bound->is_number())
        return here + ": not a boolean next to its bound";
      if (value.get<bool>() && bound->is_number_integer() && !isExactInteger(*bound))
        return here + ": an exclusive integer bound past 2^53";
    } else if (key == "multipleOf") {
      if (!isExactInteger(value) ||
          !(value.is_number_unsigned() || value.get<std::int64_t>() > 0) ||
          value.get<std::int64_t>() == 0)
        return here + ": not a positive integer up to 2^53";
      f->multipleOf = true;
    } else if (key == "pattern") {
      if (!value.is_string()) return here + ": not a string";
      f->regex = true;
      if (auto why = fastRegexRefusal(value.get_ref<const std::string&>()))
        return here + ": " + *why;
    } else if (key == "format") {
      if (!value.is_string() || isRegexFormat(value)) return here + ": a format valijson checks";
    } else if (key == "enum") {
      if (!value.is_array() || value.empty() ||
          !std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_primitive(); }))
        return here + ": not a non-empty list of scalars";
      const auto type = schema.find("type");
      auto compound = [](const json& t) { return t == "object" || t == "array"; };
      if (type == schema.end() ||
          (type->is_array() ? std::any_of(type->begin(), type->end(), compound) : compound(*type)))
        return here + ": enum where the type allows an object or an array";
    } else {
      return here + ": a keyword the fast path does not take";
    }
  }
  return std::nullopt;
}

using RapidHasher =
    rapidjson::internal::Hasher<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>>;

// The hash RapidJSON compares an instance value with its enum values by.
template <class F>
std::uint64_t rapidHash(const F& feed) {
  char buffer[256 + 64];
  rapidjson::MemoryPoolAllocator<> allocator(buffer, sizeof buffer);
  RapidHasher h(&allocator, 256);
  feed(h);
  return h.GetHashCode();
}

// The same scalar: same type, integers equal, doubles bit for bit, strings byte for byte.
bool identical(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.GetType() != b.GetType()) return false;
  if (a.IsNumber()) {
    if (a.IsDouble() != b.IsDouble()) return false;
    if (a.IsDouble()) {
      const double x = a.GetDouble(), y = b.GetDouble();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
  }
  return a == b;
}

}  // namespace

// Where a `pattern` sits that the fast path checks with its own automaton instead of RapidJSON's
// regex (about 100 instructions for an 8-byte string instead of 2,000): reached from the root
// through `properties` and `items` (one schema) only, so it applies to every string at that place
// in the body, whatever else the schema says. A pattern under allOf, anyOf, oneOf, not,
// patternProperties or additionalProperties stays with RapidJSON, which knows when those apply.
struct PatternSite {
  std::optional<PatternDfa> dfa;
  std::vector<std::pair<std::string, std::unique_ptr<PatternSite>>> members;  // properties
  std::unique_ptr<PatternSite> items;

  const PatternSite* member(std::string_view name) const {
    for (const auto& [n, site] : members)
      if (n == name) return site.get();
    return nullptr;
  }

  // Moves every such `pattern` an automaton takes out of schema (the fast path's copy) into the
  // tree; null when there is none.
  static std::unique_ptr<PatternSite> take(json& schema, std::size_t* count, std::size_t* budget) {
    if (!schema.is_object()) return nullptr;
    auto site = std::make_unique<PatternSite>();
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string())
      if (auto dfa = PatternDfa::compile(it->get_ref<const std::string&>(), nullptr, budget)) {
        site->dfa = std::move(dfa);
        schema.erase(it);
        ++*count;
      }
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object())
      for (auto& [name, sub] : it->items())
        if (auto child = take(sub, count, budget))
          site->members.emplace_back(name, std::move(child));
    if (auto it = schema.find("items"); it != schema.end() && it->is_object())
      site->items = take(*it, count, budget);
    if (!site->dfa && site->members.empty() && !site->items) return nullptr;
    return site;
  }
};

struct FastSchema {
  rapidjson::Document source;  // the prepared schema as RapidJSON reads it (kept for its values)
  std::unique_ptr<PatternSite> sites;  // the patterns taken out of source, checked by automata
  std::size_t automata = 0;            // how many
  // RapidJSON 1.1.0's regex keeps its search state in the compiled pattern (GenericRegex's
  // mutable state0_, state1_, stateSet_), so a SchemaDocument with a pattern must not be used by
  // two threads at once: each check borrows one from this pool (one per thread that checks at
  // the same time, built on demand from source; a few hundred instructions for the lock).
  mutable std::mutex poolMutex;
  mutable std::vector<std::unique_ptr<rapidjson::SchemaDocument>> idle;
  FastFlags flags;
  // Every enum value of the schema by its RapidJSON hash, sorted by hash (no two share one).
  std::vector<std::pair<std::uint64_t, const rapidjson::Value*>> enums;
  mutable std::atomic<std::uint64_t> disagreements{0};

  // The fast path for schema (already compiled by valijson as draft 4), or null with *why.
  static std::unique_ptr<FastSchema> build(const json& schema, std::string* why) {
    auto fast = std::make_unique<FastSchema>();
    // The patterns our automata take are not RapidJSON's: the list applies to the rest (so a
    // pattern with \d, which RapidJSON's regex lacks, keeps a schema on the fast path there).
    json rest = schema;
    std::size_t budget = 4 * PatternDfa::kMaxSteps;  // a schema's automata: ~0.2 s at most
    fast->sites = PatternSite::take(rest, &fast->automata, &budget);
    if (auto refusal = fastRefusal(rest, "", &fast->flags)) {
      *why = *refusal;
      return nullptr;
    }
    const std::string text = rest.dump();
    fast->source.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
    if (fast->source.HasParseError()) {
      *why = "RapidJSON cannot read the schema";
      return nullptr;
    }
    if (!collectEnums(fast->source, &fast->enums)) {
      *why = "an enum value RapidJSON's hash cannot tell apart (-0.0, or two sharing a hash)";
      return nullptr;
    }
    fast->idle.push_back(std::make_unique<rapidjson::SchemaDocument>(fast->source));
    return fast;
  }

  // Walks the RapidJSON copy of the schema (keyword-aware: a property named "enum" is a name).
  static bool collectEnums(const rapidjson::Value& s,
                           std::vector<std::pair<std::uint64_t, const rapidjson::Value*>>* out) {
    if (!s.IsObject()) return true;
    for (auto m = s.MemberBegin(); m != s.MemberEnd(); ++m) {
      const std::string_view key = stringOf(m->name);
      const rapidjson::Value& v = m->value;
      if (key == "enum") {
        for (auto e = v.Begin(); e != v.End(); ++e) {
          if (e->IsDouble() && e->GetDouble() == 0 && std::signbit(e->GetDouble())) return false;
          const std::uint64_t h = rapidHash([&](RapidHasher& hasher) { e->Accept(hasher); });
          for (const auto& [known, value] : *out)
            if (known == h && !identical(*value, *e)) return false;
          out->emplace_back(h, &*e);
        }
      } else if (key == "properties" || key == "patternProperties") {
        for (auto p = v.MemberBegin(); p != v.MemberEnd(); ++p)
          if (!collectEnums(p->value, out)) return false;
      } else if (key == "additionalProperties" || key == "items" || key == "not") {
        if (!collectEnums(v, out)) return false;
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
        for (auto e = v.Begin(); e != v.End(); ++e)
          if (!collectEnums(*e, out)) return false;
      }
    }
    std::sort(out->begin(), out->end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return true;
  }

  // A SchemaDocument no other thread is using; give it back with release().
  std::unique_ptr<rapidjson::SchemaDocument> borrow() const {
    {
      std::lock_guard lock(poolMutex);
      if (!idle.empty()) {
        auto document = std::move(idle.back());
        idle.pop_back();
        return document;
      }
    }
    return std::make_unique<rapidjson::SchemaDocument>(source);  // source is only read
  }
  void release(std::unique_ptr<rapidjson::SchemaDocument> document) const {
    std::lock_guard lock(poolMutex);
    idle.push_back(std::move(document));
  }

  // Whether an instance scalar may reach RapidJSON's enum test: not when its hash is an enum
  // value's and it is not that value.
  bool enumSafe(const rapidjson::Value& value, std::uint64_t hash) const {
    auto it = std::lower_bound(enums.begin(), enums.end(), hash,
                               [](const auto& e, std::uint64_t h) { return e.first < h; });
    return it == enums.end() || it->first != hash || identical(*it->second, value);
  }
};

namespace {

using FastValidator =
    rapidjson::GenericSchemaValidator<rapidjson::SchemaDocument,
                                      rapidjson::BaseReaderHandler<rapidjson::UTF8<>>,
                                      rapidjson::MemoryPoolAllocator<>>;

// Between RapidJSON's reader and its schema validator: refuses what checkText's parse refuses
// (nesting past kMaxJsonDepth, a member name twice) and hands to valijson (stops, unsure) every
// value the two validators could judge differently (see the list above FastSchema).
struct FastHandler {
  FastValidator& v;
  const FastSchema& fast;
  bool boundStrings;                     // the schema has a regex keyword: the length bound applies
  std::vector<std::string_view>& names;  // the open objects' member names (in the in-situ text)
  std::vector<std::size_t>& starts;      // where each open object's names begin
  // The pattern sites of the open containers (null: none below), and of the value that comes
  // next (set by Key in an object, the items' site in an array).
  std::vector<std::pair<const PatternSite*, bool>>& open;  // (site, is an array)
  const PatternSite* next = fast.sites.get();
  int depth = 0;
  bool unsure = false;
  bool refused = false;  // a string failed a pattern checked here (not by RapidJSON)

  bool stop() {
    unsure = true;
    return false;
  }
  // Not an instance scalar RapidJSON's enum test would take for an enum value it is not.
  bool enumSafe(const rapidjson::Value& value) {
    return fast.enums.empty() ||
           fast.enumSafe(value, rapidHash([&](RapidHasher& h) { value.Accept(h); }));
  }
  // |i| < 2^53: exact as a double, and never rounded onto an integer bound past 2^53.
  bool integer(std::int64_t i) {
    return i < static_cast<std::int64_t>(kExactInteger) &&
           i > -static_cast<std::int64_t>(kExactInteger);
  }
  // A string or member name both validators see alike.
  bool text(const char* s, rapidjson::SizeType n) {
    if (boundStrings && n > kMaxRegexInputBytes) return false;
    if (fast.flags.regex) {
      // printable ASCII only (no NUL, no control character, no multi-byte character), 8 bytes
      // at a time: a byte below 0x20 borrows into its top bit, one from 0x7f on carries into it
      // or has it (a borrow or carry into the next byte happens only after a bad byte)
      constexpr std::uint64_t kOnes = 0x0101010101010101ull, kTops = 0x8080808080808080ull;
      std::uint64_t bad = 0;
      rapidjson::SizeType i = 0;
      for (; i + 8 <= n; i += 8) {
        std::uint64_t x;
        std::memcpy(&x, s + i, 8);
        bad |= ((x - 0x20 * kOnes) | x | (x + kOnes)) & kTops;
      }
      for (; i < n; ++i)
        bad |= static_cast<unsigned char>(static_cast<unsigned char>(s[i]) - 0x20) >= 0x5f;
      return bad == 0;
    }
    return std::memchr(s, 0, n) == nullptr;
  }

  bool Null() {
    if (!enumSafe(rapidjson::Value())) return stop();
    return v.Null();
  }
  bool Bool(bool b) {
    if (!enumSafe(rapidjson::Value(b))) return stop();
    return v.Bool(b);
  }
  template <class T>
  bool number(T i) {
    if (!integer(static_cast<std::int64_t>(i)) ||
        (std::is_unsigned_v<T> && static_cast<std::uint64_t>(i) >= kExactInteger))
      return stop();
    if (!enumSafe(rapidjson::Value(i))) return stop();
    return true;
  }
  bool Int(int i) { return number(i) && v.Int(i); }
  bool Uint(unsigned u) { return number(u) && v.Uint(u); }
  bool Int64(std::int64_t i) { return number(i) && v.Int64(i); }
  bool Uint64(std::uint64_t u) { return number(u) && v.Uint64(u); }
  bool Double(double d) {
    // -0.0: valijson's enum equals it to 0, RapidJSON's hash does not
    if (fast.flags.multipleOf || (d == 0 && std::signbit(d))) return stop();
    if (!enumSafe(rapidjson::Value(d))) return stop();
    return v.Double(d);
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return stop(); }
  // valijson reads a string that istringstream reads as a number as that number for multipleOf
  // (its only keyword without the strict-type test): "1" is not a multiple of 3 there, while
  // RapidJSON (and JSON Schema) leave strings alone. Such a string goes to valijson.
  static bool mayReadAsNumber(const char* s, rapidjson::SizeType n) {
    rapidjson::SizeType i = 0;
    while (i < n && std::strchr(" \t\n\v\f\r", s[i]) && s[i] != 0) ++i;
    return i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.');
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    if (!text(s, n) || (fast.flags.multipleOf && mayReadAsNumber(s, n))) return stop();
    if (!enumSafe(rapidjson::Value(rapidjson::StringRef(s, n)))) return stop();
    if (next && next->dfa) {
      const std::optional<bool> match = next->dfa->search(std::string_view(s, n));
      if (!match) return stop();
      if (!*match) {
        refused = true;  // the pattern's violation: valijson words it
        return false;
      }
    }
    return v.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (!text(s, n)) return stop();
    names.emplace_back(s, n);
    if (fast.sites) next = open.back().first ? open.back().first->member({s, n}) : nullptr;
    return v.Key(s, n, copy);
  }
  bool StartObject() {
    if (++depth > kMaxJsonDepth) return stop();
    starts.push_back(names.size());
    if (fast.sites) {
      open.emplace_back(next, false);
      next = nullptr;
    }
    return v.StartObject();
  }
  // After a container: the next value's site is the enclosing array's items' (in an object, the
  // next Key sets it).
  void closed() {
    open.pop_back();
    if (!open.empty() && open.back().second)
      next = open.back().first ? open.back().first->items.get() : nullptr;
  }
  bool EndObject(rapidjson::SizeType n) {
    --depth;
    const std::size_t from = starts.back();
    starts.pop_back();
    const auto first = names.begin() + static_cast<std::ptrdiff_t>(from);
    if (names.size() - from <= 16) {
      for (auto i = first; i != names.end(); ++i)
        if (std::find(first, i, *i) != i) return stop();
    } else {
      std::sort(first, names.end());
      if (std::adjacent_find(first, names.end()) != names.end()) return stop();
    }
    names.resize(from);
    if (fast.sites) closed();
    return v.EndObject(n);
  }
  bool StartArray() {
    if (++depth > kMaxJsonDepth) return stop();
    if (fast.sites) {
      open.emplace_back(next, true);
      next = next ? next->items.get() : nullptr;
    }
    return v.StartArray();
  }
  bool EndArray(rapidjson::SizeType n) {
    --depth;
    if (fast.sites) closed();
    return v.EndArray(n);
  }
};

// What a thread's fast checks reuse: the text's copy, the reader, the validator's state pool.
struct FastScratch {
  std::string text;
  rapidjson::Reader reader;
  std::vector<std::string_view> names;
  std::vector<std::size_t> starts;
  std::vector<std::pair<const PatternSite*, bool>> open;
  alignas(8) char first[32 * 1024];
  rapidjson::MemoryPoolAllocator<> pool{first, sizeof first};
};

}  // namespace

// The flags every schema `pattern` is compiled with: libstdc++'s breadth-first executor, whose
// time is polynomial in the input (its default backtracks, exponentially on a pattern such as
// "^[a-z]**$", found by fuzz_schema). It refuses back-references, so they are a load error.
constexpr auto kPatternFlags = std::regex::ECMAScript | std::regex_constants::__polynomial;

struct CompiledSchema::Impl {
  valijson::Schema schema;
  RegexGuard guard;  // the length bound on what a regex sees (nothing to do without a regex)
  // Every `pattern` of the schema, compiled once with kPatternFlags at load; put into the
  // thread's pattern cache before each check, so valijson finds them there and never compiles
  // one itself (it would with its default, backtracking flags).
  std::vector<std::pair<std::string, std::regex>> patterns;
  std::unique_ptr<FastSchema> fast;  // null: bodies go to valijson only
  std::string noFast;                // why fast is null
};

CompiledSchema::~CompiledSchema() = default;

std::shared_ptr<const CompiledSchema> CompiledSchema::compile(const json& schema, Draft draft,
                                                              std::string* error) {
  std::string key = draft == Draft::kDraft4 ? "4" : "7";
  try {
    key += schema.dump();
  } catch (const json::type_error&) {  // 316: a string that is not UTF-8 (YAML passes bytes)
    if (error) *error = "unusable schema: it holds a string that is not valid UTF-8";
    return nullptr;
  }
  CompileCache& cache = compileCache();
  {
    std::lock_guard lock(cache.mutex);
    if (auto it = cache.byText.find(key); it != cache.byText.end())
      if (auto found = it->second.lock()) return found;
  }
  auto compiled = compileUncached(schema, draft, error);
  if (!compiled) return nullptr;
  std::lock_guard lock(cache.mutex);
  for (auto it = cache.byText.begin(); it != cache.byText.end();)  // drop the dead entries
    it = it->second.expired() ? cache.byText.erase(it) : std::next(it);
  cache.byText[key] = compiled;
  return compiled;
}

namespace {

// The first pattern of the schema that std::regex must not be given (common/regex_bounds.h), with
// its pointer; like markRegexBelow, every "pattern" string and "patternProperties" key counts.
// Each `pattern` is compiled into *patterns (kPatternFlags). valijson compiles a
// patternProperties key itself, with the backtracking executor, on every check: such a key must
// not nest quantifiers. The same walk refuses a multipleOf valijson cannot divide by.
std::optional<std::string> unusablePattern(
    const json& node, const std::string& pointer,
    std::vector<std::pair<std::string, std::regex>>* patterns) {
  if (node.is_object()) {
    if (auto it = node.find("pattern"); it != node.end() && it->is_string()) {
      const std::string& pattern = it->get_ref<const std::string&>();
      // valijson keeps a pattern as a C string: one with a NUL would be cut there, missing the
      // compiled one in the cache and compiled again, cut, with the backtracking executor
      // (found by fuzz_schema: "^[!-z]****\u0000..." ran for seconds).
      if (pattern.find('\0') != std::string::npos)
        return pointer + "/pattern: a NUL character (\\u0000) in a pattern is not supported";
      if (auto why = regexTooLarge(pattern)) return pointer + "/pattern: " + *why;
      try {
        patterns->emplace_back(pattern, std::regex(pattern, kPatternFlags));
      } catch (const std::regex_error& e) {
        return pointer + "/pattern: not a pattern this gateway can run (" + e.what() +
               "; back-references are not supported)";
      }
    }
    // valijson divides by it (an integer division by zero: SIGFPE; found by fuzz_schema)
    if (auto it = node.find("multipleOf");
        it != node.end() && it->is_number() && !(it->get<double>() > 0))
      return pointer + "/multipleOf: must be greater than 0";
    if (auto it = node.find("patternProperties"); it != node.end() && it->is_object())
      for (const auto& [key, value] : it->items()) {
        auto why = regexTooLarge(key);
        if (!why) why = regexNestsQuantifiers(key);
        if (why) return pointer + "/patternProperties/" + escapePointerToken(key) + ": " + *why;
      }
    for (const auto& [key, value] : node.items())
      if (auto why = unusablePattern(value, pointer + "/" + escapePointerToken(key), patterns))
        return why;
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      if (auto why = unusablePattern(node[i], pointer + "/" + std::to_string(i), patterns))
        return why;
  }
  return std::nullopt;
}

}  // namespace

std::shared_ptr<const CompiledSchema> CompiledSchema::compileUncached(const json& schema,
                                                                      Draft draft,
                                                                      std::string* error) {
  std::shared_ptr<CompiledSchema> out(new CompiledSchema);
  out->impl_ = std::make_unique<Impl>();
  out->source_ = schema;
  if (auto why = unusablePattern(schema, "", &out->impl_->patterns)) {
    if (error) *error = "unusable schema: " + *why;
    return nullptr;
  }
  try {
    valijson::SchemaParser parser(draft == Draft::kDraft4 ? valijson::SchemaParser::kDraft4
                                                          : valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(out->source_);
    parser.populateSchema(adapter, out->impl_->schema);
  } catch (const std::exception& e) {
    if (error) *error = std::string("unusable schema: ") + e.what();
    return nullptr;
  }
  std::unordered_set<const json*> marked;
  markRegexBelow(out->source_, &marked);
  out->impl_->guard = RegexGuard::of(out->source_, marked);
  // MGW_VALIDATION_FAST=off: every body through valijson only (a switch for comparison, and for
  // an operator should the fast path ever refuse what it should not; the README says so).
  static const bool fastOff = [] {
    const char* v = std::getenv("MGW_VALIDATION_FAST");
    return v && (std::string_view(v) == "off" || std::string_view(v) == "0");
  }();
  if (fastOff) {
    out->impl_->noFast = "MGW_VALIDATION_FAST=off";
  } else if (draft != Draft::kDraft4) {
    out->impl_->noFast = "a draft 7 (OpenAPI 3.1) schema: valijson only";
  } else {
    try {
      out->impl_->fast = FastSchema::build(out->source_, &out->impl_->noFast);
    } catch (const std::exception& e) {  // RAPIDJSON_ASSERT
      out->impl_->fast = nullptr;
      out->impl_->noFast = std::string("RapidJSON refused the schema: ") + e.what();
    }
  }
  return out;
}

namespace {

// valijson's context ("<root>", "[name]", "[0]") as a JSON pointer.
std::string pointerOf(const std::vector<std::string>& context) {
  std::string out;
  for (const std::string& c : context) {
    if (c.size() < 2 || c.front() != '[' || c.back() != ']') continue;
    out += '/' + escapePointerToken(std::string_view(c).substr(1, c.size() - 2));
  }
  return out;
}

// The thread's cache of compiled patterns, which valijson looks a `pattern` up in by its text (not
// thread-safe, so one per thread; every schema shares it). Bounded: emptied when a run of
// reloads has put more than kMaxCachedPatterns patterns into it.
constexpr std::size_t kMaxCachedPatterns = 4096;
using PatternCache = std::unordered_map<std::string, std::regex>;

PatternCache& patternCache(const std::vector<std::pair<std::string, std::regex>>& patterns) {
  thread_local PatternCache cache;
  if (cache.size() + patterns.size() > kMaxCachedPatterns) cache.clear();
  for (const auto& [text, compiled] : patterns) cache.try_emplace(text, compiled);
  return cache;
}

// valijson's check, as valijson::Validator (strict types) runs it, with the thread's cache.
template <class Adapter>
bool run(const valijson::Schema& schema, const Adapter& target, PatternCache& cache,
         valijson::ValidationResults* results) {
  valijson::ValidationVisitor<Adapter> visitor(target, std::vector<std::string>(1, "<root>"), true,
                                               results, cache);
  return visitor.validateSchema(schema);
}

// valijson's check of target (through its adapter for the instance's DOM): nullopt when it matches.
template <class Adapter>
std::optional<Violation> validateWith(
    const valijson::Schema& schema, const std::vector<std::pair<std::string, std::regex>>& patterns,
    const Adapter& target) {
  try {
    PatternCache& cache = patternCache(patterns);
    // The common case, a valid instance, without collecting messages (valijson stops at the
    // first failed rule); only a refused instance is walked again for the description.
    if (run(schema, target, cache, nullptr)) return std::nullopt;
    valijson::ValidationResults results;
    run(schema, target, cache, &results);
    // The leaves name what failed (their parents only say "failed in property x"): every error
    // whose context no other error extends, the first kMaxListed of them.
    std::vector<const valijson::ValidationResults::Error*> all;
    for (const auto& e : results) all.push_back(&e);
    auto extends = [](const std::vector<std::string>& longer, const std::vector<std::string>& c) {
      return longer.size() > c.size() && std::equal(c.begin(), c.end(), longer.begin());
    };
    Violation out;
    std::size_t listed = 0;
    for (const auto* e : all) {
      if (std::any_of(all.begin(), all.end(),
                      [&](const auto* o) { return extends(o->context, e->context); }))
        continue;
      if (listed == 0) {
        out.pointer = pointerOf(e->context);
        out.rule = e->description;
      }
      out.all.push_back(Violation::Leaf{pointerOf(e->context), e->description});
      if (++listed == kMaxListed) break;
    }
    if (listed == 0) return Violation{"", "does not match the schema", {}};
    return out;
  } catch (const std::exception& e) {
    // A pattern std::regex cannot run (its recursion limit on a long input): a refusal, named.
    return Violation{"", std::string("could not be checked: ") + e.what(), {}};
  }
}

// How a body is parsed, on both paths (the same flags: the same text is refused alike).
constexpr unsigned kTextParseFlags = rapidjson::kParseInsituFlag |
                                     rapidjson::kParseValidateEncodingFlag |
                                     rapidjson::kParseFullPrecisionFlag;
constexpr unsigned kNormalPrecision = kTextParseFlags & ~rapidjson::kParseFullPrecisionFlag;

// RapidJSON 1.1.0's full-precision number parsing reads a zero with an exponent its fast path
// does not take ("0e308", "0.000e100") as an arbitrary number: DiyFp::Normalize (internal/
// diyfp.h) shifts the zero significand by __builtin_clzll(0), undefined (measured: -6.1e-269 and
// 5.1e+294 from GCC's build; fuzz_schema's UBSan found it). Its normal precision reads those as
// 0, and other numbers within 3 ULP of the nearest double (measured on 200,000 random decimals).
// The same happens to a zero with more than 22 fraction digits ("0.00000000000000000000000":
// fuzz_schema again, a minimum bypass), which the fast path does not take either (its exponent
// is the count of fraction digits).
// A text holding something that may be such a number (also inside a string: a false match only
// costs precision) is parsed with normal precision, on both paths alike.
bool mayHoldMisreadZero(std::string_view text) {
  // Whether the digits (and dots) just before text[i], an exponent's 'e', are all zeros.
  auto zeroBefore = [&](std::size_t i) {
    bool digit = false;
    for (std::size_t j = i; j > 0; --j) {
      const char c = text[j - 1];
      if (c == '.') continue;
      if (c < '0' || c > '9') break;
      if (c != '0') return false;
      digit = true;
    }
    return digit;
  };
  for (const char e : {'e', 'E'})  // memchr: the letters are rare next to the text's length
    for (const char *at = text.data(), *end = at + text.size();
         (at = static_cast<const char*>(std::memchr(at, e, static_cast<std::size_t>(end - at))));
         ++at)
      if (zeroBefore(static_cast<std::size_t>(at - text.data()))) return true;
  for (const char *at = text.data(), *end = at + text.size();
       (at = static_cast<const char*>(std::memchr(at, '.', static_cast<std::size_t>(end - at))));
       ++at) {
    const std::size_t dot = static_cast<std::size_t>(at - text.data());
    std::size_t j = dot + 1;
    while (j < text.size() && text[j] == '0') ++j;
    const bool moreDigits = j < text.size() && text[j] >= '1' && text[j] <= '9';
    if (!moreDigits && j - dot - 1 > 20 && zeroBefore(dot + 1)) return true;  // zeros only
  }
  return false;
}

// A SAX handler between RapidJSON's reader and its document: refuses nesting deeper than
// kMaxJsonDepth as it parses (no scan of the text before), and notes the longest string or
// member name (the length bound needs its walk only past kMaxRegexInputBytes).
struct DepthLimit {
  rapidjson::Document& d;
  int depth = 0;
  bool tooDeep = false;
  std::size_t longest = 0;

  bool Null() { return d.Null(); }
  bool Bool(bool b) { return d.Bool(b); }
  bool Int(int i) { return d.Int(i); }
  bool Uint(unsigned i) { return d.Uint(i); }
  bool Int64(std::int64_t i) { return d.Int64(i); }
  bool Uint64(std::uint64_t i) { return d.Uint64(i); }
  bool Double(double v) { return d.Double(v); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return d.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    longest = std::max<std::size_t>(longest, n);
    return d.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    longest = std::max<std::size_t>(longest, n);
    return d.Key(s, n, copy);
  }
  bool StartObject() { return enter() && d.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth;
    return d.EndObject(n);
  }
  bool StartArray() { return enter() && d.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth;
    return d.EndArray(n);
  }
  bool enter() {
    tooDeep = ++depth > kMaxJsonDepth;
    return !tooDeep;
  }
};

// The first member name an object of v has twice, and where (the object's JSON pointer).
std::optional<std::pair<std::string, std::string>> duplicateName(const rapidjson::Value& v,
                                                                 const Path& at) {
  if (v.IsObject()) {
    const rapidjson::SizeType n = v.MemberCount();
    auto name = [&](rapidjson::SizeType i) { return stringOf((v.MemberBegin() + i)->name); };
    if (n <= 16) {
      for (rapidjson::SizeType i = 1; i < n; ++i)
        for (rapidjson::SizeType j = 0; j < i; ++j)
          if (name(i) == name(j)) return std::pair{at.pointer(), std::string(name(i))};
    } else if (n > 1) {
      std::vector<std::string_view> names;
      names.reserve(n);
      for (rapidjson::SizeType i = 0; i < n; ++i) names.push_back(name(i));
      std::sort(names.begin(), names.end());
      if (auto it = std::adjacent_find(names.begin(), names.end()); it != names.end())
        return std::pair{at.pointer(), std::string(*it)};
    }
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it)
      if (auto d = duplicateName(it->value, at.member(stringOf(it->name)))) return d;
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
      if (auto d = duplicateName(v[i], at.element(i))) return d;
  }
  return std::nullopt;
}

// What a thread parses bodies with, kept between bodies: the text's copy (parsed in place), the
// reader (its stack), and the values' pool, whose first 64 KiB are the thread's own buffer (a
// 1 KiB body's values take about 4 KiB: no allocation).
struct TextScratch {
  std::string text;
  rapidjson::Reader reader;
  alignas(8) char first[64 * 1024];
  rapidjson::MemoryPoolAllocator<> pool{first, sizeof first};
};

// What a large body left is given back (the pool's chunks past the first, the text's copy).
struct ScratchRelease {
  TextScratch& scratch;
  ~ScratchRelease() {
    scratch.pool.Clear();
    if (scratch.text.capacity() > 256 * 1024) std::string().swap(scratch.text);
  }
};

}  // namespace

std::optional<Violation> CompiledSchema::check(const json& instance) const {
  if (impl_->guard.any)
    if (auto v = impl_->guard.check(instance, Path{nullptr, {}, 0})) return v;
  return validateWith(impl_->schema, impl_->patterns,
                      valijson::adapters::NlohmannJsonAdapter(instance));
}

std::optional<Violation> CompiledSchema::checkText(std::string_view text,
                                                   std::string* unreadable) const {
  const FastVerdict fast = checkFast(text);
  if (fast == FastVerdict::kValid) {
    unreadable->clear();
    return std::nullopt;
  }
  auto answer = checkTextValijson(text, unreadable);
  if (fast == FastVerdict::kInvalid && !answer && unreadable->empty() &&
      impl_->fast->disagreements.fetch_add(1, std::memory_order_relaxed) == 0)
    log::warn(
        "validation: RapidJSON's schema validator refused a body that valijson accepts; "
        "valijson's answer is used (logged once per schema; please report the schema)",
        {{"schemaBytes", source_.dump().size()}});
  return answer;
}

CompiledSchema::FastVerdict CompiledSchema::checkFast(std::string_view text) const {
  const FastSchema* fast = impl_->fast.get();
  if (!fast) return FastVerdict::kNone;
  if (std::memchr(text.data(), 0, text.size())) return FastVerdict::kUnsure;
  thread_local std::unique_ptr<FastScratch> scratch;  // kept for the thread's life
  if (!scratch) scratch = std::make_unique<FastScratch>();
  FastScratch& s = *scratch;
  struct Release {
    FastScratch& s;
    ~Release() {
      s.pool.Clear();
      s.names.clear();
      s.starts.clear();
      s.open.clear();
      if (s.text.capacity() > 256 * 1024) std::string().swap(s.text);
    }
  } release{s};
  s.text.reserve(text.size() + 16);  // RAPIDJSON_SSE2's reads past the NUL: see checkTextValijson
  s.text.assign(text);
  struct Borrowed {
    const FastSchema& fast;
    std::unique_ptr<rapidjson::SchemaDocument> document = fast.borrow();
    ~Borrowed() { fast.release(std::move(document)); }
  } borrowed{*fast};
  try {
    FastValidator validator(*borrowed.document, &s.pool);
    FastHandler handler{validator, *fast, impl_->guard.any, s.names, s.starts, s.open};
    rapidjson::InsituStringStream in(s.text.data());
    // ASCII text needs no UTF-8 validation, and without it RapidJSON copies strings 16 bytes at
    // a time (SSE2); the tokens and refusals are the same (escapes are decoded either way).
    unsigned char high = 0;
    for (const char c : text) high |= static_cast<unsigned char>(c);
    constexpr unsigned kAscii = ~rapidjson::kParseValidateEncodingFlag;
    const bool zero = mayHoldMisreadZero(text);
    const rapidjson::ParseResult parsed =
        high < 0x80 ? (zero ? s.reader.Parse<kNormalPrecision & kAscii>(in, handler)
                            : s.reader.Parse<kTextParseFlags & kAscii>(in, handler))
                    : (zero ? s.reader.Parse<kNormalPrecision>(in, handler)
                            : s.reader.Parse<kTextParseFlags>(in, handler));
    if (!parsed.IsError() && validator.IsValid()) return FastVerdict::kValid;
    if (parsed.Code() == rapidjson::kParseErrorTermination && !handler.unsure &&
        (handler.refused || !validator.IsValid()))
      return FastVerdict::kInvalid;
    return FastVerdict::kUnsure;
  } catch (const std::exception&) {  // RAPIDJSON_ASSERT: valijson decides
    return FastVerdict::kUnsure;
  }
}

bool CompiledSchema::hasFastPath() const { return impl_->fast != nullptr; }

std::size_t CompiledSchema::fastPatternAutomata() const {
  return impl_->fast ? impl_->fast->automata : 0;
}

const std::string& CompiledSchema::noFastPathReason() const { return impl_->noFast; }

std::uint64_t CompiledSchema::fastDisagreements() const {
  return impl_->fast ? impl_->fast->disagreements.load(std::memory_order_relaxed) : 0;
}

std::optional<Violation> CompiledSchema::checkTextValijson(std::string_view text,
                                                           std::string* unreadable) const {
  unreadable->clear();
  // RapidJSON reads its in-place text up to a NUL: a NUL byte in the body (never valid JSON
  // outside a string, where it must be escaped) would hide what follows it.
  if (std::memchr(text.data(), 0, text.size())) {
    *unreadable = "is not valid JSON";
    return std::nullopt;
  }
  thread_local std::unique_ptr<TextScratch> scratch;  // kept for the thread's life
  if (!scratch) scratch = std::make_unique<TextScratch>();
  ScratchRelease release{*scratch};
  // With RAPIDJSON_SSE2 the whitespace skipping loads aligned 16-byte blocks, so it may read up
  // to 15 bytes past the text's terminating NUL (within its block: never another page, but past
  // the allocation when the string's capacity ends there; ASan saw it, now and then). The
  // capacity is kept 16 bytes past the text so that every block it reads is the string's own.
  scratch->text.reserve(text.size() + 16);
  scratch->text.assign(text);
  rapidjson::Document doc(&scratch->pool);
  DepthLimit limit{doc};
  bool parsed = false;
  auto generate = [&](rapidjson::Document&) {
    rapidjson::InsituStringStream in(scratch->text.data());
    parsed = !(mayHoldMisreadZero(text) ? scratch->reader.Parse<kNormalPrecision>(in, limit)
                                        : scratch->reader.Parse<kTextParseFlags>(in, limit))
                  .IsError();
    return parsed;
  };
  doc.Populate(generate);
  if (!parsed) {
    *unreadable = limit.tooDeep
                      ? "is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"
                      : "is not valid JSON";
    return std::nullopt;
  }
  const Path root{nullptr, {}, 0};
  if (auto d = duplicateName(doc, root)) {
    *unreadable = "is ambiguous JSON: the object at #" + d->first.substr(0, 64) +
                  " has the member '" + d->second.substr(0, 64) +
                  "' twice (a checked body's member names must be unique, RFC 8259 section 4)";
    return std::nullopt;
  }
  if (impl_->guard.any && limit.longest > kMaxRegexInputBytes)
    if (auto v = impl_->guard.check(static_cast<const rapidjson::Value&>(doc), root)) return v;
  return validateWith(impl_->schema, impl_->patterns, valijson::adapters::RapidJsonAdapter(doc));
}

std::string escapePointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

const json* resolveLocalRef(const json& document, const std::string& ref) {
  if (ref.empty() || ref[0] != '#') return nullptr;
  // The fragment is a URI fragment: percent-decode, then read it as a JSON pointer.
  std::string decoded;
  for (std::size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] == '%' && i + 2 < ref.size() &&
        std::isxdigit(static_cast<unsigned char>(ref[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(ref[i + 2]))) {
      decoded += static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += ref[i];
    }
  }
  const json* at = &document;
  if (decoded.empty()) return at;
  if (decoded[0] != '/') return nullptr;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = decoded.find('/', start);
    std::string token =
        decoded.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string unescaped;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
        unescaped += token[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        unescaped += token[i];
      }
    }
    if (at->is_object()) {
      auto it = at->find(unescaped);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      if (unescaped.empty() ||
          !std::all_of(unescaped.begin(), unescaped.end(),
                       [](char c) { return c >= '0' && c <= '9'; }) ||
          unescaped.size() > 9)
        return nullptr;
      const std::size_t index = std::stoul(unescaped);
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
    if (slash == std::string::npos) return at;
    start = slash + 1;
  }
}

namespace {

// The copy of a schema with every reference inlined is bounded: a few references that each name
// the next twice would otherwise grow it exponentially.
constexpr std::size_t kMaxInlinedNodes = 200000;

struct Inliner {
  const json& document;
  std::vector<std::string> stack;  // the references being expanded, outermost first
  std::size_t nodes = 0;

  std::optional<SchemaError> walk(json* node, const std::string& pointer) {
    if (++nodes > kMaxInlinedNodes)
      return SchemaError{pointer, "the schema is too large once its $refs are inlined (over " +
                                      std::to_string(kMaxInlinedNodes) + " values)"};
    if (node->is_object()) {
      auto ref = node->find("$ref");
      if (ref != node->end() && ref->is_string()) {
        const std::string target = ref->get<std::string>();
        const std::string at = pointer + "/$ref";
        if (target.empty() || target[0] != '#')
          return SchemaError{at, "$ref '" + target.substr(0, 200) +
                                     "' is outside the definition: only '#/...' references are "
                                     "resolved"};
        if (std::find(stack.begin(), stack.end(), target) != stack.end())
          return SchemaError{at, "circular $ref '" + target.substr(0, 200) +
                                     "': the schema refers back to itself, which micro-gw cannot "
                                     "validate; write the recursion out to a fixed depth"};
        const json* found = resolveLocalRef(document, target);
        if (!found)
          return SchemaError{at, "dangling $ref '" + target.substr(0, 200) +
                                     "': the definition has no value there"};
        json copy = *found;
        stack.push_back(target);
        auto error = walk(&copy, target.substr(1));
        stack.pop_back();
        if (error) return error;
        *node = std::move(copy);
        return std::nullopt;
      }
      for (auto& [key, value] : node->items())
        if (auto error = walk(&value, pointer + "/" + escapePointerToken(key))) return error;
    } else if (node->is_array()) {
      for (std::size_t i = 0; i < node->size(); ++i)
        if (auto error = walk(&(*node)[i], pointer + "/" + std::to_string(i))) return error;
    }
    return std::nullopt;
  }
};

// Calls f on every subschema of schema (itself included), keyword-aware: the members of
// properties are schemas, the keys are names.
template <class F>
void forEachSchema(json* schema, const F& f) {
  if (!schema->is_object()) return;
  f(schema);
  for (const char* map : {"properties", "patternProperties", "definitions", "$defs"}) {
    auto it = schema->find(map);
    if (it != schema->end() && it->is_object())
      for (auto& [name, sub] : it->items()) forEachSchema(&sub, f);
  }
  for (const char* one : {"additionalProperties", "items", "not", "additionalItems", "contains",
                          "propertyNames", "if", "then", "else", "unevaluatedProperties"}) {
    auto it = schema->find(one);
    if (it == schema->end()) continue;
    if (it->is_array())
      for (auto& sub : *it) forEachSchema(&sub, f);
    else
      forEachSchema(&*it, f);
  }
  for (const char* list : {"allOf", "anyOf", "oneOf", "prefixItems"}) {
    auto it = schema->find(list);
    if (it != schema->end() && it->is_array())
      for (auto& sub : *it) forEachSchema(&sub, f);
  }
}

void integerBounds(json* s) {
  auto format = s->find("format");
  if (format == s->end() || !format->is_string()) return;
  const std::string f = format->get<std::string>();
  if (f == "int32") {
    if (!s->contains("minimum")) (*s)["minimum"] = INT32_MIN;
    if (!s->contains("maximum")) (*s)["maximum"] = INT32_MAX;
  } else if (f == "int64") {
    if (!s->contains("minimum")) (*s)["minimum"] = INT64_MIN;
    if (!s->contains("maximum")) (*s)["maximum"] = INT64_MAX;
  }
}

}  // namespace

std::optional<SchemaError> inlineRefs(const json& document, const std::string& pointer,
                                      json* schema) {
  Inliner inliner{document, {}, 0};
  return inliner.walk(schema, pointer);
}

void translateOpenApi30(json* schema) {
  forEachSchema(schema, [](json* s) {
    bool nullable = false;
    for (const char* key : {"nullable", "x-nullable"}) {
      auto it = s->find(key);
      if (it == s->end()) continue;
      nullable = nullable || (it->is_boolean() && it->get<bool>());
      s->erase(it);
    }
    if (nullable) {
      auto type = s->find("type");
      if (type != s->end() && type->is_string())
        *type = json::array({type->get<std::string>(), "null"});
      auto e = s->find("enum");
      if (e != s->end() && e->is_array() &&
          std::find(e->begin(), e->end(), json(nullptr)) == e->end())
        e->push_back(nullptr);
    }
    for (const char* annotation :
         {"example", "discriminator", "xml", "externalDocs", "readOnly", "writeOnly", "deprecated"})
      s->erase(annotation);
    integerBounds(s);
  });
}

void translateOpenApi31(json* schema) {
  forEachSchema(schema, [](json* s) {
    for (const char* annotation : {"example", "examples", "discriminator", "xml", "externalDocs"})
      s->erase(annotation);
    integerBounds(s);
  });
}

}  // namespace mgw::validation
