#include "auth/basic_auth.h"

#include <utility>

#include "common/base64url.h"
#include "common/crypto_util.h"

#include "common/text.h"

namespace mgw::auth {
namespace {

constexpr std::string_view kScheme = "basic";

bool isControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7F;  // CTL, RFC 5234 appendix B.1
}

bool containsControl(std::string_view s) {
  for (char c : s) {
    if (isControl(c)) return true;
  }
  return false;
}

}  // namespace

BasicCredentials::BasicCredentials(std::string userId, std::string secret)
    : user(std::move(userId)), password(std::move(secret)) {}

// Copy then wipe the source instead of a plain move: a moved-from short string keeps its bytes in
// the small-string buffer, which secureWipe would no longer see.
BasicCredentials::BasicCredentials(BasicCredentials&& other)
    : user(std::move(other.user)), password(other.password) {
  secureWipe(other.password);
}

BasicCredentials& BasicCredentials::operator=(BasicCredentials&& other) {
  if (this != &other) {
    user = std::move(other.user);
    secureWipe(password);
    password = other.password;
    secureWipe(other.password);
  }
  return *this;
}

BasicCredentials::~BasicCredentials() { secureWipe(password); }

std::optional<BasicCredentials> parseBasicAuthorization(std::string_view headerValue) {
  if (headerValue.size() > kMaxAuthorizationHeaderBytes) return std::nullopt;
  std::string_view value = trimOws(headerValue);

  // credentials = auth-scheme 1*SP token68 (RFC 7235 section 2.1)
  if (value.size() <= kScheme.size() ||
      !equalsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  if (value.front() != ' ') return std::nullopt;  // "Basicfoo" is another scheme
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.empty()) return std::nullopt;
  // Anything after the token68 (auth-params, a second token) is not Basic as RFC 7617 defines it;
  // base64Decode rejects the space and every other character outside the alphabet.

  std::optional<std::string> decoded = base64Decode(value);
  if (!decoded) return std::nullopt;
  std::optional<BasicCredentials> result;
  const std::size_t colon = decoded->find(':');
  if (colon != std::string::npos && colon != 0 && !containsControl(*decoded)) {
    // Assign in place: a temporary std::string would leave a copy of a short password behind.
    result.emplace();
    result->user.assign(*decoded, 0, colon);
    result->password.assign(*decoded, colon + 1, std::string::npos);
  }
  secureWipe(*decoded);
  return result;
}

}  // namespace mgw::auth
