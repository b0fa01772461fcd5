// Small text helpers shared by the parsers: whitespace trimming and comma-separated lists.
#pragma once

#include <string_view>

namespace mgw {

// Strips optional whitespace (SP and HTAB, RFC 9110 section 5.6.3) from both ends.
inline std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(entry) for each comma-separated entry of list (untrimmed, empty entries included);
// stops and returns false as soon as fn does.
template <typename Fn>
bool forEachListEntry(std::string_view list, Fn&& fn) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    if (!fn(list.substr(start,
                        comma == std::string_view::npos ? std::string_view::npos : comma - start)))
      return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

}  // namespace mgw
