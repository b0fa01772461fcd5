// Content negotiation for /apikey (SPEC section 5, RFC 9110 section 12.5.1): the bare key unless
// the client's Accept prefers JSON over text/plain. Trusts nothing in the header.
#pragma once

#include <string_view>

namespace mgw::sts {

// The quality (0..1000) the Accept header gives type/subtype: the most specific matching media
// range decides (type/subtype, then type/*, then */*); no Accept at all accepts anything (1000).
// Malformed ranges are skipped; parameters other than q are ignored.
int acceptQuality(std::string_view accept, std::string_view type, std::string_view subtype);

// True when Accept ranks application/json strictly above text/plain: "application/json" alone
// does, "application/json, text/plain, */*" (common JavaScript clients) does not, as WSO2 MGW 3.x
// always sent the bare key.
bool prefersJson(std::string_view accept);

}  // namespace mgw::sts
