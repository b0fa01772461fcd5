// A key's restrictions (permittedIP, permittedReferer; SPEC section 7), compiled once: into the
// key cache's entry for a signed key, into the opaque key index's entry for an opaque one, so a
// request matches against ready matchers instead of parsing the lists again. Trusts nothing in
// the lists (they come from a key).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ip_matcher.h"
#include "common/referer_matcher.h"

namespace mgw {

struct KeyRestrictions {
  // "" or only whitespace: no restriction. Otherwise the matcher, or why the list is malformed
  // (then the key cannot be used: fail closed).
  static KeyRestrictions compile(std::string_view permittedIp, std::string_view permittedReferer);

  bool restrictsIp = false;
  std::optional<IpMatcher> ip;
  std::string ipError;
  bool restrictsReferer = false;
  std::optional<RefererMatcher> referer;
  std::string refererError;
};

}  // namespace mgw
