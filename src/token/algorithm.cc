#include "token/algorithm.h"

namespace mgw::token {

// RFC 7518 section 3.1 and RFC 8037 section 3.1 names, compared exactly: "rs256" or "RS256 " is not
// RS256, and "none"/"HS256" have no entry at all.
std::optional<Algorithm> parseAlgorithm(std::string_view name) {
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "ES256") return Algorithm::kES256;
  if (name == "EdDSA") return Algorithm::kEdDSA;
  return std::nullopt;
}

std::string_view algorithmName(Algorithm alg) {
  switch (alg) {
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
    case Algorithm::kEdDSA:
      return "EdDSA";
  }
  return "";
}

}  // namespace mgw::token
