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
// clang-format on

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <mutex>
#include <regex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/regex_bounds.h"

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
// not nest quantifiers.
std::optional<std::string> unusablePattern(
    const json& node, const std::string& pointer,
    std::vector<std::pair<std::string, std::regex>>* patterns) {
  if (node.is_object()) {
    if (auto it = node.find("pattern"); it != node.end() && it->is_string()) {
      const std::string& pattern = it->get_ref<const std::string&>();
      if (auto why = regexTooLarge(pattern)) return pointer + "/pattern: " + *why;
      try {
        patterns->emplace_back(pattern, std::regex(pattern, kPatternFlags));
      } catch (const std::regex_error& e) {
        return pointer + "/pattern: not a pattern this gateway can run (" + e.what() +
               "; back-references are not supported)";
      }
    }
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
    constexpr unsigned kFlags = rapidjson::kParseInsituFlag |
                                rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseFullPrecisionFlag;
    parsed = !scratch->reader.Parse<kFlags>(in, limit).IsError();
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
