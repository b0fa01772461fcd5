// The [cluster] redis address (SPEC section 14): "redis://HOST:PORT/DB". Parsed at load so a typo
// fails there, with the allowed form; trusts nothing in the string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgw {

struct RedisUrl {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  int port = 6379;
  int database = 0;  // SELECT n; 0..15 on a default redis-server
};

// "redis://HOST[:PORT][/DB]"; nullopt with *why set (naming the allowed form) otherwise.
// Credentials in the URL are refused: the password belongs in redisPassword, which is never logged.
std::optional<RedisUrl> parseRedisUrl(std::string_view url, std::string* why);

}  // namespace mgw
