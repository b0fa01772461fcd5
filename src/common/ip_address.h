// IP addresses and CIDR ranges, parsed strictly: the one parser of this syntax, used by the config
// loader (trustedProxies), the gateway's IP allow-lists (permittedIP) and the STS. Trusts nothing.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgw {

// An address as 16 bytes; IPv4 is held as the IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 4291
// section 2.5.5.2), so "1.2.3.4" and "::ffff:1.2.3.4" are the same address.
using IpBytes = std::array<std::uint8_t, 16>;

// Accepts "1.2.3.4", "2001:db8::1", "::ffff:1.2.3.4", "[::1]" and a trailing zone ("fe80::1%eth0",
// dropped). nullopt for anything else (no ports, no hostnames, no leading zeros in IPv4).
std::optional<IpBytes> parseIpAddress(std::string_view text);

struct IpRange {
  IpBytes network{};     // host bits below the prefix cleared
  int prefixBits = 128;  // 0..128 in the 16-byte form
  [[nodiscard]] bool contains(const IpBytes& address) const;
};

// One address or CIDR range ("10.0.0.0/8", "2001:db8::/32", "::1"), spaces around it ignored; a
// prefix outside /0../32 (IPv4) or /0../128 (IPv6) is an error. Host bits set below the prefix are
// ignored ("10.1.2.3/8" = 10.0.0.0/8). nullopt with *error naming the entry otherwise.
std::optional<IpRange> parseIpRange(std::string_view entry, std::string* error);

}  // namespace mgw
