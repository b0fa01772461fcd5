// IP allow-lists (a key's permittedIP, the listener's trustedProxies): IPv4, IPv6 and CIDR ranges.
// Trusts nothing: every entry is parsed strictly when the list is built, addresses when matched.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgw::gateway {

// An address as 16 bytes; IPv4 is held as the IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 4291
// section 2.5.5.2), so "1.2.3.4" and "::ffff:1.2.3.4" are the same address.
using IpBytes = std::array<std::uint8_t, 16>;

// Accepts "1.2.3.4", "2001:db8::1", "::ffff:1.2.3.4", "[::1]" and a trailing zone ("fe80::1%eth0",
// dropped). nullopt for anything else (no ports, no hostnames, no leading zeros in IPv4).
std::optional<IpBytes> parseIpAddress(std::string_view text);

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
  struct Range {
    IpBytes network;
    int prefixBits;  // 0..128 in the 16-byte form
  };
  std::vector<Range> ranges_;
};

}  // namespace mgw::gateway
