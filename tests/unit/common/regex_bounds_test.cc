#include "common/regex_bounds.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace mgw {
namespace {

TEST(RegexBounds, PatternsDefinitionsUseAreAccepted) {
  for (const char* p : {"^[a-z]{1,64}$", "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                        "^(?:[a-z0-9-]{1,63}\\.){1,10}[a-z]{2,63}$", "^/v2/", "a+b*c?",
                        "(\\w+)\\s\\1", "[]a]{3}", "x{2,}", "\\d{1000}", ""})
    EXPECT_EQ(regexTooLarge(p), std::nullopt) << p;
}

// libstdc++ parses these counts into an int without an overflow check (UBSan: signed overflow in
// _Compiler::_M_cur_int_value; fuzz_selection_rule found the back-reference form).
TEST(RegexBounds, CountsPastTheBoundAreRefusedBeforeStdRegexReadsThem) {
  EXPECT_NE(regexTooLarge("a{99999999999}"), std::nullopt);
  EXPECT_NE(regexTooLarge("a{1,99999999999999999999}"), std::nullopt);
  EXPECT_NE(regexTooLarge("a{1001}"), std::nullopt);
  EXPECT_NE(regexTooLarge("(a)\\99999999999999"), std::nullopt);
  // Without the closing brace std::regex still reads the count before it refuses the pattern
  // (fuzz_selection_rule, this session's campaign: "(akey.9980{2222...2999999990").
  EXPECT_NE(regexTooLarge("a{99999999999"), std::nullopt);
  EXPECT_NE(regexTooLarge("a{1,99999999999999999999"), std::nullopt);
  EXPECT_NE(regexTooLarge("(akey.9980{2222222222222222222222222299999990"), std::nullopt);
  // In ECMAScript "[]" is an empty class: a count after it is a count (fuzz_selection_rule).
  EXPECT_NE(regexTooLarge("[]{99999999999}"), std::nullopt);
  EXPECT_NE(regexTooLarge("x[^]{95555111111111111111111}"), std::nullopt);
  EXPECT_EQ(regexTooLarge("a{12"), std::nullopt) << "a short count: std::regex refuses it itself";
  EXPECT_EQ(regexTooLarge("\\\\99999999999"), std::nullopt)
      << "an escaped backslash, then literal digits: no back-reference";
}

// Repetitions multiply: each would take seconds and hundreds of MiB to compile.
TEST(RegexBounds, NestedRepetitionsAreRefusedByTheirProduct) {
  EXPECT_NE(regexTooLarge("(a{200}){200}"), std::nullopt);
  EXPECT_NE(regexTooLarge("((a{999}){999}){999}"), std::nullopt);
  EXPECT_NE(regexTooLarge("(?:(?:[a-z]{100})+){100}"), std::nullopt);
  EXPECT_EQ(regexTooLarge("(a{20}){20}"), std::nullopt);
  // A count stacked on a quantifier copies all of it, as a group's count does (fuzz_schema: over
  // a second per 17-byte string in the breadth-first executor); stacked stars copy nothing.
  EXPECT_NE(regexTooLarge("^[!-z]*****{94}****{94}00.000006tttttt*/**e"), std::nullopt);
  EXPECT_NE(regexTooLarge("a{200}{200}"), std::nullopt);
  EXPECT_NE(regexTooLarge("a+{100}{100}"), std::nullopt);
  EXPECT_EQ(regexTooLarge("a{20}{20}"), std::nullopt);
  EXPECT_EQ(regexTooLarge("^[!-z]" + std::string(200, '*') + "$"), std::nullopt);
  const auto why = regexTooLarge("(a{200}){200}");
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("automaton states"), std::string::npos) << *why;
}

// libstdc++'s compiler recurses per nested group (fuzz_schema: 4,520 nested "(" overflowed the
// stack under ASan before std::regex could refuse the unbalanced pattern).
TEST(RegexBounds, DeeplyNestedGroupsAreRefused) {
  EXPECT_EQ(
      regexTooLarge(std::string(kMaxRegexNesting, '(') + "a" + std::string(kMaxRegexNesting, ')')),
      std::nullopt);
  const std::string deeper = std::string(kMaxRegexNesting + 1, '(') + "a";
  const auto why = regexTooLarge(deeper);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("nested"), std::string::npos) << *why;
  EXPECT_NE(regexTooLarge("^(ite;" + std::string(4520, '(')), std::nullopt);
}

// What the bound accepts compiles in std::regex without trouble (the estimate is not too loose).
TEST(RegexBounds, TheLargestAcceptedPatternsCompile) {
  for (const char* p : {"a{1000}", "(a{90}){90}", "([a-z]{40}|[0-9]{40}){99}"}) {
    ASSERT_EQ(regexTooLarge(p), std::nullopt) << p;
    EXPECT_NO_THROW(std::regex(p, std::regex::ECMAScript)) << p;
  }
}

// Quantifiers applied to something that already repeats: the shapes a backtracking matcher may
// take exponential time on. Lazy forms, counted groups without an inner quantifier and
// alternations are not.
TEST(RegexBounds, NestedQuantifiersAreNamed) {
  for (const char* p :
       {"(a+)+", "(a*b)*", "^[a-z]**$", "a+*", "(?:x{2,})*", "((ab)+c)?", "a{2}{3}", "(a|b+)*"}) {
    const auto why = regexNestsQuantifiers(p);
    ASSERT_TRUE(why.has_value()) << p;
    EXPECT_NE(why->find("exponential"), std::string::npos) << *why;
  }
  for (const char* p : {"^[a-z]+$", "(ab)+", "(a|b)*", "a*?b+?", "a{2}?", "\\d+\\.\\d*", "[*+]+",
                        "\\(a+\\)+", "(?:ab){3}", "^x-[a-z0-9-]+$"}) {
    EXPECT_EQ(regexNestsQuantifiers(p), std::nullopt) << p;
  }
}

}  // namespace
}  // namespace mgw
