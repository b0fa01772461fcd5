#include "gateway/selection_rule.h"

#include <optional>
#include <regex>
#include <vector>

#include "common/ip_matcher.h"
#include "common/regex_bounds.h"

namespace mgw::gateway {

std::string RuleError::text() const {
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

namespace {

enum class Source { kLiteral, kNull, kHeader, kQuery, kRemoteAddress, kPath, kMethod, kClaim };

struct Operand {
  Source source = Source::kLiteral;
  std::string arg;  // the literal, the header or parameter name, the claim name
};

enum class Op { kOr, kAnd, kNot, kTrue, kFalse, kEq, kNe, kInList, kInCidr, kMatches };

}  // namespace

struct SelectionRule::Node {
  Op op = Op::kTrue;
  std::unique_ptr<Node> left, right;   // kOr, kAnd (both); kNot (left)
  Operand a, b;                        // comparisons: a op b
  std::vector<std::string> list;       // kInList
  IpMatcher cidr;                      // kInCidr
  std::regex pattern;                  // kMatches, unless the pattern is a plain string:
  std::optional<std::string> literal;  // then this, compared as a string (the same answer,
  bool anchoredStart = false;          // without the automaton's cost: about 4 us a value)
  bool anchoredEnd = false;
};

SelectionRule::~SelectionRule() = default;

namespace {

using Node = SelectionRule::Node;

// A pattern that is a plain string, optionally anchored (^/v2/, \.json$, ^/a\.b$): the string
// (escapes of punctuation undone) with its anchors; nullopt for anything else.
std::optional<std::string> literalOf(std::string_view p, bool* start, bool* end) {
  *start = !p.empty() && p.front() == '^';
  if (*start) p.remove_prefix(1);
  *end = false;
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '$' && i + 1 == p.size()) {
      *end = true;
      break;
    }
    if (c == '\\') {
      if (i + 1 >= p.size()) return std::nullopt;
      const char e = p[++i];
      // \d, \w, \b ... are classes or assertions; only escaped punctuation is a literal.
      if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
        return std::nullopt;
      out += e;
      continue;
    }
    if (std::string_view("^$.|?*+()[]{}").find(c) != std::string_view::npos) return std::nullopt;
    out += c;
  }
  return out;
}

enum class Tok {
  kEnd,
  kName,
  kString,
  kNumber,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kComma,
  kEq,
  kNe,
  kAnd,
  kOr,
  kNot,
  kBad
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // the name (without '#'), the unescaped string, the number
  int line = 1, column = 1;
};

class Parser {
 public:
  Parser(std::string_view text, int line, int column) : s_(text), line_(line), col_(column) {}

  std::unique_ptr<Node> parse(RuleError* error) {
    error_ = error;
    if (!advance()) return nullptr;
    auto root = parseOr(0);
    if (!root) return nullptr;
    if (tok_.kind != Tok::kEnd)
      return fail(tok_, "unexpected " + describe(tok_) + " after the rule");
    return root;
  }

 private:
  std::nullptr_t fail(const Token& at, std::string message) {
    if (error_->message.empty()) *error_ = RuleError{at.line, at.column, std::move(message)};
    return nullptr;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of the rule";
      case Tok::kName:
        return "'" + t.text.substr(0, 40) + "'";
      case Tok::kString:
        return "a string";
      case Tok::kNumber:
        return "the number " + t.text.substr(0, 20);
      case Tok::kLBracket:
      case Tok::kRBracket:
      case Tok::kLParen:
      case Tok::kRParen:
      case Tok::kComma:
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kAnd:
      case Tok::kOr:
      case Tok::kNot:
      case Tok::kBad:
        break;
    }
    return "'" + t.text + "'";
  }

  // The next token into tok_; false (with the error) for a character the language has not.
  bool advance() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n')) {
      step();
    }
    tok_ = Token{Tok::kEnd, "", line_, col_};
    if (pos_ >= s_.size()) return true;
    const char c = s_[pos_];
    auto two = [&](char next) { return pos_ + 1 < s_.size() && s_[pos_ + 1] == next; };
    auto symbol = [&](Tok kind, std::size_t n) {
      tok_.kind = kind;
      tok_.text = std::string(s_.substr(pos_, n));
      for (std::size_t i = 0; i < n; ++i) step();
      return true;
    };
    if (c == '[') return symbol(Tok::kLBracket, 1);
    if (c == ']') return symbol(Tok::kRBracket, 1);
    if (c == '(') return symbol(Tok::kLParen, 1);
    if (c == ')') return symbol(Tok::kRParen, 1);
    if (c == ',') return symbol(Tok::kComma, 1);
    if (c == '=' && two('=')) return symbol(Tok::kEq, 2);
    if (c == '!' && two('=')) return symbol(Tok::kNe, 2);
    if (c == '&' && two('&')) return symbol(Tok::kAnd, 2);
    if (c == '|' && two('|')) return symbol(Tok::kOr, 2);
    if (c == '!') return symbol(Tok::kNot, 1);
    if (c == '\'' || c == '"') return lexString(c);
    if (c >= '0' && c <= '9') {
      tok_.kind = Tok::kNumber;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && tok_.text.size() < 20) {
        tok_.text += s_[pos_];
        step();
      }
      return true;
    }
    if (c == '#' || isNameStart(c)) {
      if (c == '#') step();  // Spring EL's variable marker: #request = request
      if (pos_ >= s_.size() || !isNameStart(s_[pos_])) {
        fail(tok_, "'#' must be followed by a name (#request, #key)");
        return false;
      }
      tok_.kind = Tok::kName;
      while (pos_ < s_.size() &&
             (isNameStart(s_[pos_]) || (s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.')) {
        tok_.text += s_[pos_];
        step();
      }
      return true;
    }
    if (c == '.')
      fail(tok_, "method calls and properties (.name) are not supported; use ==, in or matches");
    else if (c == '=')
      fail(tok_, "'=' is not an operator; compare with '=='");
    else if (c == '&' || c == '|')
      fail(tok_, std::string("'") + c + "' is not an operator; use '" + c + c + "'");
    else if (c == '<' || c == '>')
      fail(tok_, "ordering comparisons (<, >) are not supported; use ==, !=, in or matches");
    else if (c == '{' || c == '}')
      fail(tok_, "braces are only allowed around the whole rule, in Gravitee's {#...} form");
    else
      fail(tok_, "unexpected character '" + printable(c) + "'");
    return false;
  }

  static std::string printable(char c) {
    if (c >= 0x21 && c < 0x7f) return std::string(1, c);
    static const char* kHex = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    return std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
  }

  static bool isNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  void step() {
    if (s_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  bool lexString(char quote) {
    tok_.kind = Tok::kString;
    step();
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') {
        step();
        if (pos_ >= s_.size()) break;
        if (s_[pos_] != quote && s_[pos_] != '\\') {
          Token at{Tok::kBad, "", line_, col_};
          fail(at, std::string("only \\") + quote + " and \\\\ are escapes in a string");
          return false;
        }
      }
      tok_.text += s_[pos_];
      step();
    }
    if (pos_ >= s_.size()) {
      fail(tok_, "the string is not closed");
      return false;
    }
    step();
    return true;
  }

  bool isWord(std::string_view w) const { return tok_.kind == Tok::kName && tok_.text == w; }

  std::unique_ptr<Node> parseOr(int depth) {
    auto left = parseAnd(depth);
    while (left && (tok_.kind == Tok::kOr || isWord("or"))) {
      if (!advance()) return nullptr;
      auto right = parseAnd(depth);
      if (!right) return nullptr;
      left = join(Op::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Node> parseAnd(int depth) {
    auto left = parseNot(depth);
    while (left && (tok_.kind == Tok::kAnd || isWord("and"))) {
      if (!advance()) return nullptr;
      auto right = parseNot(depth);
      if (!right) return nullptr;
      left = join(Op::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  static std::unique_ptr<Node> join(Op op, std::unique_ptr<Node> l, std::unique_ptr<Node> r) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->left = std::move(l);
    n->right = std::move(r);
    return n;
  }

  std::unique_ptr<Node> parseNot(int depth) {
    if (depth >= kMaxRuleDepth)
      return fail(tok_, "the rule nests deeper than " + std::to_string(kMaxRuleDepth) + " levels");
    if (tok_.kind == Tok::kNot || isWord("not")) {
      if (!advance()) return nullptr;
      auto inner = parseNot(depth + 1);
      if (!inner) return nullptr;
      auto n = std::make_unique<Node>();
      n->op = Op::kNot;
      n->left = std::move(inner);
      return n;
    }
    return parsePrimary(depth);
  }

  std::unique_ptr<Node> parsePrimary(int depth) {
    if (tok_.kind == Tok::kLParen) {
      if (!advance()) return nullptr;
      auto inner = parseOr(depth + 1);
      if (!inner) return nullptr;
      if (tok_.kind != Tok::kRParen) return fail(tok_, "expected ')', found " + describe(tok_));
      if (!advance()) return nullptr;
      return inner;
    }
    if (isWord("true") || isWord("false")) {
      auto n = std::make_unique<Node>();
      n->op = isWord("true") ? Op::kTrue : Op::kFalse;
      if (!advance()) return nullptr;
      return n;
    }
    const Token first = tok_;
    auto a = parseOperand();
    if (!a) return nullptr;
    auto n = std::make_unique<Node>();
    n->a = std::move(*a);
    if (tok_.kind == Tok::kEq || tok_.kind == Tok::kNe || isWord("eq") || isWord("ne")) {
      n->op = tok_.kind == Tok::kEq || isWord("eq") ? Op::kEq : Op::kNe;
      if (!advance()) return nullptr;
      auto b = parseOperand();
      if (!b) return nullptr;
      n->b = std::move(*b);
      return n;
    }
    if (isWord("in")) {
      if (!advance()) return nullptr;
      if (tok_.kind == Tok::kString) {
        std::string why;
        auto cidr = IpMatcher::parse(tok_.text, &why);
        if (!cidr) return fail(tok_, "not an IP address or CIDR list: " + why);
        n->op = Op::kInCidr;
        n->cidr = std::move(*cidr);
        if (!advance()) return nullptr;
        return n;
      }
      if (tok_.kind != Tok::kLBracket)
        return fail(tok_, "'in' takes a list ['a', 'b'] or an address range '10.0.0.0/8'");
      n->op = Op::kInList;
      do {
        if (!advance()) return nullptr;
        if (tok_.kind != Tok::kString)
          return fail(tok_, "a list holds strings, found " + describe(tok_));
        if (n->list.size() >= kMaxRuleListItems)
          return fail(tok_, "a list holds at most " + std::to_string(kMaxRuleListItems) + " items");
        n->list.push_back(tok_.text);
        if (!advance()) return nullptr;
      } while (tok_.kind == Tok::kComma);
      if (tok_.kind != Tok::kRBracket) return fail(tok_, "expected ']', found " + describe(tok_));
      if (!advance()) return nullptr;
      return n;
    }
    if (isWord("matches")) {
      if (!advance()) return nullptr;
      if (tok_.kind != Tok::kString)
        return fail(tok_, "'matches' takes a pattern string, found " + describe(tok_));
      if (tok_.text.size() > kMaxPatternBytes)
        return fail(tok_,
                    "the pattern is longer than " + std::to_string(kMaxPatternBytes) + " bytes");
      if (auto why = regexTooLarge(tok_.text)) return fail(tok_, "bad pattern: " + *why);
      try {
        // The polynomial (breadth-first) executor: no exponential backtracking, no recursion per
        // input character; it refuses back-references. The pattern alone first (its own errors),
        // then wrapped so that one regex_match pass finds it anywhere: regex_search would start
        // the automaton again at every position (quadratic in the value).
        constexpr auto kFlags = std::regex::ECMAScript | std::regex_constants::__polynomial;
        (void)std::regex(tok_.text, kFlags);
        n->literal = literalOf(tok_.text, &n->anchoredStart, &n->anchoredEnd);
        if (!n->literal) n->pattern = std::regex("[\\s\\S]*(?:" + tok_.text + ")[\\s\\S]*", kFlags);
      } catch (const std::regex_error& e) {
        return fail(tok_, std::string("bad pattern: ") + e.what());
      }
      n->op = Op::kMatches;
      if (!advance()) return nullptr;
      return n;
    }
    if (n->a.source == Source::kLiteral || n->a.source == Source::kNull)
      return fail(first, "a value alone is not a condition; compare it (==, !=, in, matches)");
    return fail(tok_, "expected ==, !=, in or matches after " + describe(first) + ", found " +
                          describe(tok_));
  }

  // ['name'] after a map: the name; an optional [0] (Spring EL's first value) is accepted.
  std::optional<std::string> parseKey(const Token& map, bool indexed) {
    if (tok_.kind != Tok::kLBracket)
      return failOpt(tok_,
                     describe(map) + " needs a name in brackets, e.g. " + map.text + "['x-tier']");
    if (!advance()) return std::nullopt;
    if (tok_.kind != Tok::kString)
      return failOpt(tok_, "expected a quoted name, found " + describe(tok_));
    std::string key = tok_.text;
    if (!advance() || tok_.kind != Tok::kRBracket)
      return failOpt(tok_, "expected ']', found " + describe(tok_));
    if (!advance()) return std::nullopt;
    if (indexed && tok_.kind == Tok::kLBracket) {
      if (!advance()) return std::nullopt;
      if (tok_.kind != Tok::kNumber || tok_.text != "0")
        return failOpt(tok_, "only the first value, [0], can be taken");
      if (!advance() || tok_.kind != Tok::kRBracket)
        return failOpt(tok_, "expected ']', found " + describe(tok_));
      if (!advance()) return std::nullopt;
    }
    return key;
  }

  std::optional<std::string> failOpt(const Token& at, std::string message) {
    fail(at, std::move(message));
    return std::nullopt;
  }

  std::optional<Operand> parseOperand() {
    const Token t = tok_;
    if (t.kind == Tok::kString) {
      if (!advance()) return std::nullopt;
      return Operand{Source::kLiteral, t.text};
    }
    if (t.kind != Tok::kName) {
      fail(t, "expected a value, found " + describe(t));
      return std::nullopt;
    }
    if (t.text == "null") {
      if (!advance()) return std::nullopt;
      return Operand{Source::kNull, ""};
    }
    static const std::pair<const char*, Source> kScalars[] = {
        {"request.remoteAddress", Source::kRemoteAddress},
        {"request.path", Source::kPath},
        {"request.method", Source::kMethod}};
    for (const auto& [name, source] : kScalars) {
      if (t.text == name) {
        if (!advance()) return std::nullopt;
        return noCall(Operand{source, ""});
      }
    }
    Source source;
    if (t.text == "request.headers") {
      source = Source::kHeader;
    } else if (t.text == "request.query" || t.text == "request.params") {
      source = Source::kQuery;
    } else if (t.text == "key.claims") {
      source = Source::kClaim;
    } else {
      if (t.text.find('.') != std::string::npos &&
          (t.text.rfind("request.", 0) == 0 || t.text.rfind("key.", 0) == 0)) {
        const std::size_t dot = t.text.find('.', t.text.find('.') + 1);
        if (dot != std::string::npos)
          return failOperand(t, "method calls and properties (" + t.text.substr(dot, 40) +
                                    ") are not supported; use ==, in or matches");
      }
      return failOperand(t, "unknown name " + describe(t) +
                                "; a rule reads request.headers['h'], request.query['q'] "
                                "(request.params), request.remoteAddress, request.path, "
                                "request.method and key.claims['c']");
    }
    if (!advance()) return std::nullopt;
    auto key = parseKey(t, source != Source::kClaim);
    if (!key) return std::nullopt;
    if (source == Source::kClaim) {
      static const char* kClaims[] = {"keytype", "sub", "iss", "application", "tier"};
      bool known = false;
      for (const char* c : kClaims) known = known || *key == c;
      if (!known)
        return failOperand(t, "key.claims['" + key->substr(0, 40) +
                                  "'] is not available; rules read keytype, sub, iss, "
                                  "application and tier");
    }
    return noCall(Operand{source, std::move(*key)});
  }

  std::optional<Operand> noCall(Operand o) {
    if (tok_.kind == Tok::kName && !tok_.text.empty() && tok_.text.front() == '.')
      return failOperand(tok_,
                         "method calls and properties are not supported; use ==, in or "
                         "matches");
    if (tok_.kind == Tok::kLParen) return failOperand(tok_, "function calls are not supported");
    return o;
  }

  std::optional<Operand> failOperand(const Token& at, std::string message) {
    fail(at, std::move(message));
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int line_, col_;
  Token tok_;
  RuleError* error_ = nullptr;
};

std::optional<std::string_view> valueOf(const Operand& o, const RuleInput& in) {
  switch (o.source) {
    case Source::kLiteral:
      return std::string_view(o.arg);
    case Source::kNull:
      return std::nullopt;
    case Source::kHeader: {
      auto it = in.request.headers.find(o.arg);
      if (it == in.request.headers.end()) return std::nullopt;
      return std::string_view(it->second);
    }
    case Source::kQuery:
      for (const auto& [name, value] : in.request.query)
        if (name == o.arg) return std::string_view(value);
      return std::nullopt;
    case Source::kRemoteAddress:
      return in.remoteAddress;
    case Source::kPath:
      return std::string_view(in.request.path);
    case Source::kMethod:
      return std::string_view(in.request.method);
    case Source::kClaim: {
      if (!in.principal) return std::nullopt;
      const Principal& p = *in.principal;
      const std::string& v = o.arg == "keytype" ? p.keytype
                             : o.arg == "sub"   ? p.subject
                             : o.arg == "iss"   ? p.issuer
                             : o.arg == "tier"  ? p.tier
                                                : p.application;
      if (v.empty()) return std::nullopt;
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

bool eval(const Node& n, const RuleInput& in) {
  switch (n.op) {
    case Op::kOr:
      return eval(*n.left, in) || eval(*n.right, in);
    case Op::kAnd:
      return eval(*n.left, in) && eval(*n.right, in);
    case Op::kNot:
      return !eval(*n.left, in);
    case Op::kTrue:
      return true;
    case Op::kFalse:
      return false;
    case Op::kEq:
    case Op::kNe: {
      const bool same = valueOf(n.a, in) == valueOf(n.b, in);
      return n.op == Op::kEq ? same : !same;
    }
    case Op::kInList: {
      const auto v = valueOf(n.a, in);
      if (!v) return false;
      for (const std::string& item : n.list)
        if (*v == item) return true;
      return false;
    }
    case Op::kInCidr: {
      const auto v = valueOf(n.a, in);
      return v && n.cidr.matches(*v);
    }
    case Op::kMatches: {
      const auto v = valueOf(n.a, in);
      if (!v || v->size() > kMaxMatchBytes) return false;
      if (n.literal) {
        const std::string_view s = *n.literal;
        if (n.anchoredStart && n.anchoredEnd) return *v == s;
        if (n.anchoredStart) return v->substr(0, s.size()) == s;
        if (n.anchoredEnd) return v->size() >= s.size() && v->substr(v->size() - s.size()) == s;
        return v->find(s) != std::string_view::npos;
      }
      return std::regex_match(v->begin(), v->end(), n.pattern);
    }
  }
  return false;
}

}  // namespace

std::shared_ptr<const SelectionRule> SelectionRule::compile(std::string_view text,
                                                            RuleError* error) {
  RuleError scratch;
  RuleError* err = error ? error : &scratch;
  *err = RuleError{};
  if (text.size() > kMaxRuleBytes) {
    *err = RuleError{1, 1, "the rule is longer than " + std::to_string(kMaxRuleBytes) + " bytes"};
    return nullptr;
  }
  // Gravitee's form: {#expression}, the whole rule (Spring EL template syntax).
  std::string_view body = text;
  int line = 1, column = 1;
  std::size_t lead = 0;
  while (lead < text.size() &&
         (text[lead] == ' ' || text[lead] == '\t' || text[lead] == '\n' || text[lead] == '\r'))
    ++lead;
  std::size_t tail = text.size();
  while (tail > lead && (text[tail - 1] == ' ' || text[tail - 1] == '\t' ||
                         text[tail - 1] == '\n' || text[tail - 1] == '\r'))
    --tail;
  if (lead + 1 < tail && text[lead] == '{' && text[lead + 1] == '#') {
    if (text[tail - 1] != '}') {
      *err = RuleError{1, static_cast<int>(tail), "a rule that opens with {# must end with }"};
      for (std::size_t i = 0; i + 1 < tail; ++i)
        if (text[i] == '\n') ++err->line;
      return nullptr;
    }
    for (std::size_t i = 0; i < lead + 2; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    body = text.substr(lead + 2, tail - 1 - (lead + 2));
  }
  Parser parser(body, line, column);
  auto root = parser.parse(err);
  if (!root) {
    if (err->message.empty()) err->message = "the rule could not be read";
    return nullptr;
  }
  auto rule = std::shared_ptr<SelectionRule>(new SelectionRule());
  rule->text_ = std::string(text);
  rule->root_ = std::move(root);
  return rule;
}

bool SelectionRule::evaluate(const RuleInput& input) const { return eval(*root_, input); }

}  // namespace mgw::gateway
