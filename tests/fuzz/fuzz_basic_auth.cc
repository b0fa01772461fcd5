// Fuzzes the Authorization: Basic parser (RFC 7617): the header value comes straight from a client.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/basic_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  auto credentials = mgw::auth::parseBasicAuthorization(header);
  if (credentials) {
    // What the parser promises: a non-empty user without ':' and no control characters anywhere.
    if (credentials->user.empty() || credentials->user.find(':') != std::string::npos) std::abort();
    for (unsigned char c : credentials->user + credentials->password)
      if (c < 0x20 || c == 0x7f) std::abort();
    if (size > mgw::auth::kMaxAuthorizationHeaderBytes) std::abort();
    mgw::auth::BasicCredentials moved(std::move(*credentials));
    if (!credentials->password.empty()) std::abort();  // moved-from is wiped
  }
  return 0;
}
