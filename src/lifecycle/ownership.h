// The key lifecycle's ownership policy (SPEC section 8): a user acts on their own keys and
// applications; a user with role admin on everyone's. An id that names nothing is 404, another
// user's object is 403 (the caller is authenticated, so existence is not a secret from them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mgw::lifecycle {

struct Caller {
  std::string user;
  bool isAdmin = false;
  // The user's own [b7a.users.<name>] apis, narrowing [[apikey.issuer.api]]; unset = no narrowing.
  std::optional<std::vector<std::string>> apis;
};

// kNone when the caller may act on an object owned by `owner`, kForbidden otherwise.
[[nodiscard]] inline Failure checkOwner(const Caller& caller, std::string_view owner) {
  return caller.isAdmin || owner == caller.user ? Failure::kNone : Failure::kForbidden;
}

}  // namespace mgw::lifecycle
