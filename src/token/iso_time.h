// Renders epoch seconds (RFC 7519 NumericDate) as RFC 3339 UTC text for reasons and `token
// inspect`.
#pragma once

#include <cstdint>
#include <string>

namespace mgw::token {

// "2026-11-23T10:00:00Z"; "<N seconds since epoch, out of range>" when the calendar cannot hold it.
std::string isoTime(std::int64_t epochSeconds);

}  // namespace mgw::token
