// Fuzzes permittedReferer patterns and Referer headers (common/referer_matcher.h).
// Input: "<pattern list>\n<referer>" (without a newline, the whole input is both).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/referer_matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view list = input.substr(0, newline);
  const std::string_view referer =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  std::string error;
  auto matcher = mgw::RefererMatcher::parse(list, &error);
  if (!matcher) {
    if (error.empty()) std::abort();
    return 0;
  }
  const bool matched = matcher->matches(referer);
  // A Referer with userinfo never matches (referer_matcher.h). Checked where the Referer starts
  // with an RFC 3986 scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) "://"), so that what
  // follows is unambiguously the authority.
  const auto scheme = referer.find("://");
  const bool schemed = scheme != std::string_view::npos && scheme > 0 &&
                       std::isalpha(static_cast<unsigned char>(referer[0])) &&
                       referer.substr(0, scheme).find_first_not_of(
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.") ==
                           std::string_view::npos;
  if (schemed) {
    const std::string_view rest = referer.substr(scheme + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (matched && authority.find('@') != std::string_view::npos) std::abort();
  }
  if (matcher->empty() && matched) std::abort();
  return 0;
}
