// The signature algorithms micro-gw signs and verifies with. HMAC and "none" are deliberately
// absent: a verification key pins one of these, and a token's "alg" must equal it (RFC 8725
// section 3.1).
#pragma once

#include <optional>
#include <string_view>

namespace mgw::token {

enum class Algorithm { kRS256, kES256, kEdDSA };

std::optional<Algorithm> parseAlgorithm(std::string_view name);  // exact, case-sensitive
std::string_view algorithmName(Algorithm alg);

}  // namespace mgw::token
