#include "auth/user_store.h"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "auth/basic_auth.h"
#include "common/crypto_util.h"

namespace mgw::auth {
namespace {

constexpr std::size_t kMaxNameInReason = 64;

// An argon2id hash of a random password nobody knows, with the same parameters as hashPassword():
// unknown users and users with legacy digests are verified against it, so every decided attempt
// costs exactly one argon2id verification.
const std::string& dummyArgon2idHash() {
  static const std::string hash = [] {
    std::string secret = hexEncode(randomBytes(32));
    std::string h = hashPassword(secret);
    secureWipe(secret);
    return h;
  }();
  return hash;
}

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

// The name as logs show it: bounded, because it is whatever the client sent.
std::string quotedName(std::string_view name) {
  std::string out = "'";
  if (name.size() > kMaxNameInReason) {
    out.append(name.substr(0, kMaxNameInReason));
    out += "...";
  } else {
    out.append(name);
  }
  out += "'";
  return out;
}

int ceilSeconds(std::int64_t ms) {
  const std::int64_t seconds = (ms + 999) / 1000;
  return static_cast<int>(std::clamp<std::int64_t>(seconds, 1, std::numeric_limits<int>::max()));
}

}  // namespace

UserStore::UserStore(const std::vector<config::UserConfig>& users, const config::AuthConfig& auth)
    : ownThrottle_(std::make_unique<LoginThrottle>()) {
  limits_.maxPairFailures = auth.maxFailures;
  limits_.maxAddressFailures = auth.maxFailuresPerAddress;
  limits_.windowMs = static_cast<std::int64_t>(auth.failureWindowSeconds) * 1000;
  limits_.credentialCacheMs = static_cast<std::int64_t>(auth.credentialCacheSeconds) * 1000;
  limits_.maxConcurrentVerifications = auth.maxConcurrentPasswordChecks;
  for (const config::UserConfig& u : users) {
    if (u.name.empty()) throw std::invalid_argument("a user has an empty name");
    if (u.name.find(':') != std::string::npos || hasControl(u.name)) {
      throw std::invalid_argument(
          "user " + quotedName(u.name) +
          ": a name with ':' or a control character cannot log in with Basic auth");
    }
    if (users_.count(u.name) != 0)
      throw std::invalid_argument("user " + quotedName(u.name) + " is declared twice");
    const std::optional<PasswordHashKind> kind = classifyPasswordHash(u.password);
    if (!kind) {
      throw std::invalid_argument(
          "user " + quotedName(u.name) +
          ": password must be an argon2id string from `micro-gw hash-password`, "
          "@sha256:<64 hex> or a 40-hex SHA-1");
    }
    switch (*kind) {
      case PasswordHashKind::kArgon2id: {
        // Same parameters as the dummy hash, or a wrong password for this user and an unknown
        // user take measurably different times.
        const int rehash =
            crypto_pwhash_str_needs_rehash(u.password.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE);
        if (rehash < 0) {
          throw std::invalid_argument("user " + quotedName(u.name) +
                                      ": the argon2id string is not one libsodium can verify");
        }
        if (rehash > 0) {
          warnings_.push_back(
              "user " + quotedName(u.name) +
              " has an argon2id hash with other parameters than `micro-gw hash-password` uses, so "
              "a wrong password for it takes a different time than an unknown user; re-hash it "
              "with `micro-gw hash-password`");
        }
        break;
      }
      case PasswordHashKind::kSha256:
      case PasswordHashKind::kSha384:
      case PasswordHashKind::kSha512:
        warnings_.push_back("user " + quotedName(u.name) + " has an unsalted " +
                            (*kind == PasswordHashKind::kSha256   ? "SHA-256"
                             : *kind == PasswordHashKind::kSha384 ? "SHA-384"
                                                                  : "SHA-512") +
                            " password; re-hash it with `micro-gw hash-password`");
        break;
      case PasswordHashKind::kSha1Legacy:
        warnings_.push_back(
            "user " + quotedName(u.name) +
            " has a legacy unsalted SHA-1 password; re-hash it with `micro-gw hash-password`");
        break;
    }
    User user;
    user.name = u.name;
    user.storedHash = u.password;
    user.kind = *kind;
    user.roles = u.roles;
    user.isAdmin = std::find(u.roles.begin(), u.roles.end(), "admin") != u.roles.end();
    user.apis = u.apis;
    users_.emplace(u.name, std::move(user));
  }
  (void)dummyArgon2idHash();  // pay for it now, not on the first unknown user
}

UserStore::~UserStore() = default;

bool UserStore::verifyUser(const User* user, std::string_view password) const {
  // Exactly one argon2id verification whatever the user: unknown users and legacy digests run the
  // dummy, so neither the answer nor the time tells them from a wrong password.
  ++argon2Verifications_;
  if (user == nullptr) {
    (void)verifyPassword(dummyArgon2idHash(), password);
    return false;
  }
  switch (user->kind) {
    case PasswordHashKind::kArgon2id:
      return verifyPassword(user->storedHash, password);
    case PasswordHashKind::kSha256:
    case PasswordHashKind::kSha384:
    case PasswordHashKind::kSha512:
    case PasswordHashKind::kSha1Legacy:
      (void)verifyPassword(dummyArgon2idHash(), password);
      return verifyPassword(user->storedHash, password);
  }
  return false;
}

AuthOutcome UserStore::authenticate(std::string_view authorizationHeader,
                                    std::string_view clientAddress, std::int64_t nowMs) {
  return authenticate(authorizationHeader, clientAddress, nowMs, *ownThrottle_);
}

AuthOutcome UserStore::authenticate(std::string_view authorizationHeader,
                                    std::string_view clientAddress, std::int64_t nowMs,
                                    LoginThrottle& throttle) {
  AuthOutcome outcome;
  if (authorizationHeader.empty()) {
    outcome.failure = Failure::kAuthMissing;
    outcome.reason = "no Authorization header";
    return outcome;
  }
  std::optional<BasicCredentials> credentials = parseBasicAuthorization(authorizationHeader);
  if (!credentials) {
    outcome.failure = Failure::kAuthMalformed;
    outcome.reason = "Authorization is not Basic base64(user:password)";
    return outcome;
  }
  const std::string& name = credentials->user;
  const auto found = users_.find(name);
  const User* user = found == users_.end() ? nullptr : &found->second;
  const auto succeed = [&] {
    outcome.failure = Failure::kNone;
    outcome.user = user->name;
    outcome.roles = user->roles;
    outcome.isAdmin = user->isAdmin;
    outcome.apis = user->apis;
    outcome.reason = "authenticated user " + quotedName(name);
  };

  const AttemptKeys keys = throttle.keysFor(
      name, credentials->password, user ? std::string_view(user->storedHash) : std::string_view(),
      clientAddress, limits_);
  const Admission admission = throttle.admit(keys, limits_, nowMs);
  switch (admission.kind) {
    case Admission::Kind::kRefused:
      outcome.failure = Failure::kTooManyAttempts;
      outcome.retryAfterSeconds = ceilSeconds(admission.retryAfterMs);
      outcome.reason = admission.reason + " (user " + quotedName(name) + ", address '" +
                       std::string(clientAddress.substr(0, kMaxNameInReason)) + "')";
      return outcome;
    case Admission::Kind::kBusy:
      // Not a failed login (no password was checked): nothing counted, 503 with Retry-After.
      outcome.failure = Failure::kOverloaded;
      outcome.retryAfterSeconds = ceilSeconds(admission.retryAfterMs);
      outcome.reason = admission.reason + " (user " + quotedName(name) + ")";
      return outcome;
    case Admission::Kind::kCached:
      if (user == nullptr) break;  // never cached for an unknown user; verify below as usual
      succeed();
      outcome.reason += " (cached)";
      return outcome;
    case Admission::Kind::kVerify:
      break;
  }

  // argon2id runs without any lock: other requests go on meanwhile.
  bool verified = false;
  try {
    verified = verifyUser(user, credentials->password);
  } catch (...) {
    throttle.finish(keys, limits_, nowMs, AttemptResult::kAborted);
    throw;
  }
  throttle.finish(keys, limits_, nowMs,
                  verified ? AttemptResult::kVerified : AttemptResult::kRefused);

  if (!verified) {
    // One text for an unknown user and a wrong password: the log must not become an oracle either.
    outcome.failure = Failure::kAuthInvalid;
    outcome.reason = "invalid credentials for user " + quotedName(name);
    return outcome;
  }
  succeed();
  return outcome;
}

std::optional<AuthOutcome> UserStore::describeUser(std::string_view name,
                                                   std::string* storedHash) const {
  const auto found = users_.find(name);
  if (found == users_.end()) return std::nullopt;
  const User& user = found->second;
  AuthOutcome outcome;
  outcome.user = user.name;
  outcome.roles = user.roles;
  outcome.isAdmin = user.isAdmin;
  outcome.apis = user.apis;
  outcome.reason = "portal session of user " + quotedName(name);
  if (storedHash) *storedHash = user.storedHash;
  return outcome;
}

std::vector<std::string> UserStore::startupWarnings() const { return warnings_; }

bool UserStore::hasWellKnownPassword(std::string_view user) const {
  const auto found = users_.find(user);
  if (found == users_.end()) return false;
  if (found->second.kind == PasswordHashKind::kArgon2id) ++argon2Verifications_;
  return verifyPassword(found->second.storedHash, kWellKnownPassword);
}

std::vector<std::string> UserStore::usersWithWellKnownPassword() const {
  std::vector<std::string> names;
  for (const auto& [name, user] : users_) {
    if (hasWellKnownPassword(name)) names.push_back(name);
  }
  return names;
}

}  // namespace mgw::auth
