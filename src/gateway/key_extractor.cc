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

const std::vector<KeySource>& keySourcesFor(const ApiDefinition& api, const Resource& resource) {
  return resource.security.declared ? resource.security.keySources : api.keySources;
}

std::optional<ExtractedKey> extractKey(const std::vector<KeySource>& sources,
                                       const message::HttpRequest& request) {
  for (const KeySource& source : sources) {
    if (source.name.empty()) continue;
    if (source.in == KeyLocation::kHeader) {
      auto [begin, end] = request.headers.equal_range(source.name);
      for (auto it = begin; it != end; ++it) {
        std::string_view v = trimOws(it->second);
        if (!v.empty()) return ExtractedKey{std::string(v), source};
      }
    } else {
      for (const auto& [name, value] : request.query) {
        if (name == source.name && !value.empty()) return ExtractedKey{value, source};
      }
    }
  }
  return std::nullopt;
}

}  // namespace mgw::gateway
