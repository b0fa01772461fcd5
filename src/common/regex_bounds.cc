#include "common/regex_bounds.h"

#include <algorithm>
#include <vector>

namespace mgw {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// A count of a {n,m} quantifier at s[*i]: its value, or nothing when it has no digit or exceeds
// kMaxRegexRepeat (the digits are consumed either way; *tooLarge says which).
std::optional<std::size_t> readCount(std::string_view s, std::size_t* i, bool* tooLarge) {
  const std::size_t start = *i;
  std::size_t value = 0;
  while (*i < s.size() && isDigit(s[*i])) {
    if (value <= kMaxRegexRepeat) value = value * 10 + static_cast<std::size_t>(s[*i] - '0');
    ++*i;
  }
  if (*i == start) return std::nullopt;
  if (value > kMaxRegexRepeat) *tooLarge = true;
  return value;
}

// One token of a pattern, as both checks below read it (ECMAScript syntax, as far as they need).
struct Token {
  enum Kind { kAtom, kBackReference, kOpen, kClose, kAlternation, kQuantifier } kind = kAtom;
  // kQuantifier: the repetition's bounds; braces for {n,m} (else *, + or ?), open for {n,}.
  bool braces = false;
  bool open = false;
  std::size_t low = 0;
  std::size_t high = 0;
  bool countTooLarge = false;  // a {n,m} count above kMaxRegexRepeat
  std::size_t digits = 0;      // kBackReference: how many digits its number has
};

// Calls f on each token of s in order until f returns false.
template <class F>
void forEachToken(std::string_view s, F&& f) {
  for (std::size_t i = 0; i < s.size();) {
    Token t;
    const char c = s[i];
    if (c == '\\') {
      ++i;
      if (i < s.size() && isDigit(s[i]) && s[i] != '0') {
        t.kind = Token::kBackReference;
        while (i < s.size() && isDigit(s[i])) ++i, ++t.digits;
      } else if (i < s.size()) {
        ++i;
      }
    } else if (c == '[') {
      ++i;
      if (i < s.size() && s[i] == '^') ++i;
      // ECMAScript, as libstdc++ reads it: a ']' closes the class even first ("[]" is an empty
      // class), so what follows it is read as a pattern (fuzz_selection_rule: "[]{9555...}" had
      // its count hidden in a class here while std::regex read it into a long).
      while (i < s.size() && s[i] != ']') i += s[i] == '\\' ? 2 : 1;
      ++i;
    } else if (c == '(') {
      ++i;
      if (i + 1 < s.size() && s[i] == '?' &&
          (s[i + 1] == ':' || s[i + 1] == '=' || s[i + 1] == '!'))
        i += 2;
      t.kind = Token::kOpen;
    } else if (c == ')') {
      ++i;
      t.kind = Token::kClose;
    } else if (c == '|') {
      ++i;
      t.kind = Token::kAlternation;
    } else if (c == '*' || c == '+' || c == '?') {
      ++i;
      t.kind = Token::kQuantifier;
      t.low = c == '+' ? 1 : 0;
      t.high = c == '?' ? 1 : 0;
      t.open = c != '?';
    } else if (c == '{') {
      std::size_t j = i + 1;
      const auto low = readCount(s, &j, &t.countTooLarge);
      std::optional<std::size_t> high = low;
      bool open = false;
      if (low && j < s.size() && s[j] == ',') {
        ++j;
        high = readCount(s, &j, &t.countTooLarge);
        open = !high;
      }
      if (low && j < s.size() && s[j] == '}') {
        i = j + 1;
        t.kind = Token::kQuantifier;
        t.braces = true;
        t.open = open;
        t.low = *low;
        t.high = high.value_or(0);
      } else {
        // Not a quantifier: std::regex refuses it, but reads its counts into an int first, so
        // countTooLarge stands (fuzz_selection_rule: "a{2222222222222222222" with no '}').
        ++i;
      }
    } else {
      ++i;
    }
    if (!f(t)) return;
  }
}

// A group being read: the states of its finished atoms and alternatives, and of its last atom
// (what a quantifier repeats).
struct Frame {
  std::size_t total = 0;
  std::size_t last = 0;
};

std::size_t saturatingMul(std::size_t a, std::size_t b) {
  if (a != 0 && b > (kMaxRegexStates + 1) / a + 1) return kMaxRegexStates + 1;
  return a * b;
}

}  // namespace

std::optional<std::string> regexTooLarge(std::string_view s) {
  std::vector<Frame> stack(1);
  std::optional<std::string> refusal;
  auto atom = [&](std::size_t states) {
    stack.back().total += states;
    stack.back().last = states;
  };
  // The last atom counted `times` times in all (it was counted once already), plus `extra`
  // states around it. The result is the last atom for what follows: libstdc++ reads a quantifier
  // stacked on another as applying to all of it ("a*{94}" is (a*){94}: 94 copies of a*;
  // fuzz_schema found "[!-z]*****{94}****{94}", 53,000 states estimated as 200 while this said
  // a quantifier after a quantifier repeats nothing: over a second per 17-byte string).
  auto repeat = [&](std::size_t times, std::size_t extra) {
    Frame& f = stack.back();
    const std::size_t whole = std::min(
        saturatingMul(f.last, std::max<std::size_t>(times, 1)) + extra, kMaxRegexStates + 1);
    f.total = std::min(f.total - f.last + whole, kMaxRegexStates + 1);  // total holds last once
    f.last = whole;
  };
  forEachToken(s, [&](const Token& t) {
    if (t.countTooLarge) {
      refusal = "a repetition count is above " + std::to_string(kMaxRegexRepeat) +
                " (write a shorter count, or check the length with minLength/maxLength)";
      return false;
    }
    switch (t.kind) {
      case Token::kBackReference:
        if (t.digits > 2) {
          refusal = "a back-reference number has more than two digits";
          return false;
        }
        atom(1);
        break;
      case Token::kAtom:
        atom(1);
        break;
      case Token::kOpen:
        if (stack.size() > kMaxRegexNesting) {
          refusal = "groups are nested more than " + std::to_string(kMaxRegexNesting) +
                    " deep (write the pattern with fewer nested parentheses)";
          return false;
        }
        stack.emplace_back();
        break;
      case Token::kClose:
        if (stack.size() > 1) {
          const std::size_t group = stack.back().total + 1;
          stack.pop_back();
          atom(group);
        }
        break;
      case Token::kAlternation:
        stack.back().last = 0;
        break;
      case Token::kQuantifier:
        if (!t.braces) {
          repeat(1, 2);  // *, +, ?: a loop or a skip around the atom, which is not copied
        } else {
          repeat(t.open ? t.low + 1 : std::max<std::size_t>(t.high, 1), 1);  // {n,m}: copies
        }
        break;
    }
    return stack.back().total <= kMaxRegexStates;
  });
  if (refusal) return refusal;
  std::size_t states = 0;
  for (const Frame& f : stack) states += f.total;
  if (states > kMaxRegexStates)
    return "the pattern's repetitions would compile to more than " +
           std::to_string(kMaxRegexStates) +
           " automaton states (nested or large {n,m} counts); use smaller counts";
  return std::nullopt;
}

std::optional<std::string> regexNestsQuantifiers(std::string_view s) {
  std::vector<bool> quantified(1, false);  // per open group: a quantifier inside it, at any depth
  bool lastRepeats = false;                // the last atom is a group holding a quantifier
  bool afterQuantifier = false;            // the previous token was a quantifier
  bool nested = false;
  forEachToken(s, [&](const Token& t) {
    if (t.kind == Token::kQuantifier) {
      if (!t.braces && t.low == 0 && t.high == 1 && afterQuantifier) {
        afterQuantifier = false;  // lazy: "a*?", "a+?", "a??", "a{2}?"
      } else if (lastRepeats || afterQuantifier) {
        nested = true;
        return false;
      } else {
        quantified.back() = true;
        afterQuantifier = true;
      }
      lastRepeats = false;
      return true;
    }
    afterQuantifier = false;
    lastRepeats = false;
    if (t.kind == Token::kOpen) {
      quantified.push_back(false);
    } else if (t.kind == Token::kClose && quantified.size() > 1) {
      lastRepeats = quantified.back();
      quantified.pop_back();
      if (lastRepeats) quantified.back() = true;
    }
    return true;
  });
  if (!nested) return std::nullopt;
  return std::string(
      "a quantifier applies to something that already repeats (as in (a+)+ or a**), which "
      "std::regex may match in exponential time; write the repetition once");
}

}  // namespace mgw
