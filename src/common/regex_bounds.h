// What a pattern may be before it reaches std::regex (libstdc++), for every place that compiles a
// pattern from configuration or a definition (selection rules, JSON Schema `pattern` and
// `patternProperties`).
//
// libstdc++ builds an automaton with one copy of an atom per repetition ("(a{999}){999}" is a
// million states: seconds and hundreds of MiB to compile, and on every use where the pattern is
// compiled per call), and reads counts and back-reference numbers into an int without an overflow
// check ("a{99999999999}", "\99999999999": undefined behaviour). A pattern is refused when:
//  - a repetition count is above kMaxRegexRepeat (its digits are not parsed past that), also
//    after a "{" that does not form a quantifier (std::regex reads the count before refusing it),
//  - a back-reference number has more than two digits,
//  - groups are nested more than kMaxRegexNesting deep (libstdc++'s compiler recurses four calls
//    per level: 4,520 nested "(" overflowed the stack under ASan, found by fuzz_schema),
//  - the automaton would have more than kMaxRegexStates states, estimated from the pattern's
//    structure (an atom under {n,m} counted max(n, m) times, nested groups and counts stacked on
//    a quantifier multiplied; *, + and ? add a state, as libstdc++ copies nothing for them).
// The estimate over-counts (a class or an escape is one state, like a character), never under.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mgw {

inline constexpr std::size_t kMaxRegexRepeat = 1000;
inline constexpr std::size_t kMaxRegexStates = 10000;
inline constexpr std::size_t kMaxRegexNesting = 64;

// Why pattern is refused, in words a definition's author can act on; nothing when it is fine.
// Says nothing about the syntax otherwise: std::regex still reports its own errors.
std::optional<std::string> regexTooLarge(std::string_view pattern);

// Why pattern may take exponential time in a backtracking matcher (libstdc++'s default
// executor), nothing when it cannot: a quantifier applied to something that already repeats,
// either a group holding a quantifier ("(a+)+", "(a*b)*") or a quantifier stacked on another
// ("a**", which libstdc++ reads as (a*)*); lazy forms ("a*?") are not stacked. Only for patterns
// that must run in the backtracking executor (valijson's patternProperties); the others run in
// the breadth-first one (regex_constants::__polynomial), where this does not matter.
std::optional<std::string> regexNestsQuantifiers(std::string_view pattern);

}  // namespace mgw
