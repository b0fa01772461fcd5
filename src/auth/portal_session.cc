#include "auth/portal_session.h"

#include <sodium.h>

#include <charconv>
#include <stdexcept>
#include <vector>

#include "common/base64url.h"
#include "common/crypto_util.h"
#include "common/text.h"

namespace mgw::auth {
namespace {

constexpr std::string_view kVersion = "v1";
constexpr std::size_t kTagBytes = 12;

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

std::optional<std::int64_t> parseSeconds(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.size() > 12) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

PortalSessions::PortalSessions(std::string key) : key_(std::move(key)) {
  if (key_.size() < 32) throw std::invalid_argument("a portal session key needs 32 bytes");
}

PortalSessions::~PortalSessions() { secureWipe(key_); }

std::string PortalSessions::mac(std::string_view domain, std::string_view data) const {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(domain.data()),
                                domain.size());
  const unsigned char zero = 0;
  crypto_auth_hmacsha256_update(&state, &zero, 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

PortalSession PortalSessions::issue(std::string_view user, std::string_view storedHash,
                                    std::int64_t now, std::int64_t lifetimeSeconds,
                                    std::string* token) const {
  PortalSession s;
  s.id = base64UrlEncode(randomBytes(16));
  s.user = std::string(user);
  s.issuedAt = now;
  s.expiresAt = now + lifetimeSeconds;
  s.passwordTag = base64UrlEncode(mac("password", storedHash).substr(0, kTagBytes));
  std::string body = std::string(kVersion) + "." + s.id + "." + std::to_string(s.issuedAt) + "." +
                     std::to_string(s.expiresAt) + "." + base64UrlEncode(s.user) + "." +
                     s.passwordTag;
  *token = body + "." + base64UrlEncode(mac("session", body));
  return s;
}

std::optional<PortalSession> PortalSessions::verify(std::string_view token,
                                                    std::int64_t now) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
  const auto parts = split(token, '.');
  if (parts.size() != 7 || parts[0] != kVersion) return std::nullopt;
  const std::size_t macAt = token.rfind('.');
  const auto sent = base64UrlDecode(parts[6]);
  if (!sent || !constantTimeEquals(*sent, mac("session", token.substr(0, macAt))))
    return std::nullopt;
  PortalSession s;
  const auto iat = parseSeconds(parts[2]), exp = parseSeconds(parts[3]);
  const auto user = base64UrlDecode(parts[4]);
  if (!iat || !exp || !user || user->empty() || parts[1].empty()) return std::nullopt;
  if (now >= *exp) return std::nullopt;
  s.id = std::string(parts[1]);
  s.issuedAt = *iat;
  s.expiresAt = *exp;
  s.user = *user;
  s.passwordTag = std::string(parts[5]);
  return s;
}

bool PortalSessions::matchesPassword(const PortalSession& session,
                                     std::string_view storedHash) const {
  return constantTimeEquals(session.passwordTag,
                            base64UrlEncode(mac("password", storedHash).substr(0, kTagBytes)));
}

std::string PortalSessions::csrfToken(const PortalSession& session) const {
  return base64UrlEncode(mac("csrf", session.id));
}

bool PortalSessions::csrfMatches(const PortalSession& session, std::string_view token) const {
  return !token.empty() && constantTimeEquals(token, csrfToken(session));
}

std::string PortalSessions::revocationId(const PortalSession& session) {
  return "portal-session:" + session.id;
}

std::optional<std::string_view> findCookie(std::string_view cookieHeader, std::string_view name) {
  for (std::string_view pair : split(cookieHeader, ';')) {
    pair = trimOws(pair);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trimOws(pair.substr(0, eq)) == name) return trimOws(pair.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace mgw::auth
