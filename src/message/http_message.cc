#include "message/http_message.h"

#include <algorithm>

#include "common/syntax.h"

namespace mgw::message {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX; false on a malformed escape.
bool percentDecode(std::string_view s, bool plusIsSpace, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      const int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool isDotSegment(std::string_view segment) {
  // "..;x" is ".." to Tomcat and Jetty (path parameters).
  segment = segment.substr(0, segment.find(';'));
  return segment == "." || segment == "..";
}

}  // namespace

const std::string& HttpRequest::header(std::string_view name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

std::string HttpRequest::joinedHeader(std::string_view name) const {
  std::string out;
  auto [begin, end] = headers.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    if (it->second.empty()) continue;
    if (!out.empty()) out += ", ";
    out += it->second;
  }
  return out;
}

void HttpResponse::setHeader(std::string_view name, std::string value) {
  headers.erase(name);
  headers.emplace(std::string(name), std::move(value));
}

void HttpResponse::setContent(std::string content, const std::string& contentType) {
  body = std::move(content);
  setHeader("Content-Type", contentType);
}

std::string parseTarget(std::string_view target, HttpRequest* request) {
  std::string_view rest = target;
  std::string_view authority;
  // absolute-form: scheme "://" authority path-abempty [ "?" query ]
  for (std::string_view scheme : {"http://", "https://"}) {
    if (rest.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), rest.begin(),
                   [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b + 32 : b); })) {
      rest.remove_prefix(scheme.size());
      const std::size_t slash = rest.find_first_of("/?#");
      authority = rest.substr(0, slash);
      // RFC 9110 section 4.2.1: an http(s) URI has a host; section 4.2.4: no userinfo.
      if (authority.empty() || !isHostFieldValue(authority))
        return "the absolute-form target's authority is not host[:port] (no userinfo, not empty)";
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      if (rest.front() == '?') return "the request target has no path";
      break;
    }
  }
  if (rest.empty() || rest.front() != '/')
    return "the request target must be a path starting with '/'";
  const std::size_t mark = rest.find('?');
  const std::string_view rawPath = rest.substr(0, mark);
  const std::string_view rawQuery =
      mark == std::string_view::npos ? std::string_view() : rest.substr(mark + 1);
  if (rawPath.find('#') != std::string_view::npos || rawQuery.find('#') != std::string_view::npos)
    return "the request target holds a fragment ('#')";
  if (rawPath.find('\\') != std::string_view::npos) return "the path holds a backslash";

  // Segment by segment, so an encoded slash never turns into a separator.
  std::string decoded;
  decoded.reserve(rawPath.size());
  std::size_t start = 1;
  decoded.push_back('/');
  while (start <= rawPath.size()) {
    std::size_t end = rawPath.find('/', start);
    if (end == std::string_view::npos) end = rawPath.size();
    std::string segment;
    if (!percentDecode(rawPath.substr(start, end - start), false, &segment))
      return "the path holds a malformed percent-escape";
    if (segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
      return "the path holds an encoded slash, backslash or NUL";
    if (isDotSegment(segment)) return "the path holds a '.' or '..' segment";
    decoded += segment;
    if (end < rawPath.size()) decoded.push_back('/');
    start = end + 1;
  }

  request->rawPath = std::string(rawPath);
  request->rawQuery = std::string(rawQuery);
  request->authority = std::string(authority);
  request->path = std::move(decoded);
  request->query.clear();
  std::size_t pos = 0;
  while (!rawQuery.empty() && pos <= rawQuery.size()) {
    std::size_t amp = rawQuery.find('&', pos);
    if (amp == std::string_view::npos) amp = rawQuery.size();
    const std::string_view param = rawQuery.substr(pos, amp - pos);
    if (!param.empty()) {
      const std::size_t eq = param.find('=');
      request->query.emplace_back(decodeQueryComponent(param.substr(0, eq)),
                                  eq == std::string_view::npos
                                      ? std::string()
                                      : decodeQueryComponent(param.substr(eq + 1)));
    }
    pos = amp + 1;
  }
  return "";
}

std::string decodeQueryComponent(std::string_view s) {
  std::string out;
  // A malformed escape in a query is passed on as it is (the backend judges its query).
  if (!percentDecode(s, true, &out)) out = std::string(s);
  return out;
}

std::string removeQueryParams(std::string_view rawQuery, const std::vector<std::string>& names) {
  std::vector<std::string_view> kept;
  bool removed = false;
  std::size_t pos = 0;
  while (pos <= rawQuery.size()) {
    std::size_t amp = rawQuery.find('&', pos);
    if (amp == std::string_view::npos) amp = rawQuery.size();
    const std::string_view param = rawQuery.substr(pos, amp - pos);
    const std::string name = decodeQueryComponent(param.substr(0, param.find('=')));
    if (!param.empty() && std::find(names.begin(), names.end(), name) != names.end()) {
      removed = true;
    } else {
      kept.push_back(param);
    }
    pos = amp + 1;
  }
  if (!removed) return std::string(rawQuery);  // untouched, byte for byte
  // The other parameters keep their bytes and order, empty ones included ("a=1&&b=2").
  std::string out;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append(kept[i]);
  }
  return out;
}

}  // namespace mgw::message
