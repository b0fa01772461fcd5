#include "validation/pattern_dfa.h"

#include <algorithm>
#include <bitset>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/regex_bounds.h"

namespace mgw::validation {
namespace {

constexpr int kFirst = 0x20, kLast = 0x7e, kAlphabet = kLast - kFirst + 1;  // printable ASCII
using CharSet = std::bitset<kAlphabet>;

constexpr std::size_t kInfinite = static_cast<std::size_t>(-1);

struct Refused {
  std::string why;
};

// The pattern as a tree: sets of characters, sequences, alternatives, repetitions.
struct Node {
  enum Kind { kSet, kSequence, kAlternatives, kRepeat };
  explicit Node(Kind k) : kind(k) {}
  Kind kind;
  CharSet set;                   // kSet
  std::vector<Node> children;    // kSequence, kAlternatives; kRepeat: one
  std::size_t min = 0, max = 0;  // kRepeat (max may be kInfinite)
};

// The printable characters from lo to hi (none for a control character such as \n: never in a
// printable text).
CharSet span(int lo, int hi) {
  CharSet set;
  for (int k = std::max(lo, kFirst); k <= std::min(hi, kLast); ++k)
    set.set(static_cast<std::size_t>(k - kFirst));
  return set;
}

Node single(int c) {
  Node n{Node::kSet};
  n.set = span(c, c);
  return n;
}

// ECMAScript's grammar, restricted to the dialect of the header; anything else is Refused.
class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  Node parse() {
    Node n = alternatives(0);
    if (more()) fail("an unbalanced ')'");
    return n;
  }

 private:
  [[noreturn]] static void fail(std::string why) { throw Refused{std::move(why)}; }
  bool more() const { return i_ < p_.size(); }
  char peek() const { return p_[i_]; }
  static bool isQuantifier(char c) { return c == '?' || c == '*' || c == '+' || c == '{'; }

  Node alternatives(int depth) {
    if (static_cast<std::size_t>(depth) > kMaxRegexNesting)
      fail("groups nested more than " + std::to_string(kMaxRegexNesting) + " deep");
    Node alt{Node::kAlternatives};
    alt.children.push_back(sequence(depth));
    while (more() && peek() == '|') {
      ++i_;
      alt.children.push_back(sequence(depth));
    }
    if (alt.children.size() == 1) return std::move(alt.children.front());
    return alt;
  }

  Node sequence(int depth) {
    Node seq{Node::kSequence};
    while (more() && peek() != '|' && peek() != ')') {
      Node a = atom(depth);
      if (more() && isQuantifier(peek())) {
        Node r{Node::kRepeat};
        quantifier(&r.min, &r.max);
        r.children.push_back(std::move(a));
        a = std::move(r);
        if (more() && isQuantifier(peek())) fail("a quantifier on a quantifier");
      }
      seq.children.push_back(std::move(a));
    }
    if (seq.children.empty()) fail("an empty group or alternative");
    if (seq.children.size() == 1) return std::move(seq.children.front());
    return seq;
  }

  void quantifier(std::size_t* min, std::size_t* max) {
    const char c = p_[i_++];
    if (c != '{') {
      *min = c == '+' ? 1 : 0;
      *max = c == '?' ? 1 : kInfinite;
      return;
    }
    *min = *max = count();
    if (more() && peek() == ',') {
      ++i_;
      *max = more() && peek() == '}' ? kInfinite : count();
    }
    if (!more() || peek() != '}') fail("a '{' that is not {n}, {n,} or {n,m}");
    ++i_;
    if (*max == 0 || *max < *min) fail("a count range that is empty or reversed");
  }

  std::size_t count() {
    std::size_t n = 0, digits = 0;
    for (; more() && peek() >= '0' && peek() <= '9'; ++i_) {
      n = n * 10 + static_cast<std::size_t>(peek() - '0');
      if (++digits > 4 || n > kMaxRegexRepeat)
        fail("a count over " + std::to_string(kMaxRegexRepeat));
    }
    if (digits == 0) fail("a '{' that is not {n}, {n,} or {n,m}");
    return n;
  }

  // The characters an escape stands for: a special character itself, a control character (none
  // printable), or a class: \d, \w, \s (of which printable ASCII holds only the space) and their
  // negations, as std::regex reads them in the "C" locale.
  CharSet escaped(bool inClass) {
    if (!more()) fail("a '\\' at the end");
    const char c = p_[i_++];
    if (std::string_view("^$|()?*+.[]{}\\").find(c) != std::string_view::npos)  // not NUL
      return span(c, c);
    switch (c) {
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
        return CharSet();
      case 'b':
        if (inClass) return CharSet();  // a backspace; outside a class, a word boundary
        break;
      case 'd':
        return span('0', '9');
      case 'D':
        return ~span('0', '9');
      case 'w':
      case 'W': {
        const CharSet word = span('0', '9') | span('A', 'Z') | span('a', 'z') | span('_', '_');
        return c == 'w' ? word : ~word;
      }
      case 's':
        return span(' ', ' ');
      case 'S':
        return ~span(' ', ' ');
      default:
        break;
    }
    fail("an escape other than of a special character or \\d, \\w, \\s");
  }

  Node atom(int depth) {
    const char c = p_[i_++];
    switch (c) {
      case '(': {
        if (more() && peek() == '?') fail("a (? group");
        Node inner = alternatives(depth + 1);
        if (!more() || peek() != ')') fail("an unbalanced '('");
        ++i_;
        return inner;
      }
      case '[':
        return characterClass();
      case '.': {
        Node any{Node::kSet};
        any.set.set();  // every printable character: no line terminator among them
        return any;
      }
      case '\\': {
        Node n(Node::kSet);
        n.set = escaped(false);
        return n;
      }
      case '^':
      case '$':
        fail("an anchor other than '^' first or '$' last");
      case '?':
      case '*':
      case '+':
      case '{':
        fail("a quantifier on nothing");
      case '}':
      case ']':
        fail("a lone '}' or ']'");
      default:
        if (c < kFirst || c > kLast) fail("a character outside printable ASCII");
        return single(c);
    }
  }

  Node characterClass() {
    const bool negated = more() && peek() == '^';
    if (negated) ++i_;
    CharSet set;
    for (bool first = true;; first = false) {
      if (!more()) fail("an unterminated class");
      const char c = p_[i_++];
      if (c == ']') {
        if (first) fail("an empty class");  // [] and [^]: ECMAScript's, not other dialects'
        break;
      }
      // a range: a plain character, '-', a plain character not below it (not before ']')
      auto range = [&] {
        return more() && peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']';
      };
      if (c == '\\') {
        set |= escaped(true);
        if (range()) fail("a class range that starts with an escape");
        continue;
      }
      if (c == '[') fail("a '[' inside a class");
      if (c < kFirst || c > kLast) fail("a character outside printable ASCII");
      char hi = c;
      if (range()) {
        hi = p_[i_ + 1];
        if (hi == '\\' || hi == '[' || hi < c || hi > kLast)
          fail("a class range other than of two plain characters in order");
        i_ += 2;
      }
      set |= span(c, hi);
    }
    Node n{Node::kSet};
    n.set = negated ? ~set : set;
    return n;
  }

  std::string_view p_;
  std::size_t i_ = 0;
};

// Thompson's construction: a state has one edge on a set of characters, or empty edges.
struct Nfa {
  struct State {
    CharSet set;
    int to = -1;  // the edge on `set`; -1: none
    std::vector<int> empty;
  };
  std::vector<State> states;

  int add() {
    if (states.size() >= PatternDfa::kMaxNfaStates) throw Refused{"too large an automaton"};
    states.emplace_back();
    return static_cast<int>(states.size()) - 1;
  }
  void link(int from, int to) { states[static_cast<std::size_t>(from)].empty.push_back(to); }

  // The fragment of n: its first state and its last one (which has no edge yet).
  std::pair<int, int> build(const Node& n) {
    switch (n.kind) {
      case Node::kSet: {
        const int s = add(), e = add();
        states[static_cast<std::size_t>(s)].set = n.set;
        states[static_cast<std::size_t>(s)].to = e;
        return {s, e};
      }
      case Node::kSequence: {
        auto [s, e] = build(n.children.front());
        for (std::size_t i = 1; i < n.children.size(); ++i) {
          auto [cs, ce] = build(n.children[i]);
          link(e, cs);
          e = ce;
        }
        return {s, e};
      }
      case Node::kAlternatives: {
        const int s = add(), e = add();
        for (const Node& child : n.children) {
          auto [cs, ce] = build(child);
          link(s, cs);
          link(ce, e);
        }
        return {s, e};
      }
      case Node::kRepeat: {
        const Node& child = n.children.front();
        const int s = add();
        int e = s;
        for (std::size_t k = 0; k < n.min; ++k) {
          auto [cs, ce] = build(child);
          link(e, cs);
          e = ce;
        }
        const int out = add();
        if (n.max == kInfinite) {
          auto [cs, ce] = build(child);
          const int loop = add();
          link(e, loop);
          link(loop, cs);
          link(ce, loop);
          link(loop, out);
        } else {
          for (std::size_t k = n.min; k < n.max; ++k) {
            auto [cs, ce] = build(child);
            link(e, cs);
            link(e, out);
            e = ce;
          }
          link(e, out);
        }
        return {s, out};
      }
    }
    return {-1, -1};
  }
};

}  // namespace

std::optional<PatternDfa> PatternDfa::compile(std::string_view pattern, std::string* why,
                                              std::size_t* budget) {
  const std::size_t allowed = budget ? std::min(*budget, kMaxSteps) : kMaxSteps;
  std::size_t steps = 0;
  struct Charge {  // what was taken comes off the budget however compile() ends
    std::size_t* budget;
    const std::size_t& steps;
    ~Charge() {
      if (budget) *budget -= std::min(*budget, steps);
    }
  } charge{budget, steps};
  try {
    // '^' first and '$' last are the anchors; a '$' after an odd run of '\' is a character.
    const bool anchoredBegin = !pattern.empty() && pattern.front() == '^';
    if (anchoredBegin) pattern.remove_prefix(1);
    std::size_t slashes = 0;
    while (slashes + 1 < pattern.size() && pattern[pattern.size() - 2 - slashes] == '\\') ++slashes;
    const bool anchoredEnd = !pattern.empty() && pattern.back() == '$' && slashes % 2 == 0;
    if (anchoredEnd) pattern.remove_suffix(1);
    if (pattern.empty()) throw Refused{"an empty pattern"};
    const Node tree = Parser(pattern).parse();
    // "^a|b$" is (^a)|(b$) in ECMAScript, not ^(a|b)$
    if ((anchoredBegin || anchoredEnd) && tree.kind == Node::kAlternatives)
      throw Refused{"an anchor next to a top-level '|'"};

    Nfa nfa;
    const auto [start, accept] = nfa.build(tree);

    PatternDfa dfa;
    dfa.anchoredEnd_ = anchoredEnd;
    // Classes of characters no edge tells apart: split by every edge's set in turn.
    std::uint8_t cls[kAlphabet] = {};
    std::size_t classes = 1;
    for (const auto& st : nfa.states) {
      if (st.to < 0) continue;
      std::map<std::pair<std::uint8_t, bool>, std::uint8_t> split;
      for (int c = 0; c < kAlphabet; ++c) {
        const auto key =
            std::make_pair(cls[c], static_cast<bool>(st.set[static_cast<std::size_t>(c)]));
        auto it = split.emplace(key, static_cast<std::uint8_t>(split.size())).first;
        cls[c] = it->second;
      }
      classes = split.size();
    }
    std::vector<int> representative(classes, -1);
    std::fill(std::begin(dfa.classOf_), std::end(dfa.classOf_), 0xff);
    for (int c = 0; c < kAlphabet; ++c) {
      if (representative[cls[c]] < 0) representative[cls[c]] = c;
      dfa.classOf_[kFirst + c] = cls[c];
    }
    dfa.classes_ = classes;

    // Subset construction. Without '^' the start is added at every position (a search).
    std::vector<std::size_t> seen(nfa.states.size());  // the closure that last reached a state
    std::size_t closures = 0;
    auto closure = [&](std::vector<int> from) {
      ++closures;
      std::vector<int> out;
      while (!from.empty()) {
        const int s = from.back();
        from.pop_back();
        if (seen[static_cast<std::size_t>(s)] == closures) continue;
        seen[static_cast<std::size_t>(s)] = closures;
        if (++steps > allowed) throw Refused{"too large an automaton"};
        out.push_back(s);
        for (int t : nfa.states[static_cast<std::size_t>(s)].empty) from.push_back(t);
      }
      std::sort(out.begin(), out.end());
      return out;
    };
    const std::vector<int> startSet = closure({start});
    struct SetHash {
      std::size_t operator()(const std::vector<int>& set) const {
        std::size_t h = 1469598103934665603ull;  // FNV-1a over the state numbers
        for (int s : set) h = (h ^ static_cast<std::size_t>(s)) * 1099511628211ull;
        return h;
      }
    };
    std::unordered_map<std::vector<int>, std::uint16_t, SetHash> ids;
    std::vector<std::vector<int>> sets;
    auto idOf = [&](std::vector<int> set) -> std::uint16_t {
      if (set.empty()) return kDead;
      steps += set.size();  // the lookup compares sets
      auto it = ids.find(set);
      if (it != ids.end()) return it->second;
      if (sets.size() >= kMaxDfaStates) throw Refused{"too large an automaton"};
      const auto id = static_cast<std::uint16_t>(sets.size());
      ids.emplace(set, id);
      sets.push_back(std::move(set));
      return id;
    };
    idOf(startSet);
    for (std::size_t d = 0; d < sets.size(); ++d) {
      dfa.accepting_.push_back(std::binary_search(sets[d].begin(), sets[d].end(), accept));
      for (std::size_t k = 0; k < classes; ++k) {
        std::vector<int> moved;
        for (int s : sets[d]) {
          const auto& st = nfa.states[static_cast<std::size_t>(s)];
          if (st.to >= 0 && st.set[static_cast<std::size_t>(representative[k])])
            moved.push_back(st.to);
        }
        if (!anchoredBegin) moved.insert(moved.end(), startSet.begin(), startSet.end());
        steps += moved.size();
        dfa.next_.push_back(idOf(closure(std::move(moved))));
      }
    }
    return dfa;
  } catch (const Refused& r) {
    if (why) *why = r.why;
    return std::nullopt;
  }
}

std::optional<bool> PatternDfa::search(std::string_view text) const {
  bool found = !anchoredEnd_ && accepting_[0];
  std::uint16_t s = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const std::uint8_t k = c < 128 ? classOf_[c] : 0xff;
    if (k == 0xff) return std::nullopt;
    if (found || s == kDead) continue;
    s = next_[s * classes_ + k];
    if (s != kDead && !anchoredEnd_ && accepting_[s]) found = true;
  }
  return found || (anchoredEnd_ && s != kDead && accepting_[s]);
}

}  // namespace mgw::validation
