// The configured users and the one check of a Basic Authorization header against them: password
// verification against the configured hashes, with the failure limits and credential cache of a
// LoginThrottle.
// Trusts the configuration (users, hashes, limits); trusts nothing in the header or the client
// address.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/login_throttle.h"
#include "auth/password_hash.h"
#include "common/status.h"
#include "config/config.h"

namespace mgw::auth {

// What authenticate() decided. Everything but `failure`, `retryAfterSeconds` and `reason` is filled
// only on success (failure == kNone).
struct AuthOutcome {
  Failure failure =
      Failure::kNone;  // kNone, kAuthMissing, kAuthMalformed, kAuthInvalid, kTooManyAttempts,
                       // kOverloaded (maxConcurrentPasswordChecks verifications running)
  std::string user;
  std::vector<std::string> roles;
  bool isAdmin = false;                          // roles contains "admin"
  std::optional<std::vector<std::string>> apis;  // the user's narrower API list, if configured
  int retryAfterSeconds = 0;  // > 0 with kTooManyAttempts and kOverloaded: the Retry-After value
  std::string reason;         // internal, for logs; never holds the password
};

class UserStore {
 public:
  // The password the server refuses on a non-loopback listener (the shipped admin/admin).
  static constexpr std::string_view kWellKnownPassword = "admin";

  // Throws std::invalid_argument, naming the user but never the stored value, for an empty or
  // duplicate name, a name containing ':' or a control character (it could never log in through
  // Basic), or a password that is not a hash classifyPasswordHash() recognises.
  // Computes the dummy argon2id hash for unknown users (once per process): takes tens of ms.
  UserStore(const std::vector<config::UserConfig>& users, const config::AuthConfig& auth);
  ~UserStore();
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // `authorizationHeader` empty means the header was absent. `clientAddress` is the address the
  // server attributes the request to; `nowMs` is Unix time in milliseconds. Thread-safe.
  // An unknown user and a wrong password get the same answer after one argon2id verification
  // each. The failure counters and the credential cache are `throttle`'s (the server keeps one per
  // process, so a reload keeps them); the limits are this configuration's [authentication]:
  // maxFailures per (name, address), maxFailuresPerAddress per address, and a growing delay for
  // addresses that failed before on a name under attack (LoginThrottle). Past a limit:
  // kTooManyAttempts without any verification. More than [authentication]
  // maxConcurrentPasswordChecks verifications at once in the process: kOverloaded at once.
  [[nodiscard]] AuthOutcome authenticate(std::string_view authorizationHeader,
                                         std::string_view clientAddress, std::int64_t nowMs,
                                         LoginThrottle& throttle);
  // The same with a throttle of this store's own (tools and tests).
  [[nodiscard]] AuthOutcome authenticate(std::string_view authorizationHeader,
                                         std::string_view clientAddress, std::int64_t nowMs);

  // The user as a successful authenticate() describes her (user, roles, isAdmin, apis), without a
  // password: for a caller who proved it earlier (a portal session, auth/portal_session.h).
  // nullopt for a name this configuration does not know. *storedHash gets her configured hash, so
  // the caller can tell whether the password changed since (never shown to anyone).
  [[nodiscard]] std::optional<AuthOutcome> describeUser(std::string_view name,
                                                        std::string* storedHash) const;

  // Problems with the configured hashes that do not stop the server (legacy unsalted digests,
  // argon2id parameters other than hashPassword()'s). Computed at construction.
  std::vector<std::string> startupWarnings() const;

  // Whether the user's stored hash verifies kWellKnownPassword (one verification per user: call at
  // startup, not per request).
  [[nodiscard]] bool hasWellKnownPassword(std::string_view user) const;
  std::vector<std::string> usersWithWellKnownPassword() const;

  // argon2id verifications run so far (tests use it to see the credential cache work).
  std::uint64_t argon2Verifications() const { return argon2Verifications_.load(); }

 private:
  struct User {
    std::string name;
    std::string storedHash;
    PasswordHashKind kind;
    std::vector<std::string> roles;
    bool isAdmin = false;
    std::optional<std::vector<std::string>> apis;
  };
  [[nodiscard]] bool verifyUser(const User* user, std::string_view password) const;

  std::map<std::string, User, std::less<>> users_;  // immutable after construction
  std::vector<std::string> warnings_;
  ThrottleLimits limits_;
  std::unique_ptr<LoginThrottle> ownThrottle_;
  mutable std::atomic<std::uint64_t> argon2Verifications_{0};
};

}  // namespace mgw::auth
