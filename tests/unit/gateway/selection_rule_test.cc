#include "gateway/selection_rule.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mgw::gateway {
namespace {

std::shared_ptr<const SelectionRule> compiled(std::string_view text) {
  RuleError error;
  auto rule = SelectionRule::compile(text, &error);
  EXPECT_TRUE(rule) << text << ": " << error.text();
  return rule;
}

RuleError errorOf(std::string_view text) {
  RuleError error;
  EXPECT_FALSE(SelectionRule::compile(text, &error)) << text;
  return error;
}

struct Request {
  message::HttpRequest request;
  std::string remote = "10.1.2.3";
  Principal principal;
  bool evaluate(std::string_view rule, bool withKey = true) const {
    auto r = compiled(rule);
    if (!r) return false;
    return r->evaluate(RuleInput{request, remote, withKey ? &principal : nullptr});
  }
};

Request sample() {
  Request r;
  r.request.method = "GET";
  r.request.path = "/v2/menu";
  r.request.headers.emplace("X-Tier", "gold");
  r.request.query.push_back({"region", "eu"});
  r.principal.keytype = "SANDBOX";
  r.principal.subject = "alice";
  return r;
}

TEST(SelectionRuleTest, TheIssuesExamples) {
  const Request r = sample();
  EXPECT_TRUE(r.evaluate("request.headers['x-tier'] == 'gold'"));  // names case-insensitive
  EXPECT_FALSE(r.evaluate("request.headers['x-tier'] == 'silver'"));
  EXPECT_TRUE(r.evaluate("request.query['region'] in ['eu', 'us']"));
  EXPECT_FALSE(r.evaluate("request.query['region'] in ['us']"));
  EXPECT_TRUE(r.evaluate("request.remoteAddress in '10.0.0.0/8'"));
  EXPECT_FALSE(r.evaluate("request.remoteAddress in '192.168.0.0/16, ::1'"));
  EXPECT_TRUE(r.evaluate("key.claims['keytype'] == 'SANDBOX'"));
  EXPECT_TRUE(r.evaluate("request.path matches '^/v2/'"));
  EXPECT_FALSE(r.evaluate("request.path matches '^/v1/'"));
}

TEST(SelectionRuleTest, OperatorsAndPrecedence) {
  const Request r = sample();
  EXPECT_TRUE(r.evaluate("true || false && false"));  // && binds tighter
  EXPECT_FALSE(r.evaluate("(true || false) && false"));
  EXPECT_TRUE(r.evaluate("!(request.method == 'POST')"));
  EXPECT_TRUE(r.evaluate("request.method != 'POST' && !false"));
  EXPECT_TRUE(r.evaluate("not false and true or false"));
  EXPECT_TRUE(r.evaluate("request.method eq 'GET' and request.method ne 'PUT'"));
}

TEST(SelectionRuleTest, AbsentValuesAreNull) {
  const Request r = sample();
  EXPECT_TRUE(r.evaluate("request.headers['x-missing'] == null"));
  EXPECT_FALSE(r.evaluate("request.headers['x-missing'] == ''"));
  EXPECT_FALSE(r.evaluate("request.headers['x-missing'] in ['a']"));
  EXPECT_FALSE(r.evaluate("request.headers['x-missing'] matches '.*'"));
  EXPECT_TRUE(r.evaluate("request.headers['x-tier'] != null"));
  // Without a verified key, key.claims are null.
  EXPECT_FALSE(r.evaluate("key.claims['keytype'] == 'SANDBOX'", false));
  EXPECT_TRUE(r.evaluate("key.claims['keytype'] == null", false));
}

TEST(SelectionRuleTest, GraviteeFormLoads) {
  const Request r = sample();
  EXPECT_TRUE(r.evaluate("{#request.headers['x-tier'][0] == 'gold'}"));
  EXPECT_TRUE(r.evaluate("  {#request.params['region'][0] == 'eu' && #request.method == 'GET'}\n"));
  EXPECT_TRUE(r.evaluate("{#request.headers['X-Tier'] != null}"));
}

TEST(SelectionRuleTest, GraviteeFeaturesOutsideTheLanguageAreRefusedWithAMessage) {
  auto call = errorOf("{#request.headers['x-tier'][0].startsWith('g')}");
  EXPECT_NE(call.message.find("method calls"), std::string::npos) << call.text();
  EXPECT_EQ(call.column, 31);
  auto attr = errorOf("{#context.attributes['user'] == 'x'}");
  EXPECT_NE(attr.message.find("unknown name 'context.attributes'"), std::string::npos);
  EXPECT_EQ(attr.column, 3);
  auto type = errorOf("{#T(java.lang.Runtime).getRuntime()}");
  EXPECT_NE(type.message.find("unknown name 'T'"), std::string::npos) << type.text();
  auto unclosed = errorOf("{#request.method == 'GET'");
  EXPECT_NE(unclosed.message.find("must end with }"), std::string::npos);
  auto index = errorOf("{#request.headers['a'][1] == 'x'}");
  EXPECT_NE(index.message.find("[0]"), std::string::npos);
}

TEST(SelectionRuleTest, ErrorsNameLineAndColumn) {
  auto e = errorOf("request.headers['x'] == 'a' &&\n  request.path = '/x'");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 16);
  EXPECT_EQ(e.text(), "line 2, column 16: '=' is not an operator; compare with '=='");

  e = errorOf("request.headers['x'] == 'a' && (request.method == 'GET'");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.column, 56);
  EXPECT_NE(e.message.find("expected ')'"), std::string::npos);

  e = errorOf("request.path");
  EXPECT_NE(e.message.find("expected ==, !=, in or matches"), std::string::npos);
  e = errorOf("'gold'");
  EXPECT_NE(e.message.find("not a condition"), std::string::npos);
  e = errorOf("request.headers['x'] == 'unterminated");
  EXPECT_NE(e.message.find("not closed"), std::string::npos);
  e = errorOf("key.claims['email'] == 'x'");
  EXPECT_NE(e.message.find("keytype, sub, iss"), std::string::npos);
  e = errorOf("request.remoteAddress in '10.0.0.0/33'");
  EXPECT_NE(e.message.find("CIDR"), std::string::npos);
  e = errorOf("request.path < 'b'");
  EXPECT_NE(e.message.find("ordering"), std::string::npos);
  e = errorOf("");
  EXPECT_FALSE(e.message.empty());
}

TEST(SelectionRuleTest, BoundsAreEnforcedAtLoad) {
  EXPECT_FALSE(SelectionRule::compile(std::string(kMaxRuleBytes + 1, ' ') + "true", nullptr));
  std::string deep;
  for (int i = 0; i < kMaxRuleDepth + 1; ++i) deep += "!";
  deep += "true";
  auto e = errorOf(deep);
  EXPECT_NE(e.message.find("nests deeper"), std::string::npos);
  std::string nested(kMaxRuleDepth + 1, '(');
  nested += "true" + std::string(kMaxRuleDepth + 1, ')');
  EXPECT_FALSE(SelectionRule::compile(nested, nullptr));
  e = errorOf("request.path matches '" + std::string(kMaxPatternBytes + 1, 'a') + "'");
  EXPECT_NE(e.message.find("longer than"), std::string::npos);
  // Back-references are what the polynomial executor cannot run: refused at load.
  e = errorOf("request.path matches '(a)\\\\1'");
  EXPECT_NE(e.message.find("bad pattern"), std::string::npos) << e.text();
  e = errorOf("request.path matches '(unclosed'");
  EXPECT_NE(e.message.find("bad pattern"), std::string::npos);
  // Counts libstdc++ would overflow an int on, and repetitions that multiply into a huge
  // automaton, are refused before std::regex sees them (fuzz_selection_rule: UBSan).
  e = errorOf("request.path matches '(a)\\\\99999999999999'");
  EXPECT_NE(e.message.find("back-reference number"), std::string::npos) << e.text();
  e = errorOf("request.path matches '((a{999}){999}){999}'");
  EXPECT_NE(e.message.find("automaton states"), std::string::npos) << e.text();
}

TEST(SelectionRuleTest, PathologicalPatternsRunInPolynomialTime) {
  Request r = sample();
  r.request.path = std::string(kMaxMatchBytes - 1, 'a') + "!";
  // Exponential for a backtracking matcher, quadratic for a search restarting at every position;
  // one breadth-first pass answers at once, and a long input does not recurse per character.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(r.evaluate("request.path matches '^(a+)+$'"));
  EXPECT_TRUE(r.evaluate("request.path matches '^(a|aa)*!$'"));
  EXPECT_FALSE(r.evaluate("request.path matches '(a+)+b'"));  // unanchored
  // Generous for a loaded machine; the quadratic search took seconds here.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  r.request.path += "a";  // past kMaxMatchBytes: matches nothing
  EXPECT_FALSE(r.evaluate("request.path matches 'a'"));
}

// Plain-string patterns are compared as strings: the same answers as the automaton's.
TEST(SelectionRuleTest, LiteralPatternsMatchAsTheRegexWould) {
  struct Case {
    const char* pattern;
    const char* literal;  // the same pattern, forced through the automaton by a no-op group
  };
  const Case cases[] = {{"^/v2/", "^(?:/v2/)"},
                        {"\\\\.json$", "(?:\\\\.json)$"},
                        {"^/a\\\\.b$", "^(?:/a\\\\.b)$"},
                        {"v2", "(?:v2)"},
                        {"^", "^(?:)"},
                        {"", "(?:)"}};
  for (const char* path : {"/v2/menu", "/x/v2", "/a.b", "/axb", "/data.json", "/data.json/x", ""}) {
    Request r = sample();
    r.request.path = path;
    for (const Case& c : cases) {
      EXPECT_EQ(r.evaluate(std::string("request.path matches '") + c.pattern + "'"),
                r.evaluate(std::string("request.path matches '") + c.literal + "'"))
          << c.pattern << " on " << path;
    }
  }
}

TEST(SelectionRuleTest, StringEscapes) {
  Request r = sample();
  r.request.headers.emplace("X-Quote", "it's \\ here");
  EXPECT_TRUE(r.evaluate("request.headers['x-quote'] == 'it\\'s \\\\ here'"));
  EXPECT_TRUE(r.evaluate("request.headers['x-quote'] == \"it's \\\\ here\""));
  auto e = errorOf("request.path == '\\n'");
  EXPECT_NE(e.message.find("escapes"), std::string::npos);
}

}  // namespace
}  // namespace mgw::gateway
