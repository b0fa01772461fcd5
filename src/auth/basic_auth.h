// Parses an HTTP Basic Authorization header (RFC 7617) into a user-id and a password.
// Trusts nothing: the header comes straight from the client; this only parses, it verifies nothing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::auth {

// Larger Authorization values are refused before any decoding.
inline constexpr std::size_t kMaxAuthorizationHeaderBytes = 4096;

// The decoded credentials. Move-only: the password is wiped when the object dies and when it is
// moved from, so no stray copy of it outlives its use.
struct BasicCredentials {
  std::string user;
  std::string password;

  BasicCredentials() = default;
  BasicCredentials(std::string userId, std::string secret);
  BasicCredentials(const BasicCredentials&) = delete;
  BasicCredentials& operator=(const BasicCredentials&) = delete;
  BasicCredentials(BasicCredentials&& other);
  BasicCredentials& operator=(BasicCredentials&& other);
  ~BasicCredentials();
};

// `Basic <token68>` (scheme case-insensitive, RFC 7617 section 2 / RFC 7235 section 2.1), one or
// more SP before the standard padded base64 of `user-id ":" password`. The user-id is everything
// before the first ':' and must be non-empty; the password may contain ':'. Neither may contain a
// control character (RFC 7617 section 2). nullopt for anything else, including a header over
// kMaxAuthorizationHeaderBytes and an empty header (the caller tells "missing" from "malformed").
std::optional<BasicCredentials> parseBasicAuthorization(std::string_view headerValue);

}  // namespace mgw::auth
