#include "common/regex_bounds.h"

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
  auto atom = [&](std::size_t states) {
    stack.back().total += states;
    stack.back().last = states;
  };
  // The last atom counted `times` times in all (it was counted once already).
  auto repeat = [&](std::size_t times) {
    Frame& f = stack.back();
    const std::size_t extra = saturatingMul(f.last, times == 0 ? 0 : times - 1);
    f.total = f.total + extra > kMaxRegexStates ? kMaxRegexStates + 1 : f.total + extra;
    f.last = 0;  // a quantifier after a quantifier repeats nothing more
  };
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\') {
      ++i;
      if (i < s.size() && isDigit(s[i]) && s[i] != '0') {
        std::size_t digits = 0;
        while (i < s.size() && isDigit(s[i])) ++i, ++digits;
        if (digits > 2) return std::string("a back-reference number has more than two digits");
      } else if (i < s.size()) {
        ++i;
      }
      atom(1);
    } else if (c == '[') {
      ++i;
      if (i < s.size() && s[i] == '^') ++i;
      if (i < s.size() && s[i] == ']') ++i;  // a ']' first is a member
      while (i < s.size() && s[i] != ']') i += s[i] == '\\' ? 2 : 1;
      ++i;
      atom(1);
    } else if (c == '(') {
      ++i;
      if (i + 1 < s.size() && s[i] == '?' &&
          (s[i + 1] == ':' || s[i + 1] == '=' || s[i + 1] == '!'))
        i += 2;
      stack.emplace_back();
    } else if (c == ')') {
      ++i;
      if (stack.size() > 1) {
        const std::size_t group = stack.back().total + 1;
        stack.pop_back();
        atom(group);
      }
    } else if (c == '|') {
      ++i;
      stack.back().last = 0;
    } else if (c == '*' || c == '?') {
      ++i;
      repeat(2);  // the atom and a loop or a skip around it
    } else if (c == '+') {
      ++i;
      repeat(2);  // x+ is built as x followed by x*
    } else if (c == '{') {
      std::size_t j = i + 1;
      bool tooLarge = false;
      const auto low = readCount(s, &j, &tooLarge);
      std::optional<std::size_t> high = low;
      bool open = false;
      if (low && j < s.size() && s[j] == ',') {
        ++j;
        high = readCount(s, &j, &tooLarge);
        open = !high;
      }
      if (low && j < s.size() && s[j] == '}') {
        if (tooLarge)
          return "a repetition count is above " + std::to_string(kMaxRegexRepeat) +
                 " (write a shorter count, or check the length with minLength/maxLength)";
        i = j + 1;
        repeat(open ? *low + 1 : std::max<std::size_t>(*high, 1));
      } else {
        ++i;  // not a quantifier: std::regex decides what it is
        atom(1);
      }
    } else {
      ++i;
      atom(1);
    }
    if (stack.back().total > kMaxRegexStates) break;
  }
  std::size_t states = 0;
  for (const Frame& f : stack) states += f.total;
  if (states > kMaxRegexStates)
    return "the pattern's repetitions would compile to more than " +
           std::to_string(kMaxRegexStates) +
           " automaton states (nested or large {n,m} counts); use smaller counts";
  return std::nullopt;
}

std::optional<std::string> regexNestsQuantifiers(std::string_view s) {
  // Per open group: whether a quantifier appeared inside it (at any depth).
  std::vector<bool> quantified(1, false);
  bool lastRepeats = false;      // the last atom can match more than one way (a quantified group)
  bool afterQuantifier = false;  // the previous token was a quantifier
  const std::string refusal =
      "a quantifier applies to something that already repeats (as in (a+)+ or a**), which "
      "std::regex may match in exponential time; write the repetition once";
  auto quantifier = [&]() -> bool {  // true: refused
    if (lastRepeats || afterQuantifier) return true;
    quantified.back() = true;
    afterQuantifier = true;
    return false;
  };
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '*' || c == '+' || c == '?') {
      ++i;
      if (c == '?' && afterQuantifier) {  // lazy: "a*?", "a+?", "a??", "a{2}?"
        afterQuantifier = false;
        lastRepeats = false;
        continue;
      }
      if (quantifier()) return refusal;
      lastRepeats = false;
      continue;
    }
    if (c == '{') {
      std::size_t j = i + 1;
      bool tooLarge = false;
      const auto low = readCount(s, &j, &tooLarge);
      if (low && j < s.size() && s[j] == ',') {
        ++j;
        (void)readCount(s, &j, &tooLarge);
      }
      if (low && j < s.size() && s[j] == '}') {
        i = j + 1;
        if (quantifier()) return refusal;
        lastRepeats = false;
        continue;
      }
    }
    afterQuantifier = false;
    if (c == '\\') {
      i += 2;
      lastRepeats = false;
    } else if (c == '[') {
      ++i;
      if (i < s.size() && s[i] == '^') ++i;
      if (i < s.size() && s[i] == ']') ++i;
      while (i < s.size() && s[i] != ']') i += s[i] == '\\' ? 2 : 1;
      ++i;
      lastRepeats = false;
    } else if (c == '(') {
      ++i;
      if (i + 1 < s.size() && s[i] == '?' &&
          (s[i + 1] == ':' || s[i + 1] == '=' || s[i + 1] == '!'))
        i += 2;
      quantified.push_back(false);
      lastRepeats = false;
    } else if (c == ')') {
      ++i;
      bool inner = false;
      if (quantified.size() > 1) {
        inner = quantified.back();
        quantified.pop_back();
        if (inner) quantified.back() = true;
      }
      lastRepeats = inner;
    } else {
      ++i;
      lastRepeats = false;
    }
  }
  return std::nullopt;
}

}  // namespace mgw
