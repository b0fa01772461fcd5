#include "common/key_restrictions.h"

#include "common/text.h"

namespace mgw {

KeyRestrictions KeyRestrictions::compile(std::string_view permittedIp,
                                         std::string_view permittedReferer) {
  KeyRestrictions r;
  if (!trimOws(permittedIp).empty()) {
    r.restrictsIp = true;
    r.ip = IpMatcher::parse(permittedIp, &r.ipError);
  }
  if (!trimOws(permittedReferer).empty()) {
    r.restrictsReferer = true;
    r.referer = RefererMatcher::parse(permittedReferer, &r.refererError);
  }
  return r;
}

}  // namespace mgw
