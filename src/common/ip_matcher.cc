#include "common/ip_matcher.h"

#include "common/text.h"

namespace mgw {

bool IpMatcher::add(std::string_view entry, std::string* error) {
  auto range = parseIpRange(entry, error);
  if (!range) return false;
  ranges_.push_back(*range);
  return true;
}

std::optional<IpMatcher> IpMatcher::parse(std::string_view list, std::string* error) {
  IpMatcher m;
  if (trimOws(list).empty()) return m;
  if (!forEachListEntry(list, [&](std::string_view entry) { return m.add(entry, error); }))
    return std::nullopt;
  return m;
}

bool IpMatcher::matches(const IpBytes& address) const {
  for (const IpRange& r : ranges_) {
    if (r.contains(address)) return true;
  }
  return false;
}

bool IpMatcher::matches(std::string_view address) const {
  auto a = parseIpAddress(address);
  return a && matches(*a);
}

}  // namespace mgw
