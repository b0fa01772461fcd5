// `micro-gw token inspect`: shows what a key claims without trusting it. Nothing here verifies a
// signature; the text says so on its first line.
#pragma once

#include <string>
#include <string_view>

namespace mgw::token {

// Human-readable header and claims (iat/exp/nbf also as RFC 3339 UTC), or a precise error for a
// malformed key. *ok (when given) is false for the error case, so a CLI can exit non-zero.
// The output never repeats the key itself.
std::string inspectToken(std::string_view token, bool* ok = nullptr);

}  // namespace mgw::token
