#include "auth/login_refusal.h"

#include <gtest/gtest.h>

namespace mgw::auth {
namespace {

AuthOutcome failed(Failure f, int retryAfter = 0) {
  AuthOutcome o;
  o.failure = f;
  o.retryAfterSeconds = retryAfter;
  o.reason = "internal detail, never shown";
  return o;
}

TEST(LoginRefusalTest, EachAuthenticationFailureHasItsAnswer) {
  Refusal r = loginRefusal(failed(Failure::kAuthMissing));
  EXPECT_EQ(r.failure, Failure::kAuthMissing);
  EXPECT_EQ(r.description, "send Authorization: Basic base64(user:password)");
  EXPECT_EQ(r.retryAfterSeconds, 0);

  r = loginRefusal(failed(Failure::kAuthMalformed));
  EXPECT_EQ(r.failure, Failure::kAuthMalformed);
  EXPECT_EQ(r.description, "the Authorization header is not Basic base64(user:password)");

  r = loginRefusal(failed(Failure::kAuthInvalid));
  EXPECT_EQ(r.failure, Failure::kAuthInvalid);
  EXPECT_EQ(r.description, "invalid user name or password");

  r = loginRefusal(failed(Failure::kTooManyAttempts, 42));
  EXPECT_EQ(r.failure, Failure::kTooManyAttempts);
  EXPECT_EQ(r.description, "too many failed attempts; retry after 42 seconds");
  EXPECT_EQ(r.retryAfterSeconds, 42);

  // Never "retry after 0 seconds".
  r = loginRefusal(failed(Failure::kTooManyAttempts, 0));
  EXPECT_EQ(r.description, "too many failed attempts; retry after 1 seconds");
  EXPECT_EQ(r.retryAfterSeconds, 1);

  // Issue 22 item 3: over maxConcurrentPasswordChecks, 503 with Retry-After, not a 401.
  r = loginRefusal(failed(Failure::kOverloaded, 1));
  EXPECT_EQ(r.failure, Failure::kOverloaded);
  EXPECT_EQ(r.description,
            "the server is checking too many passwords at once; retry after 1 seconds");
  EXPECT_EQ(r.retryAfterSeconds, 1);
  EXPECT_EQ(faultFor(r.failure).httpStatus, 503);
}

TEST(LoginRefusalTest, AnyOtherFailureIsBadCredentialsAndNeverLeaksTheReason) {
  for (int i = 0; i <= static_cast<int>(kLastFailure); ++i) {
    const auto f = static_cast<Failure>(i);
    if (f == Failure::kAuthMissing || f == Failure::kAuthMalformed ||
        f == Failure::kTooManyAttempts || f == Failure::kOverloaded)
      continue;
    const Refusal r = loginRefusal(failed(f, 7));
    EXPECT_EQ(r.failure, Failure::kAuthInvalid) << failureName(f);
    EXPECT_EQ(r.description, "invalid user name or password") << failureName(f);
    EXPECT_EQ(r.retryAfterSeconds, 0) << failureName(f);
    EXPECT_EQ(faultFor(r.failure).httpStatus, 401);
  }
}

}  // namespace
}  // namespace mgw::auth
