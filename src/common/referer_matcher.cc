#include "common/referer_matcher.h"

#include <cctype>

#include "common/text.h"

namespace mgw {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Strips "scheme://" (RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )) and
// returns the scheme in lower case, or "" when there is none.
std::string stripScheme(std::string_view* s) {
  auto pos = s->find("://");
  if (pos == std::string_view::npos || pos == 0) return "";
  std::string_view scheme = s->substr(0, pos);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return "";
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return "";
  }
  s->remove_prefix(pos + 3);
  return lower(scheme);
}

bool validHostChars(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    unsigned char u = static_cast<unsigned char>(c);
    // Names, IPv4, bracketed IPv6 and a port.
    if (!std::isalnum(u) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']' && c != '_')
      return false;
  }
  return true;
}

}  // namespace

bool RefererMatcher::add(std::string_view pattern, std::string* error) {
  std::string_view p = trimOws(pattern);
  auto fail = [&](const std::string& why) {
    if (error) *error = "'" + std::string(p) + "': " + why;
    return false;
  };
  if (p.empty()) return fail("empty entry");
  std::string_view rest = p;
  stripScheme(&rest);
  auto slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  Pattern out;
  if (host.size() >= 2 && host.substr(0, 2) == "*.") {
    out.anySubdomain = true;
    host.remove_prefix(1);  // keep the dot: "*.example.com" must not match "evilexample.com"
    if (host.size() < 2) return fail("'*.' must be followed by a domain");
  }
  if (host.find('*') != std::string_view::npos)
    return fail("'*' is allowed in the host only as \"*.domain\"");
  if (!validHostChars(out.anySubdomain ? host.substr(1) : host)) return fail("not a host name");
  if (host.find('@') != std::string_view::npos) return fail("userinfo is not allowed");
  out.host = lower(host);
  if (auto star = path.find('*'); star != std::string_view::npos) {
    if (star != path.size() - 1) return fail("'*' is allowed in the path only at its end");
    out.pathPrefix = true;
    path.remove_suffix(1);
  }
  if (path.find_first_of("?#") != std::string_view::npos)
    return fail("query and fragment are not compared");
  out.path = std::string(path);
  patterns_.push_back(std::move(out));
  return true;
}

std::optional<RefererMatcher> RefererMatcher::parse(std::string_view list, std::string* error) {
  RefererMatcher m;
  if (trimOws(list).empty()) return m;
  if (!forEachListEntry(list, [&](std::string_view entry) { return m.add(entry, error); }))
    return std::nullopt;
  return m;
}

bool RefererMatcher::matches(std::string_view referer) const {
  std::string_view r = trimOws(referer);
  std::string scheme = stripScheme(&r);
  if (auto q = r.find_first_of("?#"); q != std::string_view::npos) r = r.substr(0, q);
  auto slash = r.find('/');
  std::string_view hostPort = r.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : r.substr(slash);
  // "user@host" hides the real host behind something that looks like an allowed one.
  if (!validHostChars(hostPort)) return false;
  std::string host = lower(hostPort);
  auto endsWith = [&](std::string_view suffix) {
    return host.size() > suffix.size() &&
           host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if ((scheme == "http" && endsWith(":80")) || (scheme == "https" && endsWith(":443")))
    host.erase(host.rfind(':'));
  if (path.empty()) path = "/";  // "https://a.example.com" is the page "/"
  for (const Pattern& p : patterns_) {
    bool hostOk = p.anySubdomain
                      ? host.size() > p.host.size() &&
                            host.compare(host.size() - p.host.size(), p.host.size(), p.host) == 0 &&
                            host[0] != '.'
                      : host == p.host;
    if (!hostOk) continue;
    bool pathOk;
    if (p.pathPrefix) {
      pathOk = path.substr(0, p.path.size()) == p.path;
    } else if (p.path.empty()) {
      pathOk = path == "/";
    } else {
      pathOk = path == p.path;
    }
    if (pathOk) return true;
  }
  return false;
}

}  // namespace mgw
