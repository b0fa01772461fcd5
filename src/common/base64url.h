// base64url (RFC 4648 section 5) as JWS uses it (RFC 7515 section 2): encode without padding;
// decode accepts optional trailing '=' padding (WSO2 3.1 keys carry it) and nothing else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgw {

std::string base64UrlEncode(std::string_view bytes);
// nullopt on any character outside the base64url alphabet, misplaced padding or a bad length.
std::optional<std::string> base64UrlDecode(std::string_view text);

// Standard base64 (RFC 4648 section 4, padding required), for the Basic auth header (RFC 7617).
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace mgw
