// Fuzzes permittedIP / trustedProxies lists and client addresses (common/ip_matcher.h).
// Input: "<list>\n<address>" (without a newline, the whole input is both the list and the address).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/ip_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view list = input.substr(0, newline);
  const std::string_view address =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  std::string error;
  auto matcher = mgw::IpMatcher::parse(list, &error);
  const auto parsed = mgw::parseIpAddress(address);
  if (matcher) {
    const bool byText = matcher->matches(address);
    if (parsed) {
      if (byText != matcher->matches(*parsed)) std::abort();  // text and bytes agree
    } else if (byText) {
      std::abort();  // an address that does not parse never matches
    }
  } else if (error.empty()) {
    std::abort();  // a refused list says why
  }
  // Every address that parses, as a one-entry list, matches itself (as a /128 or /32 host).
  if (parsed && address.find(',') == std::string_view::npos) {
    mgw::IpMatcher self;
    if (self.add(address, &error) && !self.matches(*parsed)) std::abort();
  }
  return 0;
}
