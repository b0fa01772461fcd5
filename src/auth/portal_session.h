// Developer portal sessions (issue 28): what the session cookie holds and how it is checked. A
// session is a MACed token (HMAC-SHA-256 under a key every node of a cluster derives from the
// shared key hash secret), so any node verifies a session another node made; ending it early is a
// revocation of its id in the shared revocation list (the caller's). The token names the user, the
// session id, when it was made and when it ends, and a keyed tag of the user's configured password
// hash: a changed password ends every session of the user. Holds no password.
// Trusts its caller for the key and the clock; everything in a cookie is client input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgw::auth {

struct PortalSession {
  std::string id;  // 128 random bits, base64url
  std::string user;
  std::int64_t issuedAt = 0;   // Unix seconds
  std::int64_t expiresAt = 0;  // Unix seconds
  std::string passwordTag;     // keyed tag of the configured hash when the session was made
};

class PortalSessions {
 public:
  // The cookie's name: __Host- makes the browser require Secure, Path=/ and no Domain.
  static constexpr std::string_view kCookieName = "__Host-mgw-portal";
  // The header a change must carry the session's CSRF token in.
  static constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
  static constexpr std::size_t kMaxTokenBytes = 1024;

  // key: at least 32 bytes of secret (LifecycleService::portalSessionKey). Throws
  // std::invalid_argument when shorter.
  explicit PortalSessions(std::string key);
  ~PortalSessions();  // wipes the key
  PortalSessions(const PortalSessions&) = delete;
  PortalSessions& operator=(const PortalSessions&) = delete;

  // A new session of user, valid for lifetimeSeconds from now; *token gets the cookie value.
  PortalSession issue(std::string_view user, std::string_view storedHash, std::int64_t now,
                      std::int64_t lifetimeSeconds, std::string* token) const;
  // The session a cookie value names when its MAC verifies and it has not expired; nullopt for
  // anything else (malformed, forged, expired). Revocation and the password tag are the caller's
  // (matchesPassword) to check.
  [[nodiscard]] std::optional<PortalSession> verify(std::string_view token, std::int64_t now) const;
  // Whether the session was made while the user's configured hash was storedHash.
  [[nodiscard]] bool matchesPassword(const PortalSession& session,
                                     std::string_view storedHash) const;
  // The session's CSRF token (a MAC of its id): the page sends it in kCsrfHeader on every change.
  std::string csrfToken(const PortalSession& session) const;
  [[nodiscard]] bool csrfMatches(const PortalSession& session, std::string_view token) const;
  // The id the revocation list holds for a session ("portal-session:" + id): never a key's jti.
  static std::string revocationId(const PortalSession& session);

 private:
  std::string mac(std::string_view domain, std::string_view data) const;  // raw 32 bytes
  std::string key_;
};

// The value of the cookie called name in a Cookie field ("a=1; b=2"), or nullopt.
std::optional<std::string_view> findCookie(std::string_view cookieHeader, std::string_view name);

}  // namespace mgw::auth
