// Per-process login state: failure counters and the cache of verified credentials. It lives in the
// server context, outside the configuration snapshot a SIGHUP replaces, so a reload neither resets
// an attacker's count nor forgets who logged in. Trusts its caller for the client address (already
// resolved through trustedProxies); holds no password, only keyed hashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mgw::auth {

struct ThrottleLimits {
  int maxPairFailures = 5;      // failures per (user name, client address) in the window
  int maxAddressFailures = 20;  // failures per client address, any user names
  std::int64_t windowMs = 60000;
  std::int64_t credentialCacheMs = 60000;  // 0 = no cache
  // argon2id verifications in flight in the whole process (every caller: the STS, key management,
  // basic auth on resources); past it an attempt is answered busy at once, never queued. 0 = no
  // cap.
  int maxConcurrentVerifications = 0;
  bool enabled() const { return windowMs > 0 && (maxPairFailures > 0 || maxAddressFailures > 0); }
};

// The keys of one attempt (keyed hashes: the counters never hold a name, address or password).
struct AttemptKeys {
  std::string pair;     // user name and client address
  std::string address;  // client address
  std::string name;     // user name
  std::string cache;    // stored hash, user name and password; "" when the cache is off
};

enum class AttemptResult { kVerified, kRefused, kAborted };

struct Admission {
  // kBusy: maxConcurrentVerifications verifications are running; nothing was counted.
  enum class Kind { kVerify, kCached, kRefused, kBusy } kind = Kind::kVerify;
  std::int64_t retryAfterMs = 0;  // with kRefused and kBusy
  std::string reason;             // with kRefused and kBusy: which limit, for logs
};

class LoginThrottle {
 public:
  static constexpr std::size_t kMaxFailureEntries = 100000;  // per counter kind
  static constexpr std::size_t kMaxCachedCredentials = 10000;
  // A user name that has collected maxPairFailures failures in the window (from any addresses) is
  // "under attack": an address that already failed (for any name) may try it once per delay, the
  // delay doubling with every further maxPairFailures failures of the name, up to this.
  static constexpr std::int64_t kMaxNameDelayMs = 32000;

  LoginThrottle();
  ~LoginThrottle();
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  // storedHash: the user's configured hash ("" for an unknown user: nothing is cached then), so a
  // reload that changes a password makes the old cached credential worthless.
  AttemptKeys keysFor(std::string_view name, std::string_view password, std::string_view storedHash,
                      std::string_view clientAddress, const ThrottleLimits& limits) const;

  // Before any verification: refused (a limit is reached: no argon2id is spent), cached (the same
  // credentials verified within credentialCacheMs), busy (maxConcurrentVerifications are running:
  // the client is told to come back instead of queueing behind them), or verify: then the attempt
  // is counted in flight and finish() must follow. Thread-safe.
  Admission admit(const AttemptKeys& keys, const ThrottleLimits& limits, std::int64_t nowMs);
  void finish(const AttemptKeys& keys, const ThrottleLimits& limits, std::int64_t nowMs,
              AttemptResult result);

  // argon2id verifications admitted and not finished yet (tests, metrics).
  int verificationsInFlight() const;

 private:
  struct State;
  std::string hashKey_;  // random per process
  std::unique_ptr<State> state_;
  std::string keyedHash(std::string_view domain, std::string_view data, std::size_t bytes) const;
};

}  // namespace mgw::auth
