#include "validation/schema.h"

#include <gtest/gtest.h>

#include <atomic>

#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

namespace mgw::validation {
namespace {

using nlohmann::json;

TEST(InlineRefs, ResolvesAChainAndNamesDanglingAndCircularRefs) {
  const json doc = json::parse(R"({"components": {"schemas": {
      "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
      "B": {"type": "array", "items": {"$ref": "#/components/schemas/C"}},
      "C": {"type": "integer"},
      "Loop": {"properties": {"next": {"$ref": "#/components/schemas/Loop"}}},
      "Gone": {"properties": {"x": {"$ref": "#/components/schemas/Nope"}}},
      "Far": {"$ref": "https://example.test/s.json"}}}})");
  json a = doc["components"]["schemas"]["A"];
  EXPECT_FALSE(inlineRefs(doc, "/components/schemas/A", &a));
  EXPECT_EQ(a["properties"]["b"]["items"], json::parse(R"({"type": "integer"})"));

  json loop = doc["components"]["schemas"]["Loop"];
  auto e = inlineRefs(doc, "/components/schemas/Loop", &loop);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pointer, "/components/schemas/Loop/properties/next/$ref");
  EXPECT_NE(e->message.find("circular"), std::string::npos);

  json gone = doc["components"]["schemas"]["Gone"];
  e = inlineRefs(doc, "/components/schemas/Gone", &gone);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->pointer, "/components/schemas/Gone/properties/x/$ref");
  EXPECT_NE(e->message.find("dangling"), std::string::npos);

  json far = doc["components"]["schemas"]["Far"];
  e = inlineRefs(doc, "/components/schemas/Far", &far);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("outside the definition"), std::string::npos);
}

TEST(InlineRefs, AReferenceFanOutIsBounded) {
  json doc = {{"d", {{"s0", {{"type", "integer"}}}}}};
  for (int i = 1; i < 40; ++i) {
    const std::string prev = "#/d/s" + std::to_string(i - 1);
    doc["d"]["s" + std::to_string(i)] = {{"allOf", {{{"$ref", prev}}, {{"$ref", prev}}}}};
  }
  json top = doc["d"]["s39"];
  auto e = inlineRefs(doc, "/d/s39", &top);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("too large"), std::string::npos);
}

TEST(Translate, OpenApi30NullableAnnotationsAndIntegerFormats) {
  json s =
      json::parse(R"({"type": "object", "example": {"a": 1}, "discriminator": {"propertyName": "k"},
      "properties": {"example": {"type": "string", "nullable": true, "enum": ["a"]},
                     "n": {"type": "integer", "format": "int32"}}})");
  translateOpenApi30(&s);
  EXPECT_FALSE(s.contains("example"));
  EXPECT_FALSE(s.contains("discriminator"));
  ASSERT_TRUE(s["properties"].contains("example"));  // a property of that name stays
  EXPECT_EQ(s["properties"]["example"]["type"], json::parse(R"(["string", "null"])"));
  EXPECT_EQ(s["properties"]["example"]["enum"], json::parse(R"(["a", null])"));
  EXPECT_EQ(s["properties"]["n"]["maximum"], 2147483647);
  std::string error;
  auto compiled = CompiledSchema::compile(s, Draft::kDraft4, &error);
  ASSERT_TRUE(compiled) << error;
  EXPECT_FALSE(compiled->check(json::parse(R"({"example": null, "n": 5})")));
  auto v = compiled->check(json::parse(R"({"example": "b", "n": 4294967296})"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->all.size(), 2u);
}

TEST(CompiledSchema, NamesTheDeepestPointer) {
  std::string error;
  auto s = CompiledSchema::compile(
      json::parse(R"({"properties": {"a": {"items": {"maximum": 3}}}})"), Draft::kDraft4, &error);
  ASSERT_TRUE(s) << error;
  auto v = s->check(json::parse(R"({"a": [1, 2, 9]})"));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->pointer, "/a/2");
}

}  // namespace
}  // namespace mgw::validation

namespace mgw::validation {
namespace {

TEST(CompiledSchema, TheSameSchemaIsCompiledOnceWhileInUse) {
  const nlohmann::json s = nlohmann::json::parse(R"({"type": "integer"})");
  std::string error;
  auto a = CompiledSchema::compile(s, Draft::kDraft4, &error);
  auto b = CompiledSchema::compile(s, Draft::kDraft4, &error);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(CompiledSchema::compile(s, Draft::kDraft7, &error).get(), a.get());
}

// YAML passes a definition's bytes through: a schema string that is not UTF-8 is a load error,
// not an exception out of the loader (fuzz_openapi_loader found it; the gateway stopped on it).
TEST(CompiledSchema, AStringThatIsNotUtf8IsAnError) {
  nlohmann::json s = {{"type", "string"}, {"pattern", std::string("^a\xff$")}};
  std::string error;
  EXPECT_EQ(CompiledSchema::compile(s, Draft::kDraft4, &error), nullptr);
  EXPECT_NE(error.find("not valid UTF-8"), std::string::npos) << error;
}

// A pattern std::regex would take seconds and hundreds of MiB to compile (on every I/O thread
// that first meets it in a request) is a load error naming it.
// A pattern with stacked quantifiers (found by fuzz_schema: a 23-byte string took the
// backtracking executor more than 10 s) runs in the breadth-first executor: the check ends at
// once, as a value and as text, with the same answer.
TEST(CompiledSchema, NestedQuantifiersInAPatternDoNotBacktrack) {
  const json s = json::parse(R"({"properties": {"s": {"type": "string",
      "pattern": "^[!-z]**************************`**************~****.**********booYYYY****************/********+$"}}})");
  std::string error;
  auto compiled = CompiledSchema::compile(s, Draft::kDraft7, &error);
  ASSERT_NE(compiled, nullptr) << error;
  std::string unreadable;
  const auto v = compiled->checkText(R"({"s":"4049-13[--01T00:00:00Z"})", &unreadable);
  EXPECT_EQ(unreadable, "");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->pointer, "/s");
  EXPECT_TRUE(compiled->check(json::parse(R"({"s":"4049-13[--01T00:00:00Z"})")).has_value());
  EXPECT_FALSE(compiled->check(json::parse(R"({"s":"a`~xbooYYY/"})")).has_value());
}

// valijson compiles a patternProperties key itself, with the backtracking executor: nested
// quantifiers there are a load error naming the key. A back-reference in a pattern (which the
// breadth-first executor cannot run) is one too.
TEST(CompiledSchema, PatternsThatWouldBacktrackAreLoadErrors) {
  std::string error;
  EXPECT_EQ(CompiledSchema::compile(json::parse(R"({"patternProperties": {"^(a+)+$": {}}})"),
                                    Draft::kDraft7, &error),
            nullptr);
  EXPECT_NE(error.find("/patternProperties/^(a+)+$"), std::string::npos) << error;
  EXPECT_NE(error.find("exponential"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(
      CompiledSchema::compile(json::parse(R"({"pattern": "^(a)\\1$"})"), Draft::kDraft7, &error),
      nullptr);
  EXPECT_NE(error.find("/pattern"), std::string::npos) << error;
  EXPECT_NE(error.find("back-references"), std::string::npos) << error;
  error.clear();
  EXPECT_NE(CompiledSchema::compile(json::parse(R"({"patternProperties": {"^x-[a-z]+$": {}}})"),
                                    Draft::kDraft7, &error),
            nullptr)
      << error;
}

TEST(CompiledSchema, APatternTooLargeToCompileIsAnError) {
  const nlohmann::json s = nlohmann::json::parse(
      R"({"properties": {"id": {"type": "string", "pattern": "((a{999}){999}){999}"}}})");
  std::string error;
  EXPECT_EQ(CompiledSchema::compile(s, Draft::kDraft7, &error), nullptr);
  EXPECT_NE(error.find("/properties/id/pattern"), std::string::npos) << error;
}

}  // namespace
}  // namespace mgw::validation

namespace mgw::validation {
namespace {

// A string a regex would run on is bounded at kMaxRegexInputBytes: at the bound the pattern
// decides, one byte over is refused by length (a string the pattern would accept, so the refusal
// is not the regex's), and a long string is refused without running std::regex (which would
// overflow the stack on it).
// instance checked as a value (parameters) and as JSON text (bodies): both must find the same.
std::optional<Violation> both(const CompiledSchema& s, const json& instance) {
  std::string unreadable;
  const auto asText = s.checkText(instance.dump(), &unreadable);
  EXPECT_EQ(unreadable, "");
  const auto asValue = s.check(instance);
  EXPECT_EQ(asText.has_value(), asValue.has_value()) << instance.dump().substr(0, 60);
  if (asText && asValue) {
    EXPECT_EQ(asText->pointer, asValue->pointer);
    EXPECT_EQ(asText->rule, asValue->rule);
  }
  return asValue;
}

TEST(CompiledSchema, StringsARegexRunsOnAreBoundedBeforeTheRegex) {
  std::string error;
  auto s = CompiledSchema::compile(json::parse(R"({"type": "object", "properties": {
      "name": {"type": "string", "pattern": "^[a-z]+$"},
      "when": {"type": "string", "format": "date-time"},
      "free": {"type": "string"},
      "list": {"type": "array", "items": {"allOf": [{"pattern": "^(a|b)*$"}]}},
      "map": {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
      "deep": {"not": {"properties": {"k": {"pattern": "^z$"}}}}}})"),
                                   Draft::kDraft4, &error);
  ASSERT_TRUE(s) << error;
  const std::string atBound(kMaxRegexInputBytes, 'a');
  const std::string over(kMaxRegexInputBytes + 1, 'a');
  const std::string huge(200000, 'a');

  EXPECT_FALSE(both(*s, json{{"name", atBound}}));
  auto v = both(*s, json{{"name", std::string(kMaxRegexInputBytes, '1')}});
  ASSERT_TRUE(v);  // the pattern ran and refused
  EXPECT_NE(v->rule.find("regex"), std::string::npos) << v->rule;

  v = both(*s, json{{"name", over}});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->pointer, "/name");
  EXPECT_EQ(v->rule,
            "a string of 1025 bytes is longer than the 1024 bytes a pattern is checked on");
  EXPECT_EQ(v->rule.find("aaaa"), std::string::npos);  // never the string

  for (const json& instance :
       {json{{"name", huge}}, json{{"when", huge}}, json{{"list", {"ab", huge}}},
        json{{"map", {{huge, "v"}}}}, json{{"deep", {{"other", huge}}}}}) {
    v = both(*s, instance);
    ASSERT_TRUE(v) << instance.dump().substr(0, 40);
    EXPECT_NE(v->rule.find("bytes a pattern is checked on"), std::string::npos) << v->rule;
  }
  v = both(*s, json{{"list", {"ab", huge}}});
  EXPECT_EQ(v->pointer, "/list/1");
  v = both(*s, json{{"map", {{huge, "v"}}}});
  EXPECT_EQ(v->rule.substr(0, 29), "an object key of 200000 bytes");

  // The worst measured pattern (ASan overflows at 4,096 bytes) runs at the bound and decides.
  auto nested = CompiledSchema::compile(json::parse(R"({"pattern": "^((a|b)|(c|d))*$"})"),
                                        Draft::kDraft4, &error);
  ASSERT_TRUE(nested) << error;
  EXPECT_FALSE(both(*nested, json(std::string(kMaxRegexInputBytes, 'c'))));
  EXPECT_TRUE(both(*nested, json(std::string(kMaxRegexInputBytes - 1, 'c') + "x")));

  // No regex applies: a long string passes through untouched.
  EXPECT_FALSE(both(*s, json{{"free", huge}}));
  auto plain = CompiledSchema::compile(json::parse(R"({"type": "array", "items": {}})"),
                                       Draft::kDraft4, &error);
  ASSERT_TRUE(plain) << error;
  EXPECT_FALSE(both(*plain, json{huge}));
}

// RapidJSON's SSE2 whitespace skipping reads whole aligned 16-byte blocks, past the text's end
// within its block. Each size below is the first text of a fresh thread (its scratch string then
// has exactly the text's capacity), ending in whitespace the skipping reads to the end: before
// the scratch kept 16 bytes of room, the ASan build found a heap-buffer-overflow here now and then
// (integration_test_validation); this makes every block boundary happen.
TEST(CompiledSchema, TextEndingInWhitespaceIsReadWithinItsBuffer) {
  std::string error;
  auto s = CompiledSchema::compile(json::parse(R"({"type": "object"})"), Draft::kDraft4, &error);
  ASSERT_TRUE(s) << error;
  for (std::size_t size = 20; size < 20 + 64; ++size) {
    std::string text = "{}" + std::string(size - 2, ' ');
    std::thread([&] {
      std::string why;
      EXPECT_FALSE(s->checkText(text, &why));
      EXPECT_EQ(why, "") << size;
    }).join();
  }
}

// What checkText refuses before any schema rule: text that is not one JSON value (a NUL byte
// that would end RapidJSON's reading early, bad UTF-8, trailing bytes), nesting past
// kMaxJsonDepth, and an object with a member name twice (the first would pass unchecked by
// 'properties' and a backend reading the last would take it).
TEST(CompiledSchema, TextThatIsNotOneUnambiguousJsonValueIsNotChecked) {
  std::string error;
  auto s = CompiledSchema::compile(
      json::parse(R"({"type": "object", "properties": {"n": {"type": "integer"}}})"),
      Draft::kDraft4, &error);
  ASSERT_TRUE(s) << error;
  std::string why;
  EXPECT_FALSE(s->checkText(R"({"n": 1})", &why));
  EXPECT_EQ(why, "");
  auto v = s->checkText(R"({"n": "x"})", &why);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->pointer, "/n");
  for (const std::string& text :
       {std::string("{\"n\": 1}\0{\"n\": \"x\"}", 19), std::string("{\"n\": \"\xff\"}"),
        std::string("{\"n\": 1} x"), std::string("{\"n\": 1,}"), std::string("")}) {
    EXPECT_FALSE(s->checkText(text, &why));
    EXPECT_EQ(why, "is not valid JSON") << text;
  }
  const std::string deep =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(s->checkText(deep, &why));
  EXPECT_EQ(why, "is nested deeper than 128 levels");
  const std::string atLimit =
      "{\"x\": " + std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']') + "}";
  EXPECT_FALSE(s->checkText(atLimit, &why));
  EXPECT_EQ(why, "");

  EXPECT_FALSE(s->checkText(R"({"n": 1, "n": "x"})", &why));
  EXPECT_EQ(why,
            "is ambiguous JSON: the object at # has the member 'n' twice (a checked body's "
            "member names must be unique, RFC 8259 section 4)");
  std::string wide = R"({"a": [{"k0": 0)";
  for (int i = 1; i < 40; ++i) wide += ", \"k" + std::to_string(i) + "\": 0";
  EXPECT_FALSE(s->checkText(wide + "}]}", &why));
  EXPECT_EQ(why, "");
  EXPECT_FALSE(s->checkText(wide + R"(, "k17": 1}]})", &why));
  EXPECT_NE(why.find("the object at #/a/0 has the member 'k17' twice"), std::string::npos) << why;
}

}  // namespace
}  // namespace mgw::validation

#include "validation/operation.h"

namespace mgw::validation {
namespace {

// A parameter's member of the wrong type is a load error naming it, not a type_error out of the
// loader (fuzz_openapi_loader: "required: yes", "collectionFormat: null" stopped the gateway).
// The fast path (RapidJSON's SAX schema validator) answers only "valid"; every other answer is
// valijson's, unchanged.
std::shared_ptr<const CompiledSchema> compiled(const char* text, Draft draft = Draft::kDraft4) {
  std::string error;
  auto s = CompiledSchema::compileUncached(json::parse(text), draft, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

void expectSameAnswer(const CompiledSchema& s, const std::string& body) {
  std::string fastUnreadable, slowUnreadable;
  const auto fast = s.checkText(body, &fastUnreadable);
  const auto slow = s.checkTextValijson(body, &slowUnreadable);
  EXPECT_EQ(fastUnreadable, slowUnreadable) << body;
  ASSERT_EQ(fast.has_value(), slow.has_value()) << body;
  if (!fast) return;
  EXPECT_EQ(fast->pointer, slow->pointer) << body;
  EXPECT_EQ(fast->rule, slow->rule) << body;
  ASSERT_EQ(fast->all.size(), slow->all.size()) << body;
  for (std::size_t i = 0; i < fast->all.size(); ++i) {
    EXPECT_EQ(fast->all[i].pointer, slow->all[i].pointer) << body;
    EXPECT_EQ(fast->all[i].rule, slow->all[i].rule) << body;
  }
}

constexpr const char* kOrder = R"({"type": "object", "additionalProperties": false,
    "required": ["id", "lines"],
    "properties": {
      "id": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
      "state": {"type": "string", "enum": ["open", "paid"]},
      "note": {"type": ["string", "null"], "maxLength": 8},
      "lines": {"type": "array", "minItems": 1, "items": {"type": "object",
        "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1,
        "maximum": 100, "multipleOf": 2}, "price": {"type": "number", "minimum": 0,
        "exclusiveMinimum": true}}}}}})";

TEST(CompiledSchema, APatternWithANulIsALoadError) {
  // valijson would cut it at the NUL and compile the rest itself, backtracking (fuzz_schema).
  json schema = {{"type", "string"}, {"pattern", std::string("^[a-z]**\0x", 11)}};
  std::string error;
  EXPECT_FALSE(CompiledSchema::compileUncached(schema, Draft::kDraft4, &error));
  EXPECT_NE(error.find("/pattern: a NUL character"), std::string::npos) << error;
}

TEST(CompiledSchema, MultipleOfZeroIsALoadError) {
  // valijson would divide an integer by it (SIGFPE; fuzz_schema)
  for (const char* text :
       {R"({"multipleOf": 0})", R"({"properties": {"n": {"multipleOf": -2}}})"}) {
    std::string error;
    EXPECT_FALSE(CompiledSchema::compileUncached(json::parse(text), Draft::kDraft4, &error));
    EXPECT_NE(error.find("multipleOf: must be greater than 0"), std::string::npos) << error;
  }
}

TEST(CompiledSchema, AZeroWithALargeExponentOrALongFractionIsZero) {
  // RapidJSON's full-precision parse read "0.000e100" as 5.1e+294 (fuzz_schema): now 0 on both
  // paths, fast and valijson.
  auto atMost =
      CompiledSchema::compileUncached(json::parse(R"({"maximum": 10})"), Draft::kDraft4, nullptr);
  auto atLeast =
      CompiledSchema::compileUncached(json::parse(R"({"minimum": 1})"), Draft::kDraft4, nullptr);
  ASSERT_TRUE(atMost && atLeast);
  // and one with more than 22 fraction digits (fuzz_schema: read as a large number, it passed
  // the minimum)
  for (const char* zero : {"0e308", "0.000e100", "-0e30", "[1.5, 0E+300]",
                           "0.00000000000000000000000", "-0.000000000000000000000000000000000"}) {
    std::string unreadable;
    EXPECT_FALSE(atMost->checkText(zero, &unreadable)) << zero;
    EXPECT_FALSE(atMost->checkTextValijson(zero, &unreadable)) << zero;
    if (zero[0] != '[') {
      EXPECT_TRUE(atLeast->checkText(zero, &unreadable)) << zero;
      EXPECT_TRUE(atLeast->checkTextValijson(zero, &unreadable)) << zero;
    }
  }
  std::string unreadable;
  EXPECT_FALSE(atLeast->checkText("1.5e2", &unreadable));
}

// kOrder with its pattern under allOf: RapidJSON's regex checks it, not an automaton of ours.
std::string orderPatternInAllOf() {
  std::string text = kOrder;
  const std::string from = R"("pattern": "^[A-Z]{3}-[0-9]{4}$")";
  text.replace(text.find(from), from.size(), "\"allOf\": [{" + from + "}]");
  return text;
}

TEST(FastPath, APatternReachedThroughPropertiesAndItemsOnlyRunsOnAnAutomaton) {
  EXPECT_EQ(compiled(kOrder)->fastPatternAutomata(), 1u);
  EXPECT_EQ(compiled(orderPatternInAllOf().c_str())->fastPatternAutomata(), 0u);
  auto nested = compiled(R"({"type": "array", "items": {"properties": {"a": {"items":
      {"pattern": "^x+$"}}, "b": {"not": {"pattern": "y"}}}}})");
  ASSERT_TRUE(nested->hasFastPath()) << nested->noFastPathReason();
  EXPECT_EQ(nested->fastPatternAutomata(), 1u);  // not the one under not
  using V = CompiledSchema::FastVerdict;
  EXPECT_EQ(nested->checkFast(R"([{"a": ["x", "xx"], "b": "z"}, {"a": []}, 7])"), V::kValid);
  EXPECT_EQ(nested->checkFast(R"([{"a": ["x", "xa"]}])"), V::kInvalid);
  EXPECT_EQ(nested->checkFast(R"([{"a": ["x"], "b": "y"}])"), V::kInvalid);
  // the same name elsewhere, and a nested container before the checked string: not the site
  EXPECT_EQ(nested->checkFast(R"([{"c": {"a": ["z"]}, "d": [[]], "a": ["x"]}])"), V::kValid);
  EXPECT_EQ(nested->checkFast(R"([{"a": [["z"], "x", {"a": "z"}, "xx"]}])"), V::kValid);
  EXPECT_EQ(nested->checkFast(R"([{"a": [["z"], {"a": "z"}, "z"]}])"), V::kInvalid);
  for (const char* body : {R"([{"a": ["x", "xa"]}])", R"([{"a": [["z"], {"a": "z"}, "z"]}])",
                           R"([{"a": ["x"], "b": "y"}])", R"([{"a": "xa"}])"})
    expectSameAnswer(*nested, body);
}

// A schema's automata share one budget of work at load: past it, patterns stay with RapidJSON
// (a definition of many large patterns cannot make a load take minutes).
TEST(FastPath, ASchemasAutomataShareOneBudget) {
  json properties = json::object();
  for (int i = 0; i < 20; ++i)
    properties["p" + std::to_string(i)] = {{"type", "string"}, {"pattern", "[a-z]{1,500}"}};
  auto s = CompiledSchema::compileUncached({{"properties", properties}}, Draft::kDraft4, nullptr);
  ASSERT_TRUE(s && s->hasFastPath()) << (s ? s->noFastPathReason() : "");
  EXPECT_GT(s->fastPatternAutomata(), 5u);
  EXPECT_LT(s->fastPatternAutomata(), 20u);
  EXPECT_EQ(s->checkFast(R"({"p0": "abc", "p19": "xyz"})"), CompiledSchema::FastVerdict::kValid);
  EXPECT_EQ(s->checkFast(R"({"p0": "abc", "p19": "XYZ"})"), CompiledSchema::FastVerdict::kInvalid);
  expectSameAnswer(*s, R"({"p0": "ABC", "p19": "XYZ"})");
}

class FastPathBothRegexes : public ::testing::TestWithParam<bool> {
 protected:
  std::string schema() const { return GetParam() ? std::string(kOrder) : orderPatternInAllOf(); }
};
INSTANTIATE_TEST_SUITE_P(AutomatonAndRapidJson, FastPathBothRegexes, ::testing::Bool());

TEST_P(FastPathBothRegexes, ASchemaOnTheListIsCheckedByRapidJsonWithValijsonsAnswers) {
  auto s = compiled(schema().c_str());
  ASSERT_TRUE(s->hasFastPath()) << s->noFastPathReason();
  EXPECT_EQ(s->fastPatternAutomata(), GetParam() ? 1u : 0u);
  using V = CompiledSchema::FastVerdict;
  const std::string valid = R"({"id": "ABC-1234", "state": "paid", "note": null,
      "lines": [{"qty": 2, "price": 5}, {"qty": 100}]})";
  EXPECT_EQ(s->checkFast(valid), V::kValid);
  expectSameAnswer(*s, valid);
  // Each refused by the fast path, answered by valijson as before.
  for (const char* body :
       {R"({"id": "abc-1234", "lines": [{"qty": 2}]})",
        R"({"id": "ABC-1234", "lines": [{"qty": 3}]})",
        R"({"id": "ABC-1234", "lines": [{"qty": 2, "price": 0}]})",
        R"({"id": "ABC-1234", "lines": []})",
        R"({"id": "ABC-1234", "state": "gone", "lines": [{"qty": 2}]})",
        R"({"id": "ABC-1234", "note": "abcdefghi", "lines": [{"qty": 2}]})",
        R"({"id": "ABC-1234", "lines": [{"qty": 2}], "extra": 1})", R"({"lines": [{"qty": 2}]})"}) {
    EXPECT_EQ(s->checkFast(body), V::kInvalid) << body;
    expectSameAnswer(*s, body);
    std::string unreadable;
    EXPECT_TRUE(s->checkText(body, &unreadable)) << body;
  }
  std::string unreadable;
  auto v = s->checkText(R"({"id": "ABC-1234", "lines": [{"qty": 2}, {"qty": 7}]})", &unreadable);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->pointer, "/lines/1/qty");
  // Unreadable text: the same words as before, whichever path saw it first.
  for (const char* body : {R"({"id": )", R"({"id": "ABC-1234", "id": "ABC-1234", "lines": []})",
                           "\"\xff\"", "[[[[1]]]] x"})
    expectSameAnswer(*s, body);
  expectSameAnswer(*s, std::string(200, '[') + std::string(200, ']'));
  EXPECT_EQ(s->fastDisagreements(), 0u);
}

TEST_P(FastPathBothRegexes, ThreadsCheckingOneSchemaAtOnceGetTheirOwnAnswers) {
  // RapidJSON 1.1.0's regex keeps its search state in the pattern: each thread must use its own
  // compiled schema, or one thread's search corrupts another's answer (the allOf case; the
  // automata are only read).
  auto s = compiled(schema().c_str());
  ASSERT_TRUE(s->hasFastPath());
  const std::string valid = R"({"id": "ABC-1234", "lines": [{"qty": 2}]})";
  const std::string invalid = R"({"id": "ABC-12345", "lines": [{"qty": 2}]})";
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60000; ++i) {
        const bool good = (i + t) % 2 == 0;
        const auto v = s->checkFast(good ? valid : invalid);
        if (v !=
            (good ? CompiledSchema::FastVerdict::kValid : CompiledSchema::FastVerdict::kInvalid))
          ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(FastPath, ValuesTheTwoLibrariesMayJudgeApartGoToValijson) {
  // A pattern run by RapidJSON's regex: every string of the body is checked to be printable ASCII
  // (RapidJSON matches code points); by an automaton: only those at its place.
  auto s = compiled(orderPatternInAllOf().c_str());
  auto automaton = compiled(kOrder);
  using V = CompiledSchema::FastVerdict;
  for (const char* id :
       {"\xc3\xa9", "a\\nb", "a\\u0000", "abcdefghij\\u0001k", "abcdefghijklmno\\u007f"}) {
    const std::string body = std::string(R"({"id": ")") + id + R"(", "lines": [{"qty": 2}]})";
    EXPECT_EQ(automaton->checkFast(body), V::kUnsure) << body;
    expectSameAnswer(*automaton, body);
  }
  // the same in a string no pattern sees: RapidJSON's maxLength counts as valijson's
  EXPECT_EQ(automaton->checkFast(R"({"id": "ABC-1234", "note": "a\nb", "lines": [{"qty": 2}]})"),
            V::kValid);
  for (const char* body :
       {"{\"id\": \"ABC-1234\", \"note\": \"\xc3\xa9\", \"lines\": [{\"qty\": 2}]}",
        R"({"id": "ABC-1234", "note": "a\nb", "lines": [{"qty": 2}]})",
        R"({"id": "ABC-1234", "note": "a\u0000", "lines": [{"qty": 2}]})",
        // the same past the first 8 bytes (checked 8 at a time)
        R"({"id": "ABC-1234", "note": "abcdefghij\u0001k", "lines": [{"qty": 2}]})",
        "{\"id\": \"ABC-1234\", \"note\": \"abcdefghi\xc3\xa9\", \"lines\": []}",
        R"({"id": "ABC-1234", "note": "abcdefghijklmno\u007f", "lines": []})",
        // a number with a fraction where multipleOf is (floating point)
        R"({"id": "ABC-1234", "lines": [{"qty": 2.0}]})",
        // a string valijson reads as a number, where the schema has multipleOf
        R"({"id": "ABC-1234", "note": " -12", "lines": [{"qty": 2}]})",
        // an integer past 2^53
        R"({"id": "ABC-1234", "lines": [{"qty": 2, "price": 9007199254740993}]})"}) {
    EXPECT_EQ(s->checkFast(body), V::kUnsure) << body;
    expectSameAnswer(*s, body);
  }
  // A string longer than the regex bound: valijson's bound answers.
  const std::string longId =
      R"({"id": ")" + std::string(2000, 'A') + R"(", "lines": [{"qty": 2}]})";
  EXPECT_EQ(s->checkFast(longId), V::kUnsure);
  expectSameAnswer(*s, longId);
}

TEST(FastPath, SchemasOffTheListStayOnValijson) {
  struct Case {
    const char* schema;
    Draft draft;
    const char* valid;
    const char* invalid;
  };
  const Case cases[] = {
      // \d: no such class in RapidJSON's regex (under not: no automaton takes it)
      {R"({"not": {"type": "string", "pattern": "^\\d{3}$"}})", Draft::kDraft4, R"("12a")",
       R"("123")"},
      // a draft 7 schema (OpenAPI 3.1)
      {R"({"type": "integer", "exclusiveMinimum": 3})", Draft::kDraft7, "4", "3"},
      // enum where the type allows an object (RapidJSON compares hashes only)
      {R"({"enum": ["a", "b"]})", Draft::kDraft4, R"("a")", R"("c")"},
      // a required name not in properties, with additionalProperties false
      {R"({"properties": {"a": {}}, "required": ["b"], "additionalProperties": false})",
       Draft::kDraft4, R"("not an object")", R"({"a": 1, "b": 2})"},
      // date formats (valijson checks them, RapidJSON does not)
      {R"({"type": "string", "format": "date"})", Draft::kDraft4, R"("2026-12-07")", R"("soon")"},
      // a quantified group holding a quantifier (RapidJSON's matcher would recurse forever)
      // (under allOf, where RapidJSON's regex would run it)
      {R"({"allOf": [{"type": "string", "pattern": "^(a*)*$"}]})", Draft::kDraft4, R"("aaa")",
       R"("b")"},
  };
  for (const Case& c : cases) {
    auto s = compiled(c.schema, c.draft);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->hasFastPath()) << c.schema;
    EXPECT_FALSE(s->noFastPathReason().empty());
    EXPECT_EQ(s->checkFast(c.valid), CompiledSchema::FastVerdict::kNone);
    std::string unreadable;
    EXPECT_FALSE(s->checkText(c.valid, &unreadable)) << c.schema << " " << c.valid;
    EXPECT_TRUE(s->checkText(c.invalid, &unreadable)) << c.schema << " " << c.invalid;
    expectSameAnswer(*s, c.invalid);
  }
  EXPECT_NE(compiled(R"({"not": {"type": "string", "pattern": "^\\d{3}$"}})")
                ->noFastPathReason()
                .find("/not/pattern"),
            std::string::npos);
  // at the root, an automaton takes it: the schema is on the fast path
  auto digits = compiled(R"({"type": "string", "pattern": "^\\d{3}$"})");
  EXPECT_EQ(digits->fastPatternAutomata(), 1u);
  EXPECT_EQ(digits->checkFast(R"("123")"), CompiledSchema::FastVerdict::kValid);
  EXPECT_EQ(digits->checkFast(R"("12a")"), CompiledSchema::FastVerdict::kInvalid);
  expectSameAnswer(*digits, R"("12a")");
}

TEST(FastPath, PatternsInTheSharedDialectAreTaken) {
  // Under allOf a pattern is RapidJSON's to run: only its dialect shared with std::regex.
  auto underAllOf = [](const char* pattern) {
    json schema = {{"allOf", json::array({{{"type", "string"}, {"pattern", pattern}}})}};
    return CompiledSchema::compileUncached(schema, Draft::kDraft4, nullptr);  // null: a load error
  };
  // At the root, an automaton of ours takes what it can (pattern_dfa.h).
  auto atRoot = [](const char* pattern) {
    json schema = {{"type", "string"}, {"pattern", pattern}};
    return CompiledSchema::compileUncached(schema, Draft::kDraft4, nullptr);
  };
  for (const char* pattern : {"^[A-Z]{3}-[0-9]{4}$", "^(ab|cd)+x?$", "abc", "^[^ ]+@[a-z.]+$",
                              "^a\\.b\\*$", "^[a-z0-9_-]{1,64}$", "^a*$", "a|b", "x(a*|b)"}) {
    auto s = underAllOf(pattern);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->hasFastPath()) << pattern << ": " << s->noFastPathReason();
    EXPECT_EQ(s->fastPatternAutomata(), 0u);
    EXPECT_EQ(atRoot(pattern)->fastPatternAutomata(), 1u) << pattern;
  }
  // Off RapidJSON's dialect; some an automaton takes at the root, the rest never take the path.
  for (const char* pattern : {"\\w", "(a+)+", "a*", "^a?", "(ab)*$"}) {
    auto s = underAllOf(pattern);
    if (s) EXPECT_FALSE(s->hasFastPath()) << pattern;
    auto root = atRoot(pattern);
    ASSERT_TRUE(root);
    EXPECT_TRUE(root->hasFastPath()) << pattern << ": " << root->noFastPathReason();
    EXPECT_EQ(root->fastPatternAutomata(), 1u) << pattern;
  }
  for (const char* pattern : {"a^b", "a$b", "^a+?$", "(?:a)", "a|", "()", "[[:alpha:]]", "a{,3}",
                              "\xc3\xa9", "^a|b$", "a{0}"}) {
    auto s = underAllOf(pattern);
    if (s) EXPECT_FALSE(s->hasFastPath()) << pattern;
    auto root = atRoot(pattern);
    if (root) EXPECT_FALSE(root->hasFastPath()) << pattern;
  }
}

TEST(FastPath, UnderNotBothLibrariesAgreeBothWays) {
  // Under `not` a wrong refusal inside is a wrong acceptance: each of these differs between the
  // two engines inside, so the schema must stay on valijson (or hand the value over).
  struct Case {
    const char* schema;
    const char* body;
  };
  const Case cases[] = {
      {R"({"not": {"type": "string", "pattern": "a*"}})", R"("b")"},
      {R"({"not": {"type": "string", "pattern": "^a|b$"}})", R"("xb")"},
      {R"({"not": {"properties": {"a": {"type": "string"}}, "patternProperties": {"^b": {}},
          "additionalProperties": false}})",
       R"({"a": "x", "b": 1})"},
      {R"({"not": {"type": "number", "enum": [0]}})", "-0.0"},
      {R"({"not": {"type": "integer", "minimum": 9007199254740993}})", "9007199254740992"},
  };
  for (const Case& c : cases) {
    auto s = compiled(c.schema);
    ASSERT_TRUE(s);
    EXPECT_NE(s->checkFast(c.body), CompiledSchema::FastVerdict::kValid) << c.schema;
    expectSameAnswer(*s, c.body);
  }
}

// Random schemas from the fast path's keywords (nested under not/oneOf/anyOf/allOf, where a
// refusal that differs turns into an acceptance that differs) and random instances from a small
// domain near their bounds: the fast path never accepts what valijson refuses. Deterministic.
struct Gen {
  std::mt19937 rng{20261207};
  int pick(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }
  bool coin() { return pick(2) == 0; }

  json schema(int depth) {
    json s = json::object();
    static const char* const kTypes[] = {"null",   "boolean", "object", "array",
                                         "string", "number",  "integer"};
    if (pick(3) != 0) {
      if (coin()) {
        s["type"] = kTypes[pick(7)];
      } else {
        json t = json::array({kTypes[pick(7)]});
        t.push_back(kTypes[pick(7)]);
        s["type"] = t;
      }
    }
    static const char* const kPatterns[] = {"^[a-c]+$",  "^a(b|c)*d$", "ab", "^x{2,3}$", "[0-9]",
                                            "^(ab|c)+$", "b$",         "^a", "^[^a]*$",  "^.b?$"};
    if (pick(4) == 0) s["pattern"] = kPatterns[pick(10)];
    if (pick(5) == 0) s["minLength"] = pick(3);
    if (pick(5) == 0) s["maxLength"] = pick(4);
    if (pick(4) == 0) s[coin() ? "minimum" : "maximum"] = coin() ? json(pick(5) - 1) : json(0.5);
    if (pick(6) == 0 && s.contains("minimum")) s["exclusiveMinimum"] = coin();
    if (pick(6) == 0 && s.contains("maximum")) s["exclusiveMaximum"] = coin();
    if (pick(6) == 0) s["multipleOf"] = 1 + pick(3);
    if (pick(6) == 0 && s.contains("type") && s["type"].is_string() && s["type"] != "object" &&
        s["type"] != "array") {
      json e = json::array();
      for (int i = 0, n = 1 + pick(3); i < n; ++i) e.push_back(scalar());
      s["enum"] = e;
    }
    if (depth > 0 && pick(3) == 0) {
      json props = json::object();
      for (const char* name : {"a", "b", "c"})
        if (coin()) props[name] = schema(depth - 1);
      s["properties"] = props;
      if (!props.empty() && coin()) {
        json req = json::array();
        for (const auto& [name, sub] : props.items())
          if (coin()) req.push_back(name);
        if (!req.empty()) s["required"] = req;
      }
      const int additional = pick(4);
      if (additional == 1) s["additionalProperties"] = false;
      if (additional == 2) s["additionalProperties"] = schema(depth - 1);
      if (additional == 3) s["additionalProperties"] = true;
      if ((additional == 0 || additional == 3) && coin())
        s["patternProperties"] = {{coin() ? "^x" : "y$", schema(depth - 1)}};
      if (coin()) s[coin() ? "minProperties" : "maxProperties"] = pick(3);
    }
    if (depth > 0 && pick(4) == 0) {
      s["items"] = schema(depth - 1);
      if (coin()) s[coin() ? "minItems" : "maxItems"] = pick(3);
    }
    if (depth > 0 && pick(3) == 0) {
      static const char* const kLists[] = {"allOf", "anyOf", "oneOf"};
      json list = json::array();
      for (int i = 0, n = 1 + pick(3); i < n; ++i) list.push_back(schema(depth - 1));
      s[kLists[pick(3)]] = list;
    }
    if (depth > 0 && pick(4) == 0) s["not"] = schema(depth - 1);
    return s;
  }

  json scalar() {
    switch (pick(6)) {
      case 0:
        return nullptr;
      case 1:
        return coin();
      case 2:
        return pick(7) - 2;
      case 3:
        return coin() ? 0.5 : 2.0;
      default: {
        static const char* const kStrings[] = {"",    "a",  "abd", "acbd", "xx",  "xxx",
                                               "ab",  "b",  "1",   "c",    "aab", "xb",
                                               "a b", "ba", "x1",  "y",    "ccc", "d"};
        return kStrings[pick(18)];
      }
    }
  }

  json instance(int depth) {
    const int kind = depth > 0 ? pick(8) : 0;
    if (kind == 6) {
      json a = json::array();
      for (int i = 0, n = pick(4); i < n; ++i) a.push_back(instance(depth - 1));
      return a;
    }
    if (kind == 7) {
      json o = json::object();
      static const char* const kNames[] = {"a", "b", "c", "x1", "xy", "zy"};
      for (int i = 0, n = pick(4); i < n; ++i) o[kNames[pick(6)]] = instance(depth - 1);
      return o;
    }
    return scalar();
  }
};

TEST(FastPath, RandomSchemasNeverAcceptWhatValijsonRefuses) {
  Gen gen;
  // MGW_FAST_RANDOM_SCHEMAS=N (and MGW_FAST_RANDOM_SEED) for a longer run than make test's.
  const char* many = std::getenv("MGW_FAST_RANDOM_SCHEMAS");
  const int schemas = many ? std::atoi(many) : 3000;
  if (const char* seed = std::getenv("MGW_FAST_RANDOM_SEED"))
    gen.rng.seed(static_cast<unsigned>(std::atoi(seed)));
  int fastSchemas = 0, accepted = 0, refused = 0, stricter = 0, handed = 0;
  std::vector<std::string> defects;
  for (int i = 0; i < schemas; ++i) {
    const json schema = gen.schema(3);
    std::string error;
    auto s = CompiledSchema::compileUncached(schema, Draft::kDraft4, &error);
    if (!s || !s->hasFastPath()) continue;
    ++fastSchemas;
    for (int j = 0; j < 12; ++j) {
      const std::string text = gen.instance(3).dump();
      std::string unreadable;
      const bool valijsonValid = !s->checkTextValijson(text, &unreadable) && unreadable.empty();
      switch (s->checkFast(text)) {
        case CompiledSchema::FastVerdict::kValid:
          ++accepted;
          if (!valijsonValid && defects.size() < 10)
            defects.push_back(schema.dump() + " accepts " + text);
          break;
        case CompiledSchema::FastVerdict::kInvalid:
          ++refused;
          if (valijsonValid) ++stricter;
          break;
        default:
          ++handed;
      }
    }
  }
  std::cout << "random: " << fastSchemas << " schemas with a fast path; " << accepted
            << " accepted, " << refused << " refused (" << stricter << " that valijson accepts), "
            << handed << " handed to valijson\n";
  for (const std::string& d : defects)
    ADD_FAILURE() << "fast path accepts what valijson refuses: " << d;
  EXPECT_GT(fastSchemas, schemas / 3);
  EXPECT_GT(accepted, 2000);
  EXPECT_GT(refused, 2000);
}

TEST(BuildOperation, MembersOfTheWrongTypeAreErrorsWithTheirPointer) {
  const nlohmann::json swagger = nlohmann::json::parse(R"({"paths": {"/pets": {"get": {
    "parameters": [{"name": "tags", "in": "query", "type": "array", "items": {"type": "string"},
                    "collectionFormat": null, "required": "yes"}]}}}})");
  std::vector<SchemaError> errors;
  EXPECT_EQ(buildOperation(swagger, "/paths/~1pets/get", Dialect::kSwagger2, &errors), nullptr);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].pointer, "/paths/~1pets/get/parameters/0/required");
  EXPECT_EQ(errors[1].pointer, "/paths/~1pets/get/parameters/0/collectionFormat");

  const nlohmann::json openapi = nlohmann::json::parse(R"({"paths": {"/pets": {"get": {
    "parameters": [{"name": "id", "in": "query", "schema": {"type": "integer"},
                    "style": 7, "explode": "no"}]}}}})");
  errors.clear();
  EXPECT_EQ(buildOperation(openapi, "/paths/~1pets/get", Dialect::kOpenApi30, &errors), nullptr);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].pointer, "/paths/~1pets/get/parameters/0/style");
  EXPECT_EQ(errors[1].pointer, "/paths/~1pets/get/parameters/0/explode");
}

}  // namespace
}  // namespace mgw::validation
