#include "common/redis_url.h"

#include <charconv>

namespace mgw {
namespace {

std::optional<int> parseNumber(std::string_view s, int min, int max) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || n < min || n > max)
    return std::nullopt;
  return n;
}

}  // namespace

std::optional<RedisUrl> parseRedisUrl(std::string_view url, std::string* why) {
  constexpr std::string_view kScheme = "redis://";
  constexpr std::string_view kForm = "expected redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0";
  if (url.substr(0, kScheme.size()) != kScheme) {
    *why = url.substr(0, 9) == "rediss://"
               ? std::string("rediss:// is not supported: set redisTls = true instead; ") +
                     std::string(kForm)
               : std::string(kForm);
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  RedisUrl out;
  if (slash != std::string_view::npos) {
    auto db = parseNumber(rest.substr(slash + 1), 0, 1000000);
    if (!db) {
      *why = "the database after / must be a number; " + std::string(kForm);
      return std::nullopt;
    }
    out.database = *db;
  }
  if (authority.find('@') != std::string_view::npos) {
    *why = "credentials do not belong in the URL: use redisPassword";
    return std::nullopt;
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *why = std::string(kForm);
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        *why = std::string(kForm);
        return std::nullopt;
      }
      port = after.substr(1);
      if (port.empty()) port = "x";  // "[::1]:" is an error, not the default port
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) port = "x";
  }
  if (host.empty()) {
    *why = "the host is missing; " + std::string(kForm);
    return std::nullopt;
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) {
      *why = "the host may hold letters, digits, '.', '-', '_' and ':' only; " + std::string(kForm);
      return std::nullopt;
    }
  }
  if (!port.empty()) {
    auto p = parseNumber(port, 1, 65535);
    if (!p) {
      *why = "the port must be 1..65535; " + std::string(kForm);
      return std::nullopt;
    }
    out.port = *p;
  }
  out.host = std::string(host);
  return out;
}

}  // namespace mgw
