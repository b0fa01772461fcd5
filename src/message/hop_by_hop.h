// The hop-by-hop header table (RFC 9110 section 7.6.1) and the function that strips those headers
// before the proxy forwards a message in either direction. Trusts nothing in the message it edits.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "message/http_message.h"

namespace mgw::message {

// Headers that describe one connection, not the message: never forwarded (RFC 9110 section 7.6.1).
// Content-Length is end-to-end, but the HTTP library recomputes it from the body it actually
// sends; forwarding the received one could contradict that body (request smuggling), so it goes
// too.
inline constexpr std::array<std::string_view, 10> kHopByHopHeaders = {
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Content-Length",
};

// Case-insensitive membership in kHopByHopHeaders (does not consider a Connection header's value).
[[nodiscard]] bool isHopByHopHeader(std::string_view name);

// Appends the names a Connection field value lists (RFC 9110 section 7.6.1: a comma-separated
// token list); those fields are hop-by-hop for that message too.
void collectConnectionOptions(std::string_view value, std::vector<std::string>* names);

// Removes every header in kHopByHopHeaders and every header named in a Connection header's
// comma-separated value (RFC 9110 section 7.6.1), in any letter case.
void removeHopByHopHeaders(HeaderMap& headers);

}  // namespace mgw::message
