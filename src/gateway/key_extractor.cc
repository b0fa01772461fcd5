#include "gateway/key_extractor.h"

#include <string_view>

#include "common/text.h"

namespace mgw::gateway {

std::optional<ExtractedKey> extractKey(const ApiDefinition& api, const HttpRequest& request) {
  for (const KeySource& source : api.keySources) {
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
