#include "auth/login_throttle.h"

#include <sodium.h>

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "common/crypto_util.h"

namespace mgw::auth {
namespace {

constexpr std::size_t kCounterKeyBytes = 16;  // keyed hashes of names and addresses
constexpr std::size_t kCacheKeyBytes = 32;    // keyed hash of stored hash, user and password

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

// Failures of one key in a fixed window that opens at the first failure. `inFlight` counts
// verifications started but not finished: they count against the limit, so concurrent requests
// cannot all pass the check while the first ones are still hashing.
struct FailureWindow {
  std::int64_t startMs = 0;
  int failures = 0;
  int inFlight = 0;
  std::int64_t lastSlowedMs = 0;  // name only: the last admitted attempt from a failed address
};

}  // namespace

struct LoginThrottle::State {
  std::mutex mutex;
  BoundedMap<FailureWindow> byPair{kMaxFailureEntries};
  BoundedMap<FailureWindow> byAddress{kMaxFailureEntries};
  BoundedMap<FailureWindow> byName{kMaxFailureEntries};
  BoundedMap<std::int64_t> credentials{kMaxCachedCredentials};  // keyed hash -> expiry (ms)
  int verifying = 0;  // admitted (kVerify) and not finished, whatever the limits

  static int failuresNow(const FailureWindow* w, const ThrottleLimits& limits, std::int64_t nowMs) {
    if (w == nullptr || nowMs >= w->startMs + limits.windowMs) return 0;
    return w->failures;
  }

  // 0 when another attempt may start under `max`, else milliseconds until one may.
  static std::int64_t blockedForMs(const FailureWindow* w, int max, const ThrottleLimits& limits,
                                   std::int64_t nowMs) {
    if (w == nullptr || max <= 0) return 0;
    const int failures = failuresNow(w, limits, nowMs);
    if (failures + w->inFlight < max) return 0;
    if (failures >= max) return w->startMs + limits.windowMs - nowMs;
    return 1000;  // verifications in flight hold the remaining attempts; they end within a second
  }

  void prune(const ThrottleLimits& limits, std::int64_t nowMs) {
    const auto expired = [&](const FailureWindow& w) {
      return w.inFlight == 0 && failuresNow(&w, limits, nowMs) == 0 &&
             w.lastSlowedMs + kMaxNameDelayMs <= nowMs;
    };
    byPair.pruneFront(expired);
    byAddress.pruneFront(expired);
    byName.pruneFront(expired);
    credentials.pruneFront([&](std::int64_t expiry) { return expiry <= nowMs; });
  }
};

LoginThrottle::LoginThrottle()
    : hashKey_(randomBytes(crypto_generichash_KEYBYTES)), state_(std::make_unique<State>()) {}

LoginThrottle::~LoginThrottle() { secureWipe(hashKey_); }

std::string LoginThrottle::keyedHash(std::string_view domain, std::string_view data,
                                     std::size_t bytes) const {
  std::string out(bytes, '\0');
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(hashKey_.data()),
                          hashKey_.size(), bytes);
  // The domain, with its NUL, keeps the uses of the key apart.
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(domain.data()),
                            domain.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(""), 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), bytes);
  sodium_memzero(&state, sizeof state);
  return out;
}

AttemptKeys LoginThrottle::keysFor(std::string_view name, std::string_view password,
                                   std::string_view storedHash, std::string_view clientAddress,
                                   const ThrottleLimits& limits) const {
  AttemptKeys keys;
  keys.name = keyedHash("name", name, kCounterKeyBytes);
  keys.address = keyedHash("address", clientAddress, kCounterKeyBytes);
  // The user-id holds no ':' (RFC 7617 section 2), and the stored hash no NUL.
  std::string pair;
  pair.append(name).append(1, ':').append(clientAddress);
  keys.pair = keyedHash("pair", pair, kCounterKeyBytes);
  if (limits.credentialCacheMs > 0 && !storedHash.empty()) {
    std::string material;  // one buffer, so no temporary keeps a copy of the password
    material.reserve(storedHash.size() + 1 + name.size() + 1 + password.size());
    material.append(storedHash).append(1, '\0').append(name).append(1, ':').append(password);
    keys.cache = keyedHash("credentials", material, kCacheKeyBytes);
    secureWipe(material);
  }
  return keys;
}

Admission LoginThrottle::admit(const AttemptKeys& keys, const ThrottleLimits& limits,
                               std::int64_t nowMs) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.prune(limits, nowMs);
  Admission out;
  if (limits.enabled()) {
    // Before the cache and any verification: a refused client can neither keep the CPU busy with
    // argon2id nor test guesses against the cache.
    const FailureWindow* address = s.byAddress.find(keys.address);
    const std::int64_t pairMs =
        State::blockedForMs(s.byPair.find(keys.pair), limits.maxPairFailures, limits, nowMs);
    const std::int64_t addressMs =
        State::blockedForMs(address, limits.maxAddressFailures, limits, nowMs);
    if (pairMs > 0 || addressMs > 0) {
      out.kind = Admission::Kind::kRefused;
      out.retryAfterMs = std::max(pairMs, addressMs);
      out.reason = pairMs > 0 ? "too many failed attempts for this user from this address"
                              : "too many failed attempts from this address";
      return out;
    }
    // A name under attack from many addresses: an address that has failed before waits a growing
    // delay between attempts at it. An address with no failures is never slowed, so the real user
    // logs in while the name is attacked elsewhere.
    FailureWindow* name = s.byName.find(keys.name);
    const int nameFailures = State::failuresNow(name, limits, nowMs);
    const bool addressFailed = State::failuresNow(address, limits, nowMs) > 0;
    if (name != nullptr && addressFailed && limits.maxPairFailures > 0 &&
        nameFailures >= limits.maxPairFailures) {
      const int doublings = std::min(nameFailures / limits.maxPairFailures - 1, 5);
      const std::int64_t delayMs = std::min<std::int64_t>(1000LL << doublings, kMaxNameDelayMs);
      if (name->lastSlowedMs > 0 && nowMs < name->lastSlowedMs + delayMs) {
        out.kind = Admission::Kind::kRefused;
        out.retryAfterMs = name->lastSlowedMs + delayMs - nowMs;
        out.reason = "user name under attack: attempts from failed addresses are slowed";
        return out;
      }
      name->lastSlowedMs = nowMs;
    }
  }
  if (!keys.cache.empty()) {
    const std::int64_t* expiry = s.credentials.find(keys.cache);
    if (expiry != nullptr && *expiry > nowMs) {
      out.kind = Admission::Kind::kCached;
      if (limits.enabled()) {
        if (FailureWindow* pair = s.byPair.find(keys.pair)) pair->failures = 0;
      }
      return out;
    }
  }
  // The global cap comes after the per-client limits and the cache: a refused client costs nothing,
  // a cached credential never waits for a slot.
  if (limits.maxConcurrentVerifications > 0 && s.verifying >= limits.maxConcurrentVerifications) {
    out.kind = Admission::Kind::kBusy;
    out.retryAfterMs = 1000;  // one verification takes tens of milliseconds
    out.reason = "maxConcurrentPasswordChecks password checks are running";
    return out;
  }
  ++s.verifying;
  if (limits.enabled()) {
    ++s.byPair.touch(keys.pair).inFlight;
    ++s.byAddress.touch(keys.address).inFlight;
  }
  return out;
}

int LoginThrottle::verificationsInFlight() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->verifying;
}

void LoginThrottle::finish(const AttemptKeys& keys, const ThrottleLimits& limits,
                           std::int64_t nowMs, AttemptResult result) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.verifying > 0) --s.verifying;
  if (limits.enabled()) {
    const auto count = [&](FailureWindow& w) {
      if (State::failuresNow(&w, limits, nowMs) == 0) {
        w.startMs = nowMs;
        w.failures = 0;
      }
      ++w.failures;
    };
    for (auto* map : {&s.byPair, &s.byAddress}) {
      FailureWindow& w = map->touch(map == &s.byPair ? keys.pair : keys.address);
      if (w.inFlight > 0) --w.inFlight;
      if (result == AttemptResult::kRefused) count(w);
    }
    if (result == AttemptResult::kRefused) count(s.byName.touch(keys.name));
    // The right password clears this pair's failures only: neither the address's (one good account
    // must not reset the count for guesses at others) nor the name's (an attack elsewhere goes on).
    if (result == AttemptResult::kVerified) {
      if (FailureWindow* pair = s.byPair.find(keys.pair)) pair->failures = 0;
    }
  }
  // Only a verified password is ever cached; the key is a keyed hash, not the password.
  if (result == AttemptResult::kVerified && !keys.cache.empty())
    s.credentials.touch(keys.cache) = nowMs + limits.credentialCacheMs;
}

}  // namespace mgw::auth
