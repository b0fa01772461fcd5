// Plan selection rules (issue 26 item 2; Gravitee's "additional selection rule"): a small
// expression language over the request and the verified key, safe by construction: no loops, no
// function calls, no assignment, bounded length, nesting and list size; compiled once at load,
// with errors that name the line and column. Gravitee's Spring EL form {#...} is accepted for the
// expressions the language has. Trusts nothing in the rule text (the definition's author) or the
// request (the client); evaluation never allocates on the success path beyond what regex needs.
//
//   rule    := or
//   or      := and (('||' | 'or') and)*
//   and     := not (('&&' | 'and') not)*
//   not     := ('!' | 'not') not | primary
//   primary := '(' or ')' | 'true' | 'false' | operand cmp
//   cmp     := ('==' | 'eq' | '!=' | 'ne') operand | 'in' '[' string (',' string)* ']'
//            | 'in' string (an IP address or CIDR list, "10.0.0.0/8, ::1") | 'matches' string
//   operand := string | 'null' | request.headers['name'] ([0])? | request.query['name'] ([0])?
//            | request.params['name'] ([0])? | request.remoteAddress | request.path
//            | request.method | key.claims['keytype' | 'sub' | 'iss' | 'application' | 'tier']
//
// Names may start with '#' (Spring EL's variables). Strings are '...' or "..." with \ escaping
// the quote and \ itself. A header or parameter that is absent is null: it equals only null,
// is in no list and matches no pattern.
//
// `matches` is std::regex (ECMAScript, search anywhere: anchor with ^ and $) with libstdc++'s
// polynomial executor (regex_constants::__polynomial: a breadth-first automaton, time linear in
// the input for a given pattern, no recursion per input character, back-references refused at
// load), run once over the value as [\s\S]*(?:pattern)[\s\S]* (a search that restarts at every
// position would be quadratic), a pattern of at most kMaxPatternBytes and values of at most
// kMaxMatchBytes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/principal.h"
#include "message/http_message.h"

namespace mgw::gateway {

inline constexpr std::size_t kMaxRuleBytes = 4096;
inline constexpr std::size_t kMaxPatternBytes = 256;
// A value longer than this matches no pattern (matching is linear in the value; the client's
// input is bounded too).
inline constexpr std::size_t kMaxMatchBytes = 4096;
inline constexpr int kMaxRuleDepth = 32;
inline constexpr std::size_t kMaxRuleListItems = 64;

struct RuleError {
  int line = 1;    // 1-based, within the rule text
  int column = 1;  // 1-based, in bytes
  std::string message;
  std::string text() const;  // "line L, column C: message"
};

// What a rule reads of one request.
struct RuleInput {
  const message::HttpRequest& request;
  std::string_view remoteAddress;        // the client, as trustedProxies resolve it
  const Principal* principal = nullptr;  // the verified caller; null: key.claims are null
};

class SelectionRule {
 public:
  // The compiled rule, or nullptr with *error set.
  static std::shared_ptr<const SelectionRule> compile(std::string_view text, RuleError* error);

  [[nodiscard]] bool evaluate(const RuleInput& input) const;
  const std::string& text() const { return text_; }  // as written, for logs

  struct Node;
  ~SelectionRule();

 private:
  SelectionRule() = default;
  std::string text_;
  std::unique_ptr<Node> root_;
};

}  // namespace mgw::gateway
