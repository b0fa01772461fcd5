#include "common/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

#include "common/text.h"

namespace mgw {
namespace {

// Parses one bare address, also reporting whether it was written as IPv4 (its prefix counts from
// 96).
std::optional<IpBytes> parseBare(std::string_view text, bool* writtenAsV4) {
  if (text.empty() || text.size() > 63) return std::nullopt;
  std::string s(text);
  IpBytes out{};
  if (s.find(':') == std::string::npos) {
    in_addr v4{};
    // inet_pton(AF_INET) takes dotted-quad only: no octal, hex, short forms or leading zeros.
    if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    if (writtenAsV4) *writtenAsV4 = true;
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  if (writtenAsV4) *writtenAsV4 = false;
  return out;
}

bool parsePrefix(std::string_view text, int max, int* bits) {
  if (text.empty() || text.size() > 3) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (text.size() > 1 && text[0] == '0') return false;  // "/08" is a typo, not a prefix
  if (v > max) return false;
  *bits = v;
  return true;
}

void maskTo(IpBytes* a, int bits) {
  for (int i = 0; i < 16; ++i) {
    int keep = bits - i * 8;
    if (keep >= 8) continue;
    if (keep <= 0) {
      (*a)[i] = 0;
    } else {
      (*a)[i] = static_cast<std::uint8_t>((*a)[i] & (0xff << (8 - keep)));
    }
  }
}

}  // namespace

std::optional<IpBytes> parseIpAddress(std::string_view text) {
  text = trimOws(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  // A zone index only scopes a link-local address to an interface; it does not change the address.
  if (auto pct = text.find('%');
      pct != std::string_view::npos && text.find(':') != std::string_view::npos) {
    text = text.substr(0, pct);
  }
  return parseBare(text, nullptr);
}

bool IpRange::contains(const IpBytes& address) const {
  IpBytes a = address;
  maskTo(&a, prefixBits);
  return a == network;
}

std::optional<IpRange> parseIpRange(std::string_view entry, std::string* error) {
  std::string_view e = trimOws(entry);
  auto fail = [&](const std::string& why) -> std::optional<IpRange> {
    if (error) *error = "'" + std::string(e) + "': " + why;
    return std::nullopt;
  };
  if (e.empty()) return fail("empty entry");
  std::string_view addr = e;
  std::string_view prefix;
  bool hasPrefix = false;
  if (auto slash = e.find('/'); slash != std::string_view::npos) {
    addr = e.substr(0, slash);
    prefix = e.substr(slash + 1);
    hasPrefix = true;
  }
  bool v4 = false;
  auto bytes = parseBare(addr, &v4);
  if (!bytes) return fail("not an IPv4 or IPv6 address");
  int bits = 128;
  if (hasPrefix) {
    int p = 0;
    if (!parsePrefix(prefix, v4 ? 32 : 128, &p))
      return fail(v4 ? "prefix length must be 0..32" : "prefix length must be 0..128");
    bits = v4 ? 96 + p : p;
  }
  maskTo(&*bytes, bits);
  return IpRange{*bytes, bits};
}

}  // namespace mgw
