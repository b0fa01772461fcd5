// A schema `pattern` as a deterministic automaton over printable ASCII, for the fast path of
// body validation (schema.cc): RapidJSON's regex simulates an NFA per character (about 2,000
// instructions for an 8-byte string), a DFA takes one table lookup per character.
//
// It takes a small dialect of ECMAScript and gives up on anything else (compile() says why, and
// the pattern stays where it was): characters, escapes of the special characters, '.', \d \w \s
// and their negations, classes of characters and ranges ([a-z], [^ ], [\d.]), groups, '|', the
// quantifiers ? * + {n} {n,} {n,m}, '^' first and '$' last. Its answer is std::regex_search's
// (ECMAScript, no flags) on every text of printable ASCII (0x20-0x7e); a text with any other byte
// gets no answer. Every construct of the dialect is a regular language, so the question "is there a
// match" does not depend on how an engine looks for one (greedy or not, backtracking or not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::validation {

class PatternDfa {
 public:
  // Bounds on the work of compile(): a pattern that needs more gets no DFA.
  static constexpr std::size_t kMaxNfaStates = 2048;
  static constexpr std::size_t kMaxDfaStates = 512;

  // Steps of the subset construction one compile() may take (NFA states visited and set sizes
  // compared: 20-30 ns each, measured; "[a-z]{1,500}" takes 640,000).
  static constexpr std::size_t kMaxSteps = 2'000'000;

  // The automaton of `pattern`, or nullopt with *why (outside the dialect, or over the bounds).
  // With `budget`: at most *budget steps, and what was taken is subtracted (a schema's patterns
  // share one budget, so a definition of many large patterns cannot make a load take minutes).
  static std::optional<PatternDfa> compile(std::string_view pattern, std::string* why = nullptr,
                                           std::size_t* budget = nullptr);

  // Whether std::regex_search(text, std::regex(pattern)) is true; nullopt when text holds a byte
  // outside printable ASCII.
  std::optional<bool> search(std::string_view text) const;

  std::size_t states() const { return accepting_.size(); }

 private:
  static constexpr std::uint16_t kDead = 0xffff;
  std::uint8_t classOf_[128] = {};   // a printable character's class; 0xff: not printable
  std::size_t classes_ = 0;          // characters that every NFA edge treats alike
  std::vector<std::uint16_t> next_;  // next_[state * classes_ + class]
  std::vector<std::uint8_t> accepting_;
  bool anchoredEnd_ = false;  // '$': a match must reach the end of the text
};

}  // namespace mgw::validation
