#include "auth/user_store.h"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <list>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "auth/basic_auth.h"
#include "common/crypto_util.h"

namespace mgw::auth {
namespace {

constexpr std::size_t kCounterKeyBytes = 16;  // keyed hashes of names and addresses
constexpr std::size_t kCacheKeyBytes = 32;    // keyed hash of user ":" password
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

// A map with a size cap: entries are kept in least-recently-touched order so the oldest can be
// pruned or evicted from the front.
template <typename Value>
class BoundedMap {
 public:
  explicit BoundedMap(std::size_t capacity) : capacity_(capacity) {}

  Value* find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }

  // Finds or inserts `key`, moves it to the back; evicts the front entry when over capacity.
  Value& touch(const std::string& key) {
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.splice(order_.end(), order_, it->second);
      return it->second->second;
    }
    order_.emplace_back(key, Value{});
    index_.emplace(key, std::prev(order_.end()));
    if (order_.size() > capacity_) {
      index_.erase(order_.front().first);
      order_.pop_front();
    }
    return order_.back().second;
  }

  void erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  // Drops entries from the front while `expired` holds for them.
  template <typename Predicate>
  void pruneFront(Predicate expired) {
    while (!order_.empty() && expired(order_.front().second)) {
      index_.erase(order_.front().first);
      order_.pop_front();
    }
  }

 private:
  using Order = std::list<std::pair<std::string, Value>>;
  std::size_t capacity_;
  Order order_;
  std::unordered_map<std::string, typename Order::iterator> index_;
};

// Failures of one address or one name in a fixed window that opens at the first failure.
// `inFlight` counts verifications started but not finished: they count against the limit, so
// concurrent requests cannot all pass the check while the first ones are still hashing.
struct FailureWindow {
  std::int64_t startMs = 0;
  int failures = 0;
  int inFlight = 0;
};

enum class AttemptResult { kVerified, kRefused, kAborted };

}  // namespace

// The mutable state shared by request threads; every member is used under `mutex`.
struct UserStore::Limits {
  Limits(int maxFailuresIn, std::int64_t windowMsIn)
      : maxFailures(maxFailuresIn), windowMs(windowMsIn) {}

  bool enabled() const { return maxFailures > 0 && windowMs > 0; }

  int failuresNow(const FailureWindow& w, std::int64_t nowMs) const {
    return nowMs >= w.startMs + windowMs ? 0 : w.failures;
  }

  // 0 when `w` allows another attempt, else milliseconds until it may.
  std::int64_t blockedForMs(const FailureWindow* w, std::int64_t nowMs) const {
    if (w == nullptr) return 0;
    const int failures = failuresNow(*w, nowMs);
    if (failures + w->inFlight < maxFailures) return 0;
    if (failures >= maxFailures) return w->startMs + windowMs - nowMs;
    return 1000;  // verifications in flight hold the remaining attempts; they end within a second
  }

  void prune(std::int64_t nowMs) {
    const auto expired = [&](const FailureWindow& w) {
      return w.inFlight == 0 && failuresNow(w, nowMs) == 0;
    };
    byAddress.pruneFront(expired);
    byName.pruneFront(expired);
    credentials.pruneFront([&](std::int64_t expiry) { return expiry <= nowMs; });
  }

  void reserve(const std::string& addressKey, const std::string& nameKey) {
    ++byAddress.touch(addressKey).inFlight;
    ++byName.touch(nameKey).inFlight;
  }

  void finish(const std::string& addressKey, const std::string& nameKey, std::int64_t nowMs,
              AttemptResult result) {
    for (auto [map, key] : {std::pair{&byAddress, &addressKey}, std::pair{&byName, &nameKey}}) {
      FailureWindow& w = map->touch(*key);  // re-inserted if evicted meanwhile
      if (w.inFlight > 0) --w.inFlight;
      if (result == AttemptResult::kRefused) {
        if (failuresNow(w, nowMs) == 0) {
          w.startMs = nowMs;
          w.failures = 0;
        }
        ++w.failures;
      }
    }
    // The right password clears the name's failures (not the address's: one good account must not
    // reset the count for guesses at others).
    if (result == AttemptResult::kVerified) clearName(nameKey);
  }

  void clearName(const std::string& nameKey) {
    FailureWindow* w = byName.find(nameKey);
    if (w == nullptr) return;
    w->failures = 0;
    if (w->inFlight == 0) byName.erase(nameKey);
  }

  const int maxFailures;
  const std::int64_t windowMs;
  std::mutex mutex;
  BoundedMap<FailureWindow> byAddress{kMaxFailureEntries};
  BoundedMap<FailureWindow> byName{kMaxFailureEntries};
  BoundedMap<std::int64_t> credentials{kMaxCachedCredentials};  // keyed hash -> expiry (ms)
};

UserStore::UserStore(const std::vector<config::UserConfig>& users, const config::AuthConfig& auth)
    : credentialCacheMs_(static_cast<std::int64_t>(auth.credentialCacheSeconds) * 1000),
      hashKey_(randomBytes(crypto_generichash_KEYBYTES)),
      limits_(std::make_unique<Limits>(
          auth.maxFailures, static_cast<std::int64_t>(auth.failureWindowSeconds) * 1000)) {
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
        warnings_.push_back(
            "user " + quotedName(u.name) +
            " has an unsalted SHA-256 password; re-hash it with `micro-gw hash-password`");
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

UserStore::~UserStore() { secureWipe(hashKey_); }

std::string UserStore::keyedHash(std::string_view domain, std::string_view data,
                                 std::size_t bytes) const {
  std::string out(bytes, '\0');
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(hashKey_.data()),
                          hashKey_.size(), bytes);
  // The domain, with its NUL, keeps the three uses of the key apart.
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(domain.data()),
                            domain.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(""), 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), bytes);
  sodium_memzero(&state, sizeof state);
  return out;
}

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
    case PasswordHashKind::kSha1Legacy:
      (void)verifyPassword(dummyArgon2idHash(), password);
      return verifyPassword(user->storedHash, password);
  }
  return false;
}

AuthOutcome UserStore::authenticate(std::string_view authorizationHeader,
                                    std::string_view clientAddress, std::int64_t nowMs) {
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
  const std::string addressKey = keyedHash("address", clientAddress, kCounterKeyBytes);
  const std::string nameKey = keyedHash("name", name, kCounterKeyBytes);
  std::string cacheKey;
  if (credentialCacheMs_ > 0) {
    // The user-id holds no ':' (RFC 7617 section 2), so user ":" password is unambiguous.
    std::string userPass;  // built in one buffer, so no temporary keeps a copy of the password
    userPass.reserve(name.size() + 1 + credentials->password.size());
    userPass.append(name).append(1, ':').append(credentials->password);
    cacheKey = keyedHash("credentials", userPass, kCacheKeyBytes);
    secureWipe(userPass);
  }
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

  Limits& limits = *limits_;
  {
    std::lock_guard<std::mutex> lock(limits.mutex);
    limits.prune(nowMs);
    if (limits.enabled()) {
      // Before any verification, so a blocked client cannot keep the CPU busy with argon2id.
      const std::int64_t addressMs = limits.blockedForMs(limits.byAddress.find(addressKey), nowMs);
      const std::int64_t nameMs = limits.blockedForMs(limits.byName.find(nameKey), nowMs);
      if (addressMs > 0 || nameMs > 0) {
        outcome.failure = Failure::kTooManyAttempts;
        outcome.retryAfterSeconds = ceilSeconds(std::max(addressMs, nameMs));
        outcome.reason = addressMs > 0 ? "too many failed attempts from address '" +
                                             std::string(clientAddress) + "'"
                                       : "too many failed attempts for user " + quotedName(name);
        return outcome;
      }
    }
    if (!cacheKey.empty() && user != nullptr) {
      const std::int64_t* expiry = limits.credentials.find(cacheKey);
      if (expiry != nullptr && *expiry > nowMs) {
        if (limits.enabled()) limits.clearName(nameKey);
        succeed();
        outcome.reason += " (cached)";
        return outcome;
      }
    }
    if (limits.enabled()) limits.reserve(addressKey, nameKey);
  }

  // argon2id runs without the mutex: other requests go on meanwhile.
  bool verified = false;
  try {
    verified = verifyUser(user, credentials->password);
  } catch (...) {
    std::lock_guard<std::mutex> lock(limits.mutex);
    if (limits.enabled()) limits.finish(addressKey, nameKey, nowMs, AttemptResult::kAborted);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(limits.mutex);
    if (limits.enabled()) {
      limits.finish(addressKey, nameKey, nowMs,
                    verified ? AttemptResult::kVerified : AttemptResult::kRefused);
    }
    // Only a verified password is ever cached; the key is a keyed hash, not the password.
    if (verified && !cacheKey.empty())
      limits.credentials.touch(cacheKey) = nowMs + credentialCacheMs_;
  }

  if (!verified) {
    // One text for an unknown user and a wrong password: the log must not become an oracle either.
    outcome.failure = Failure::kAuthInvalid;
    outcome.reason = "invalid credentials for user " + quotedName(name);
    return outcome;
  }
  succeed();
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
