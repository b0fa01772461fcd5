// Fuzzes the optional JSON body of GET/POST /apikey (SPEC section 5): what an authenticated but
// untrusted user sends. Whatever the parser accepts must also be accepted by the matchers the
// gateway later builds from the key's claims.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/ip_matcher.h"
#include "common/referer_matcher.h"
#include "sts/api_key_issuer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto result = mgw::sts::parseIssueRequest(body);
  if (result.failure != mgw::Failure::kNone) {
    if (result.description.empty()) std::abort();  // every refusal says why
    return 0;
  }
  const auto& request = result.request;
  if (request.keyType != "PRODUCTION" && request.keyType != "SANDBOX") std::abort();
  std::string error;
  if (!mgw::IpMatcher::parse(request.permittedIP, &error)) std::abort();
  if (!mgw::RefererMatcher::parse(request.permittedReferer, &error)) std::abort();
  if (request.allowedApis) {
    for (const auto& api : *request.allowedApis)
      if (!mgw::sts::apiCovered(*request.allowedApis, api.name, api.version)) std::abort();
  }
  return 0;
}
