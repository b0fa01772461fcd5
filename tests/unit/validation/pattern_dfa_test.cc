#include "validation/pattern_dfa.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <regex>
#include <string>

namespace mgw::validation {
namespace {

// How the schema's patterns are compiled for valijson (schema.cc's kPatternFlags): the answer the
// DFA must give.
bool regexSearch(const std::string& pattern, const std::string& text) {
  const std::regex re(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
  return std::regex_search(text, re);
}

TEST(PatternDfa, AnswersAsStdRegexOnKnownPatterns) {
  struct Case {
    const char* pattern;
    std::vector<std::string> texts;
  };
  const Case cases[] = {
      {"^[A-Z]{3}-[0-9]{4}$", {"ABC-1234", "ABC-123", "xABC-1234", "ABC-12345", "abc-1234", ""}},
      {"ab", {"ab", "xaby", "a b", "", "ba"}},
      {"^ab", {"abx", "xab", "a"}},
      {"ab$", {"xab", "abx", "ab"}},
      {"^(ab|cd)+x?$", {"ab", "abcdx", "abx x", "x", "cdcd"}},
      {"^[^ ]+@[a-z.]+$", {"me@x.org", "me @x.org", "@x", "me@X"}},
      {"a.c", {"abc", "a c", "ac", "a~c"}},
      {"^a{2,3}$", {"a", "aa", "aaa", "aaaa"}},
      {"^a{2,}b$", {"ab", "aab", "aaaaab"}},
      {"^\\$\\.\\[\\]\\{\\}\\(\\)\\*\\+\\?\\|\\^\\\\$", {"$.[]{}()*+?|^\\", "$.[]{}()*+?|^"}},
      {"^[a-]$", {"a", "-", "b"}},
      {"^[-a]$", {"a", "-", "b"}},
      {"^[a-c-e]$", {"a", "b", "-", "d", "e"}},
      {"^[\\]\\\\]$", {"]", "\\", "["}},
      {"^[ -~]*$", {" hello ~", ""}},
      {"x\\$", {"x$", "x"}},
      {"^a?b*c+$", {"c", "abbc", "ac", "ab", "bbcc"}},
      {"^(a|b)(c|d)$", {"ac", "bd", "ab", "cd"}},
      {"^((ab)*c){2}$", {"cc", "abcababc", "abc"}},
      {"^\\d{3}$", {"123", "12a", "1234", " 12"}},
      {"^\\w+\\s\\W\\S\\D$", {"a_9 !xz", "a_9 !x9", "a 9!xz", "A  !!a"}},
      {"^[\\d.]+$", {"1.5", "1,5", "..."}},
      {"^[^\\s\\d]*$", {"abc", "a c", "a1", ""}},
      {"(a*)*b", {"aab", "a", "b"}},
  };
  for (const Case& c : cases) {
    std::string why;
    const auto dfa = PatternDfa::compile(c.pattern, &why);
    ASSERT_TRUE(dfa) << c.pattern << ": " << why;
    for (const std::string& text : c.texts) {
      const auto answer = dfa->search(text);
      ASSERT_TRUE(answer.has_value()) << c.pattern << " on " << text;
      EXPECT_EQ(*answer, regexSearch(c.pattern, text)) << c.pattern << " on '" << text << "'";
    }
  }
}

TEST(PatternDfa, GivesUpOutsideItsDialectWithTheReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"^\\bx$", "an escape other than of a special character or \\d, \\w, \\s"},
      {"^\\x41$", "an escape other than of a special character or \\d, \\w, \\s"},
      {"^[\\d-z]$", "a class range that starts with an escape"},
      {"a|", "an empty group or alternative"},
      {"(?:a)", "a (? group"},
      {"[]", "an empty class"},
      {"[^]", "an empty class"},
      {"^a|b$", "an anchor next to a top-level '|'"},
      {"a**", "a quantifier on a quantifier"},
      {"a*?", "a quantifier on a quantifier"},
      {"*a", "a quantifier on nothing"},
      {"a^b", "an anchor other than '^' first or '$' last"},
      {"a{1001}", "a count over 1000"},
      {"a{3,2}", "a count range that is empty or reversed"},
      {"a{,2}", "a '{' that is not {n}, {n,} or {n,m}"},
      {"(a", "an unbalanced '('"},
      {"a)", "an unbalanced ')'"},
      {"[\\.-z]", "a class range that starts with an escape"},
      {"[z-a]", "a class range other than of two plain characters in order"},
      {"[a", "an unterminated class"},
      {"a\tb", "a character outside printable ASCII"},
      {"[a-z]{1,1000}", "too large an automaton"},
      {"", "an empty pattern"},
  };
  for (const auto& [pattern, reason] : cases) {
    std::string why;
    EXPECT_FALSE(PatternDfa::compile(pattern, &why)) << pattern;
    EXPECT_EQ(why, reason) << pattern;
  }
  // an escaped NUL (fuzz_pattern_dfa: strchr found the NUL at the end of the special characters)
  std::string why;
  EXPECT_FALSE(PatternDfa::compile(std::string("a\\\0", 3), &why));
  EXPECT_EQ(why, "an escape other than of a special character or \\d, \\w, \\s");
}

// A budget shared by a schema's patterns: what each takes comes off it, and a pattern that
// needs more than is left gets no automaton.
TEST(PatternDfa, ABudgetIsSharedAndCharged) {
  std::size_t budget = 500'000;
  ASSERT_TRUE(PatternDfa::compile("^[A-Z]{3}-[0-9]{4}$", nullptr, &budget));
  EXPECT_LT(budget, 500'000u);
  EXPECT_GT(budget, 490'000u);
  std::string why;
  EXPECT_FALSE(PatternDfa::compile("[a-z]{1,500}", &why, &budget));  // needs 640,000
  EXPECT_EQ(why, "too large an automaton");
  EXPECT_EQ(budget, 0u);  // it took what was left
  EXPECT_FALSE(PatternDfa::compile("a", &why, &budget));
  ASSERT_TRUE(PatternDfa::compile("[a-z]{1,500}"));  // alone, within its own bound
}

TEST(PatternDfa, NoAnswerOnATextOutsidePrintableAscii) {
  const auto dfa = PatternDfa::compile("a");
  ASSERT_TRUE(dfa);
  EXPECT_FALSE(dfa->search("a\xc3\xa9").has_value());  // even after a match
  EXPECT_FALSE(dfa->search("\n").has_value());
  EXPECT_FALSE(dfa->search(std::string("a\0", 2)).has_value());
  EXPECT_EQ(dfa->search("ba"), std::optional<bool>(true));
}

// Random patterns of the dialect and a little beyond, random short texts: wherever the DFA
// compiles, it answers as std::regex_search. MGW_DFA_RANDOM_PATTERNS=N for a longer run.
struct PatternGen {
  std::mt19937 rng{20261207};
  int pick(int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

  std::string atom(int depth) {
    switch (pick(depth > 0 ? 9 : 6)) {
      case 0:
      case 1: {
        static const char* const kChars[] = {"a",   "b", "c",   "-",   " ",   "x", "\\.",
                                             "\\$", "]", "\\d", "\\W", "\\s", "1", "_"};
        return kChars[pick(14)];
      }
      case 2:
        return ".";
      case 3:
      case 4: {
        std::string c = pick(3) == 0 ? "[^" : "[";
        for (int i = 0, n = 1 + pick(3); i < n; ++i) {
          static const char* const kItems[] = {"a",   "b-c", "-", "x",    " ",   "\\]", "a-z",
                                               "\\.", "c-a", "^", "\\\\", "\\w", "\\S", "0-9"};
          c += kItems[pick(14)];
        }
        return c + "]";
      }
      case 5:
        return pick(8) == 0 ? "\\b" : "b";
      default: {
        std::string g = "(" + sequence(depth - 1);
        while (pick(3) == 0) g += "|" + sequence(depth - 1);
        return g + ")";
      }
    }
  }

  std::string quantified(int depth) {
    std::string a = atom(depth);
    switch (pick(10)) {
      case 0:
        return a + "?";
      case 1:
        return a + "*";
      case 2:
        return a + "+";
      case 3:
        return a + "{" + std::to_string(pick(3)) + "}";
      case 4:
        return a + "{" + std::to_string(pick(3)) + ",}";
      case 5:
        return a + "{" + std::to_string(pick(2)) + "," + std::to_string(1 + pick(3)) + "}";
      default:
        return a;
    }
  }

  std::string sequence(int depth) {
    std::string s;
    for (int i = 0, n = 1 + pick(3); i < n; ++i) s += quantified(depth);
    return s;
  }

  std::string pattern() {
    std::string p = sequence(2);
    while (pick(4) == 0) p += "|" + sequence(2);
    if (pick(2) == 0) p = "^" + p;
    if (pick(2) == 0) p += "$";
    return p;
  }

  std::string text() {
    static const char kChars[] = "abcx- .]$\\z1_9A!";
    std::string t;
    for (int i = 0, n = pick(9); i < n; ++i) t += kChars[pick(static_cast<int>(sizeof kChars) - 1)];
    return t;
  }
};

TEST(PatternDfa, RandomPatternsAnswerAsStdRegex) {
  PatternGen gen;
  const char* many = std::getenv("MGW_DFA_RANDOM_PATTERNS");
  const int patterns = many ? std::atoi(many) : 4000;
  int compiled = 0, regexRefused = 0, matched = 0, unmatched = 0, defects = 0;
  for (int i = 0; i < patterns; ++i) {
    const std::string p = gen.pattern();
    const auto dfa = PatternDfa::compile(p);
    if (!dfa) continue;
    std::regex re;
    try {
      re = std::regex(p, std::regex::ECMAScript | std::regex_constants::__polynomial);
    } catch (const std::regex_error&) {
      ++regexRefused;  // a load error in a schema: never reaches a DFA (schema.cc)
      continue;
    }
    ++compiled;
    for (int j = 0; j < 25; ++j) {
      const std::string t = gen.text();
      const bool expected = std::regex_search(t, re);
      const auto answer = dfa->search(t);
      (expected ? matched : unmatched)++;
      if (answer != std::optional<bool>(expected) && ++defects <= 10)
        ADD_FAILURE() << "'" << p << "' on '" << t << "': std::regex " << expected << ", DFA "
                      << (answer ? std::to_string(*answer) : "none");
    }
  }
  std::cout << "random: " << compiled << " patterns compiled (" << regexRefused
            << " std::regex refuses), " << matched << " texts matched, " << unmatched << " not\n";
  EXPECT_EQ(defects, 0);
  EXPECT_GT(compiled, patterns / 4);
  EXPECT_GT(matched, 5000);
  EXPECT_GT(unmatched, 5000);
}

}  // namespace
}  // namespace mgw::validation
