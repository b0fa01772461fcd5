#include "auth/user_store.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auth/password_hash.h"
#include "common/base64url.h"

namespace mgw::auth {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr const char* kSha1Secret = "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4";
constexpr const char* kSha256Secret =
    "@sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64Encode(std::string(user) + ":" + std::string(password));
}

// argon2id hashes are computed once for the whole binary: each costs tens of milliseconds.
const std::string& adminHash() {
  static const std::string hash = hashPassword("admin");
  return hash;
}
const std::string& aliceHash() {
  static const std::string hash = hashPassword("wonderland");
  return hash;
}

std::vector<config::UserConfig> users() {
  std::vector<config::UserConfig> list(4);
  list[0].name = "admin";
  list[0].password = adminHash();
  list[0].roles = {"admin"};
  list[1].name = "alice";
  list[1].password = aliceHash();
  list[1].apis = std::vector<std::string>{"PetStore:1.0.0", "Orders:*"};
  list[2].name = "legacy";
  list[2].password = kSha1Secret;
  list[3].name = "sha";
  list[3].password = kSha256Secret;
  return list;
}

config::AuthConfig authConfig(int maxFailures = 3, int windowSeconds = 60, int cacheSeconds = 60) {
  config::AuthConfig auth;
  auth.maxFailures = maxFailures;
  auth.maxFailuresPerAddress = maxFailures;  // the per-address tests below count to the same limit
  auth.failureWindowSeconds = windowSeconds;
  auth.credentialCacheSeconds = cacheSeconds;
  return auth;
}

// Runs authenticate() and reports how many argon2id verifications it took.
struct Attempt {
  AuthOutcome outcome;
  std::uint64_t argon2;
};
Attempt attempt(UserStore& store, const std::string& header, std::string_view address,
                std::int64_t nowMs) {
  const std::uint64_t before = store.argon2Verifications();
  AuthOutcome outcome = store.authenticate(header, address, nowMs);
  return {std::move(outcome), store.argon2Verifications() - before};
}

TEST(UserStoreTest, MissingAndMalformedHeadersCostNothing) {
  UserStore store(users(), authConfig());
  Attempt missing = attempt(store, "", "10.0.0.1", kNow);
  EXPECT_EQ(missing.outcome.failure, Failure::kAuthMissing);
  EXPECT_EQ(missing.argon2, 0u);
  for (const std::string header : {"Bearer abc", "Basic !!!", "Basic YWRtaW4=", "Basic OmFkbWlu"}) {
    Attempt malformed = attempt(store, header, "10.0.0.1", kNow);
    EXPECT_EQ(malformed.outcome.failure, Failure::kAuthMalformed) << header;
    EXPECT_EQ(malformed.argon2, 0u);
  }
}

TEST(UserStoreTest, SuccessCarriesTheUsersGrants) {
  UserStore store(users(), authConfig());
  AuthOutcome admin = store.authenticate("Basic YWRtaW46YWRtaW4=", "127.0.0.1", kNow);
  EXPECT_EQ(admin.failure, Failure::kNone);
  EXPECT_EQ(admin.user, "admin");
  EXPECT_EQ(admin.roles, std::vector<std::string>{"admin"});
  EXPECT_TRUE(admin.isAdmin);
  EXPECT_FALSE(admin.apis.has_value());
  EXPECT_EQ(admin.retryAfterSeconds, 0);
  EXPECT_EQ(admin.reason.find("admin:"), std::string::npos);

  AuthOutcome alice = store.authenticate(basic("alice", "wonderland"), "127.0.0.1", kNow);
  EXPECT_EQ(alice.failure, Failure::kNone);
  EXPECT_EQ(alice.user, "alice");
  EXPECT_FALSE(alice.isAdmin);
  ASSERT_TRUE(alice.apis.has_value());
  EXPECT_EQ(*alice.apis, (std::vector<std::string>{"PetStore:1.0.0", "Orders:*"}));
}

TEST(UserStoreTest, UnknownUserAndWrongPasswordGetTheSameAnswerAndCost) {
  UserStore store(users(), authConfig(5));
  Attempt unknown = attempt(store, basic("mallory", "admin"), "10.0.0.1", kNow);
  Attempt wrong = attempt(store, basic("admin", "wrong"), "10.0.0.2", kNow);
  EXPECT_EQ(unknown.outcome.failure, Failure::kAuthInvalid);
  EXPECT_EQ(wrong.outcome.failure, Failure::kAuthInvalid);
  EXPECT_EQ(unknown.argon2, 1u);
  EXPECT_EQ(wrong.argon2, 1u);
  EXPECT_EQ(unknown.outcome.reason, "invalid credentials for user 'mallory'");
  EXPECT_EQ(wrong.outcome.reason, "invalid credentials for user 'admin'");
  for (const Attempt* a : {&unknown, &wrong}) {
    EXPECT_TRUE(a->outcome.user.empty());
    EXPECT_TRUE(a->outcome.roles.empty());
    EXPECT_FALSE(a->outcome.isAdmin);
    EXPECT_EQ(a->outcome.retryAfterSeconds, 0);
  }
  EXPECT_EQ(wrong.outcome.reason.find("wrong"), std::string::npos);  // never the password
}

TEST(UserStoreTest, LegacyDigestUsersCostOneArgon2idLikeEveryoneElse) {
  UserStore store(users(), authConfig(5));
  Attempt wrong = attempt(store, basic("legacy", "nope"), "10.0.0.1", kNow);
  EXPECT_EQ(wrong.outcome.failure, Failure::kAuthInvalid);
  EXPECT_EQ(wrong.argon2, 1u);
  Attempt right = attempt(store, basic("legacy", "secret"), "10.0.0.1", kNow);
  EXPECT_EQ(right.outcome.failure, Failure::kNone);
  EXPECT_EQ(right.argon2, 1u);
  Attempt sha = attempt(store, basic("sha", "secret"), "10.0.0.1", kNow);
  EXPECT_EQ(sha.outcome.failure, Failure::kNone);
  EXPECT_EQ(sha.outcome.user, "sha");
}

TEST(UserStoreTest, TooManyFailuresFromOneAddress) {
  UserStore store(users(), authConfig(3, 60));
  // Different names, one address: only the address counter reaches the limit.
  for (int i = 0; i < 3; ++i) {
    Attempt a =
        attempt(store, basic("guess" + std::to_string(i), "x"), "203.0.113.7", kNow + i * 1000);
    EXPECT_EQ(a.outcome.failure, Failure::kAuthInvalid);
  }
  // Even the right password is refused now, before any verification.
  Attempt blocked = attempt(store, "Basic YWRtaW46YWRtaW4=", "203.0.113.7", kNow + 2000);
  EXPECT_EQ(blocked.outcome.failure, Failure::kTooManyAttempts);
  EXPECT_EQ(blocked.argon2, 0u);
  EXPECT_EQ(blocked.outcome.retryAfterSeconds, 58);  // the window opened at kNow
  EXPECT_TRUE(blocked.outcome.user.empty());

  Attempt lastMs = attempt(store, "Basic YWRtaW46YWRtaW4=", "203.0.113.7", kNow + 59'999);
  EXPECT_EQ(lastMs.outcome.failure, Failure::kTooManyAttempts);
  EXPECT_EQ(lastMs.outcome.retryAfterSeconds, 1);

  // Another address is not affected.
  Attempt other = attempt(store, "Basic YWRtaW46YWRtaW4=", "203.0.113.8", kNow + 2000);
  EXPECT_EQ(other.outcome.failure, Failure::kNone);

  // The window frees.
  Attempt later = attempt(store, basic("guess9", "x"), "203.0.113.7", kNow + 60'000);
  EXPECT_EQ(later.outcome.failure, Failure::kAuthInvalid);
  EXPECT_EQ(later.argon2, 1u);
}

// Issue 10 item 1: failures for a name from many addresses never lock out the right password from
// an address with no failures; addresses that failed before are slowed on that name.
TEST(UserStoreTest, AttackOnOneNameFromManyAddressesIsSlowedNotALockout) {
  UserStore store(users(), authConfig(3, 60, /*cacheSeconds=*/0));
  for (int i = 0; i < 6; ++i) {
    Attempt a = attempt(store, basic("alice", "guess" + std::to_string(i)),
                        "198.51.100." + std::to_string(i), kNow);
    EXPECT_EQ(a.outcome.failure, Failure::kAuthInvalid);
  }
  Attempt clean = attempt(store, basic("alice", "wonderland"), "198.51.100.50", kNow + 10'000);
  EXPECT_EQ(clean.outcome.failure, Failure::kNone);
  EXPECT_EQ(clean.argon2, 1u);

  // A failed address gets one attempt at the attacked name, then waits.
  EXPECT_EQ(attempt(store, basic("alice", "g"), "198.51.100.1", kNow + 10'000).outcome.failure,
            Failure::kAuthInvalid);
  Attempt slowed = attempt(store, basic("alice", "g"), "198.51.100.2", kNow + 10'001);
  EXPECT_EQ(slowed.outcome.failure, Failure::kTooManyAttempts);
  EXPECT_EQ(slowed.argon2, 0u);
  EXPECT_GT(slowed.outcome.retryAfterSeconds, 0);

  // The same for a name that does not exist: the 429 does not reveal which names do.
  for (int i = 0; i < 6; ++i)
    (void)store.authenticate(basic("nobody", "x"), "192.0.2." + std::to_string(i), kNow);
  EXPECT_EQ(store.authenticate(basic("nobody", "x"), "192.0.2.1", kNow).failure,
            Failure::kAuthInvalid);
  EXPECT_EQ(store.authenticate(basic("nobody", "x"), "192.0.2.2", kNow + 1).failure,
            Failure::kTooManyAttempts);
}

// Issue 10 item 4: the counters belong to the throttle the server keeps per process, not to the
// store a reload replaces.
TEST(UserStoreTest, ANewStoreKeepsTheProcesssThrottle) {
  LoginThrottle throttle;
  {
    UserStore before(users(), authConfig(3, 60, 0));
    for (int i = 0; i < 3; ++i)
      (void)before.authenticate(basic("admin", "x"), "203.0.113.9", kNow, throttle);
  }
  UserStore after(users(), authConfig(3, 60, 0));  // SIGHUP: a new store, the same throttle
  EXPECT_EQ(after.authenticate("Basic YWRtaW46YWRtaW4=", "203.0.113.9", kNow + 1, throttle).failure,
            Failure::kTooManyAttempts);
}

TEST(UserStoreTest, SuccessClearsTheNamesFailuresButNotTheAddresss) {
  UserStore store(users(), authConfig(3, 60, 0));
  (void)store.authenticate(basic("admin", "x"), "10.1.0.1", kNow);
  (void)store.authenticate(basic("admin", "y"), "10.1.0.2", kNow);
  EXPECT_EQ(store.authenticate(basic("admin", "admin"), "10.1.0.3", kNow).failure, Failure::kNone);
  (void)store.authenticate(basic("admin", "z"), "10.1.0.4", kNow);
  EXPECT_EQ(store.authenticate(basic("admin", "admin"), "10.1.0.5", kNow).failure, Failure::kNone);
}

TEST(UserStoreTest, CachedSuccessSkipsArgon2ButNeverAcceptsAWrongPassword) {
  UserStore store(users(), authConfig(5, 60, 60));
  Attempt first = attempt(store, "Basic YWRtaW46YWRtaW4=", "10.0.0.1", kNow);
  EXPECT_EQ(first.outcome.failure, Failure::kNone);
  EXPECT_EQ(first.argon2, 1u);

  Attempt second = attempt(store, "Basic YWRtaW46YWRtaW4=", "10.0.0.2", kNow + 1000);
  EXPECT_EQ(second.outcome.failure, Failure::kNone);
  EXPECT_EQ(second.outcome.user, "admin");
  EXPECT_TRUE(second.outcome.isAdmin);
  EXPECT_EQ(second.argon2, 0u);

  Attempt wrong = attempt(store, basic("admin", "admin2"), "10.0.0.1", kNow + 2000);
  EXPECT_EQ(wrong.outcome.failure, Failure::kAuthInvalid);
  EXPECT_EQ(wrong.argon2, 1u);
  // A cached good password for one user is not good for another name.
  Attempt otherUser = attempt(store, basic("alice", "admin"), "10.0.0.1", kNow + 2000);
  EXPECT_EQ(otherUser.outcome.failure, Failure::kAuthInvalid);

  // The entry expires after credentialCacheSeconds.
  Attempt expired = attempt(store, "Basic YWRtaW46YWRtaW4=", "10.0.0.3", kNow + 60'000);
  EXPECT_EQ(expired.outcome.failure, Failure::kNone);
  EXPECT_EQ(expired.argon2, 1u);
}

TEST(UserStoreTest, CacheOffVerifiesEveryTime) {
  UserStore store(users(), authConfig(5, 60, 0));
  EXPECT_EQ(attempt(store, basic("alice", "wonderland"), "10.0.0.1", kNow).argon2, 1u);
  EXPECT_EQ(attempt(store, basic("alice", "wonderland"), "10.0.0.1", kNow).argon2, 1u);
}

TEST(UserStoreTest, ConcurrentFailuresNeverExceedTheLimit) {
  UserStore store(users(), authConfig(3, 60, 0));
  constexpr int kThreads = 8;
  std::atomic<int> invalid{0}, tooMany{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const AuthOutcome o =
          store.authenticate(basic("user" + std::to_string(i), "x"), "203.0.113.1", kNow);
      if (o.failure == Failure::kAuthInvalid) ++invalid;
      if (o.failure == Failure::kTooManyAttempts) ++tooMany;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(invalid.load(), 3);
  EXPECT_EQ(tooMany.load(), kThreads - 3);
  EXPECT_EQ(store.argon2Verifications(), 3u);
}

TEST(UserStoreTest, StartupWarningsForUnsaltedDigests) {
  UserStore store(users(), authConfig());
  const std::vector<std::string> warnings = store.startupWarnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0],
            "user 'legacy' has a legacy unsalted SHA-1 password; re-hash it with `micro-gw "
            "hash-password`");
  EXPECT_EQ(
      warnings[1],
      "user 'sha' has an unsalted SHA-256 password; re-hash it with `micro-gw hash-password`");
}

TEST(UserStoreTest, StartupWarningForArgon2idWithOtherParameters) {
  char weak[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(weak, "pw", 2, crypto_pwhash_OPSLIMIT_MIN,
                                  crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
            0);
  std::vector<config::UserConfig> list(1);
  list[0].name = "weak";
  list[0].password = weak;
  UserStore store(list, authConfig());
  ASSERT_EQ(store.startupWarnings().size(), 1u);
  EXPECT_NE(
      store.startupWarnings()[0].find("user 'weak' has an argon2id hash with other parameters"),
      std::string::npos);
  EXPECT_EQ(store.authenticate(basic("weak", "pw"), "10.0.0.1", kNow).failure, Failure::kNone);
}

TEST(UserStoreTest, WellKnownPasswordDetection) {
  std::vector<config::UserConfig> list = users();
  list.emplace_back();
  list.back().name = "old-admin";
  list.back().password = "D033E22AE348AEB5660FC2140AEC35850C4DA997";  // SHA-1 of "admin"
  UserStore store(list, authConfig());
  EXPECT_TRUE(store.hasWellKnownPassword("admin"));
  EXPECT_TRUE(store.hasWellKnownPassword("old-admin"));
  EXPECT_FALSE(store.hasWellKnownPassword("alice"));
  EXPECT_FALSE(store.hasWellKnownPassword("legacy"));
  EXPECT_FALSE(store.hasWellKnownPassword("nobody"));
  EXPECT_EQ(store.usersWithWellKnownPassword(), (std::vector<std::string>{"admin", "old-admin"}));
}

TEST(UserStoreTest, RejectsUnusableUsersWithoutEchoingThePassword) {
  const auto failsWith = [](std::vector<config::UserConfig> list) -> std::string {
    try {
      UserStore store(list, authConfig());
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  std::vector<config::UserConfig> plaintext(1);
  plaintext[0].name = "bob";
  plaintext[0].password = "hunter2";
  const std::string message = failsWith(plaintext);
  EXPECT_NE(message.find("'bob'"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;

  std::vector<config::UserConfig> colon(1);
  colon[0].name = "a:b";
  colon[0].password = kSha1Secret;
  EXPECT_NE(failsWith(colon), "");

  std::vector<config::UserConfig> empty(1);
  empty[0].password = kSha1Secret;
  EXPECT_NE(failsWith(empty), "");

  std::vector<config::UserConfig> twice(2);
  twice[0].name = twice[1].name = "bob";
  twice[0].password = twice[1].password = kSha1Secret;
  EXPECT_NE(failsWith(twice).find("twice"), std::string::npos);
}

}  // namespace
}  // namespace mgw::auth
