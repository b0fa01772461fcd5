#include "message/hop_by_hop.h"

#include <string>
#include <vector>

#include "common/text.h"

namespace mgw::message {

void collectConnectionOptions(std::string_view value, std::vector<std::string>* names) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = value.substr(start, comma - start);
    item = trimOws(item);
    if (!item.empty()) names->emplace_back(item);
    start = comma + 1;
  }
}

bool isHopByHopHeader(std::string_view name) {
  for (std::string_view hop : kHopByHopHeaders) {
    if (equalsIgnoreCase(hop, name)) return true;
  }
  return false;
}

void removeHopByHopHeaders(HeaderMap& headers) {
  // Read the Connection options before the Connection header itself is erased.
  std::vector<std::string> named;
  auto [begin, end] = headers.equal_range("Connection");
  for (auto it = begin; it != end; ++it) collectConnectionOptions(it->second, &named);
  for (const std::string& name : named)
    headers.erase(name);  // HeaderMap compares case-insensitively
  for (std::string_view hop : kHopByHopHeaders) headers.erase(std::string(hop));
}

}  // namespace mgw::message
