// IP allow-lists (a key's permittedIP, the listener's trustedProxies): IPv4, IPv6 and CIDR ranges.
// Trusts nothing: every entry is parsed strictly when the list is built, addresses when matched.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace mgw {

class IpMatcher {
 public:
  IpMatcher() = default;  // empty: matches nothing

  // A comma-separated list of addresses and CIDR ranges ("10.0.0.0/8, 2001:db8::/32, ::1");
  // spaces around entries are ignored. An empty or all-blank list gives an empty matcher; an empty
  // entry between commas, a bad address or a prefix outside /0../32 (IPv4) or /0../128 (IPv6) is an
  // error naming the entry. Host bits set below the prefix are ignored ("10.1.2.3/8" = 10.0.0.0/8).
  static std::optional<IpMatcher> parse(std::string_view list, std::string* error);

  // Adds one entry; false with *error on a malformed one.
  bool add(std::string_view entry, std::string* error);

  // False for an address that does not parse.
  [[nodiscard]] bool matches(std::string_view address) const;
  [[nodiscard]] bool matches(const IpBytes& address) const;
  bool empty() const { return ranges_.empty(); }
  std::size_t size() const { return ranges_.size(); }

 private:
  std::vector<IpRange> ranges_;
};

}  // namespace mgw
