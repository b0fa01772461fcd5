#include "auth/login_throttle.h"

#include <gtest/gtest.h>

namespace mgw::auth {
namespace {

ThrottleLimits limits() {
  ThrottleLimits l;
  l.maxPairFailures = 3;
  l.maxAddressFailures = 10;
  l.windowMs = 60000;
  l.credentialCacheMs = 60000;
  return l;
}

// One attempt that fails (or succeeds) after admission; the admission kind it got.
Admission::Kind attempt(LoginThrottle& t, std::string_view address, bool correct,
                        std::int64_t now) {
  const auto l = limits();
  const AttemptKeys keys = t.keysFor("admin", correct ? "admin" : "wrong", "$stored", address, l);
  const Admission a = t.admit(keys, l, now);
  if (a.kind == Admission::Kind::kVerify)
    t.finish(keys, l, now, correct ? AttemptResult::kVerified : AttemptResult::kRefused);
  return a.kind;
}

TEST(LoginThrottle, CountsPerUserAndAddress) {
  LoginThrottle t;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(attempt(t, "198.51.100.1", false, 1000), Admission::Kind::kVerify);
  EXPECT_EQ(attempt(t, "198.51.100.1", true, 1000), Admission::Kind::kRefused);
  // The same user from an address with no failures: verified and accepted.
  EXPECT_EQ(attempt(t, "192.0.2.1", true, 1000), Admission::Kind::kVerify);
  // After the window the pair may try again.
  EXPECT_EQ(attempt(t, "198.51.100.1", true, 62000), Admission::Kind::kVerify);
}

TEST(LoginThrottle, AttackFromManyAddressesNeverLocksOutACleanAddress) {
  LoginThrottle t;
  for (int n = 0; n < 30; ++n) attempt(t, "203.0.113." + std::to_string(n), false, 1000);
  EXPECT_EQ(attempt(t, "192.0.2.9", true, 1000), Admission::Kind::kVerify);
  // An address that failed before is slowed on the attacked name: one attempt per delay.
  EXPECT_EQ(attempt(t, "203.0.113.1", false, 2000), Admission::Kind::kVerify);
  EXPECT_EQ(attempt(t, "203.0.113.2", false, 2001), Admission::Kind::kRefused);
}

TEST(LoginThrottle, PerAddressLimitAcrossNames) {
  LoginThrottle t;
  const auto l = limits();
  for (int i = 0; i < 10; ++i) {
    const auto keys = t.keysFor("user" + std::to_string(i), "x", "", "198.51.100.5", l);
    ASSERT_EQ(t.admit(keys, l, 1000).kind, Admission::Kind::kVerify);
    t.finish(keys, l, 1000, AttemptResult::kRefused);
  }
  const auto keys = t.keysFor("someone", "x", "", "198.51.100.5", l);
  EXPECT_EQ(t.admit(keys, l, 1000).kind, Admission::Kind::kRefused);
}

// Issue 22 item 3: a global cap on argon2id verifications in flight, apart from the per-client
// limits: past it an attempt is busy at once (nothing counted against the client), a cached
// credential never waits for a slot, and a finished verification frees its slot.
TEST(LoginThrottle, CapsVerificationsInFlightButNeverCachedCredentials) {
  LoginThrottle t;
  auto l = limits();
  l.maxConcurrentVerifications = 2;
  // The admin's credential verified once: cached.
  const auto admin = t.keysFor("admin", "admin", "$stored", "192.0.2.1", l);
  ASSERT_EQ(t.admit(admin, l, 1000).kind, Admission::Kind::kVerify);
  t.finish(admin, l, 1000, AttemptResult::kVerified);
  EXPECT_EQ(t.verificationsInFlight(), 0);

  const auto a = t.keysFor("a", "x", "", "198.51.100.1", l);
  const auto b = t.keysFor("b", "x", "", "198.51.100.2", l);
  const auto c = t.keysFor("c", "x", "", "198.51.100.3", l);
  ASSERT_EQ(t.admit(a, l, 1000).kind, Admission::Kind::kVerify);
  ASSERT_EQ(t.admit(b, l, 1000).kind, Admission::Kind::kVerify);
  EXPECT_EQ(t.verificationsInFlight(), 2);
  const Admission busy = t.admit(c, l, 1000);
  EXPECT_EQ(busy.kind, Admission::Kind::kBusy);
  EXPECT_EQ(busy.retryAfterMs, 1000);
  EXPECT_EQ(t.admit(admin, l, 1000).kind, Admission::Kind::kCached);
  t.finish(a, l, 1000, AttemptResult::kRefused);
  EXPECT_EQ(t.admit(c, l, 1000).kind, Admission::Kind::kVerify);
  t.finish(b, l, 1000, AttemptResult::kRefused);
  t.finish(c, l, 1000, AttemptResult::kRefused);
  EXPECT_EQ(t.verificationsInFlight(), 0);
  // Busy answers counted no failure: c's address has one failure (its verified attempt), not two.
  l.maxAddressFailures = 2;
  EXPECT_EQ(t.admit(c, l, 1000).kind, Admission::Kind::kVerify);
  t.finish(c, l, 1000, AttemptResult::kAborted);
}

// Issue 10 item 4 at unit level: the cache is keyed by the stored hash too, so a reload that
// changes a password does not keep the old one working from the cache.
TEST(LoginThrottle, CacheIsBoundToTheStoredHash) {
  LoginThrottle t;
  const auto l = limits();
  const auto before = t.keysFor("admin", "admin", "$old", "192.0.2.1", l);
  ASSERT_EQ(t.admit(before, l, 1000).kind, Admission::Kind::kVerify);
  t.finish(before, l, 1000, AttemptResult::kVerified);
  EXPECT_EQ(t.admit(before, l, 1001).kind, Admission::Kind::kCached);
  const auto after = t.keysFor("admin", "admin", "$new", "192.0.2.1", l);
  EXPECT_EQ(t.admit(after, l, 1002).kind, Admission::Kind::kVerify);
}

}  // namespace
}  // namespace mgw::auth
