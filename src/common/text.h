// Small text helpers shared by the parsers: whitespace trimming, comma-separated lists and ASCII
// case-insensitive comparison (header names, media types, auth schemes: never locale-dependent).
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

inline char toLowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// True when a and b are equal ignoring the case of ASCII letters (RFC 9110 field names, tokens).
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (toLowerAscii(a[i]) != toLowerAscii(b[i])) return false;
  return true;
}

}  // namespace mgw
