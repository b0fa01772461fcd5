#include "gateway/key_extractor.h"

#include <string_view>

#include "common/text.h"

namespace mgw::gateway {

std::optional<ExtractedKey> extractKey(const ApiDefinition& api,
                                       const message::HttpRequest& request) {
  return extractKey(api.keySources, request);
}

std::optional<ExtractedKey> extractBearer(const message::HttpRequest& request,
                                          const std::string& header) {
  auto [begin, end] = request.headers.equal_range(header);
  for (auto it = begin; it != end; ++it) {
    std::string_view v = trimOws(it->second);
    constexpr std::string_view kScheme = "bearer ";
    if (v.size() <= kScheme.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
      const char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
      match = match && c == kScheme[i];
    }
    if (!match) continue;
    std::string_view token = trimOws(v.substr(kScheme.size()));
    if (!token.empty())
      return ExtractedKey{std::string(token), KeySource{KeyLocation::kHeader, header}};
  }
  return std::nullopt;
}

namespace {

// Calls f(name, value, pair) for each cookie-pair of every Cookie field (RFC 6265 section 4.2.1:
// "name=value" separated by ";" and spaces; HTTP/2 sends one field per pair, RFC 9113 section
// 8.2.3). Stops when f returns true.
template <typename F>
void forEachCookie(const message::HttpRequest& request, F f) {
  auto [begin, end] = request.headers.equal_range("Cookie");
  for (auto it = begin; it != end; ++it) {
    std::string_view rest = it->second;
    while (!rest.empty()) {
      const std::size_t semi = rest.find(';');
      std::string_view pair = trimOws(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      const std::size_t eq = pair.find('=');
      if (pair.empty() || eq == std::string_view::npos) {
        if (!pair.empty() && f(std::string_view(), std::string_view(), pair)) return;
        continue;
      }
      std::string_view value = trimOws(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (f(trimOws(pair.substr(0, eq)), value, pair)) return;
    }
  }
}

}  // namespace

std::optional<std::string> extractCookie(const message::HttpRequest& request,
                                         std::string_view name) {
  std::optional<std::string> found;
  forEachCookie(request, [&](std::string_view n, std::string_view v, std::string_view) {
    if (n != name || v.empty()) return false;
    found = std::string(v);
    return true;
  });
  return found;
}

std::optional<std::string> cookiesWithout(const message::HttpRequest& request,
                                          std::string_view name) {
  std::string kept;
  bool removed = false;
  forEachCookie(request, [&](std::string_view n, std::string_view, std::string_view pair) {
    if (!n.empty() && n == name) {
      removed = true;
    } else {
      if (!kept.empty()) kept += "; ";
      kept += pair;
    }
    return false;
  });
  if (!removed) return std::nullopt;
  return kept;
}

const std::vector<KeySource>& keySourcesFor(const ApiDefinition& api, const Resource& resource) {
  return resource.security.declared ? resource.security.keySources : api.keySources;
}

std::optional<ExtractedKey> extractKey(const std::vector<KeySource>& sources,
                                       const message::HttpRequest& request) {
  for (const KeySource& source : sources) {
    if (source.name.empty()) continue;
    switch (source.in) {
      case KeyLocation::kHeader: {
        auto [begin, end] = request.headers.equal_range(source.name);
        for (auto it = begin; it != end; ++it) {
          std::string_view v = trimOws(it->second);
          if (!v.empty()) return ExtractedKey{std::string(v), source};
        }
        break;
      }
      case KeyLocation::kQuery:
        for (const auto& [name, value] : request.query) {
          if (name == source.name && !value.empty()) return ExtractedKey{value, source};
        }
        break;
      case KeyLocation::kBearer:
        if (auto token = extractBearer(request, source.name))
          return ExtractedKey{std::move(token->value), source};
        break;
      case KeyLocation::kCookie:
        if (auto value = extractCookie(request, source.name))
          return ExtractedKey{std::move(*value), source};
        break;
    }
  }
  return std::nullopt;
}

}  // namespace mgw::gateway
