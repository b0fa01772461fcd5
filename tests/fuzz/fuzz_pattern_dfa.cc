// Fuzzes the fast path's pattern automaton (validation/pattern_dfa.h) against std::regex, as the
// schema's patterns are compiled for valijson (ECMAScript, libstdc++'s polynomial executor).
// Input: "<pattern>\n<text>\n<text>...". Wherever the automaton compiles a pattern std::regex
// also compiles, its answer on every printable-ASCII text must be std::regex_search's; a text with
// any other byte gets no answer. A pattern is at most 48 bytes (std::regex's own compile time).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <string>
#include <string_view>

#include "validation/pattern_dfa.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto end = input.find('\n');
  const std::string pattern(input.substr(0, end));
  if (pattern.size() > 48) return 0;
  std::string why;
  const auto dfa = mgw::validation::PatternDfa::compile(pattern, &why);
  if (!dfa) {
    if (why.empty()) std::abort();  // a refusal says why
    return 0;
  }
  if (dfa->states() == 0 || dfa->states() > mgw::validation::PatternDfa::kMaxDfaStates)
    std::abort();
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
  } catch (const std::regex_error&) {
    return 0;  // a load error in a schema: never reaches an automaton
  }
  input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  while (true) {
    const auto next = input.find('\n');
    const std::string text(input.substr(0, next).substr(0, 64));
    bool printable = true;
    for (const char c : text) printable = printable && c >= 0x20 && c <= 0x7e;
    const auto answer = dfa->search(text);
    if (!printable) {
      if (answer) std::abort();
    } else if (answer != std::optional<bool>(std::regex_search(text, re))) {
      std::abort();
    }
    if (next == std::string_view::npos) break;
    input.remove_prefix(next + 1);
  }
  return 0;
}
