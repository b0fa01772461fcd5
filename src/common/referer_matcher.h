// Referrer allow-lists (a key's permittedReferer), in the three forms WSO2 API Manager documents.
// Trusts nothing: patterns are parsed when the list is built; the Referer header is client input.
//
// Rules (exact):
//  - A pattern is [scheme://]host[:port][/path]. A scheme in the pattern is ignored; the Referer's
//    scheme ("http://", "https://", any RFC 3986 scheme) is stripped before comparing, and so are
//    its query and fragment. A Referer with userinfo ("user@host") never matches.
//  - Host: compared case-insensitively. "*.example.com" matches one or more labels in front of
//    ".example.com" ("a.example.com", "a.b.example.com"), never "example.com" itself nor
//    "evilexample.com". '*' is allowed in the host only as that whole left-most label.
//  - Port: a pattern without a port matches only a Referer without one (the default ports :80 for
//    http and :443 for https are dropped from the Referer first); a pattern with a port needs it.
//  - Path: compared case-sensitively. "host/path" matches exactly "/path"; "host/docs/*" matches
//  any
//    path starting with "/docs/" ('*' may span '/'); "host/*" any path, including none. '*' is
//    allowed in the path only as its last character. A pattern with no path matches "" or "/".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw {

class RefererMatcher {
 public:
  RefererMatcher() = default;  // empty: matches nothing

  // Comma-separated patterns, spaces around them ignored. An empty list gives an empty matcher; an
  // empty entry or a misplaced '*' is an error naming the entry.
  static std::optional<RefererMatcher> parse(std::string_view list, std::string* error);
  bool add(std::string_view pattern, std::string* error);

  [[nodiscard]] bool matches(std::string_view referer) const;
  bool empty() const { return patterns_.empty(); }

 private:
  struct Pattern {
    bool anySubdomain = false;  // "*.example.com": host holds ".example.com"
    std::string host;           // lower case, with ":port" when given
    bool pathPrefix = false;    // path ended in '*': path holds the part before it
    std::string path;
  };
  std::vector<Pattern> patterns_;
};

}  // namespace mgw
