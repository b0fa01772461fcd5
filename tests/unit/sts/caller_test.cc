#include "sts/caller.h"

#include <gtest/gtest.h>

namespace mgw::sts {
namespace {

auth::AuthOutcome failed(Failure f, int retryAfter = 0) {
  auth::AuthOutcome o;
  o.failure = f;
  o.retryAfterSeconds = retryAfter;
  o.reason = "internal detail, never shown";
  return o;
}

TEST(CallerTest, EachAuthenticationFailureHasItsAnswer) {
  Refusal r = callerRefusal(failed(Failure::kAuthMissing));
  EXPECT_EQ(r.failure, Failure::kAuthMissing);
  EXPECT_EQ(r.description, "send Authorization: Basic base64(user:password)");
  EXPECT_EQ(r.retryAfterSeconds, 0);

  r = callerRefusal(failed(Failure::kAuthMalformed));
  EXPECT_EQ(r.failure, Failure::kAuthMalformed);
  EXPECT_EQ(r.description, "the Authorization header is not Basic base64(user:password)");

  r = callerRefusal(failed(Failure::kAuthInvalid));
  EXPECT_EQ(r.failure, Failure::kAuthInvalid);
  EXPECT_EQ(r.description, "invalid user name or password");

  r = callerRefusal(failed(Failure::kTooManyAttempts, 42));
  EXPECT_EQ(r.failure, Failure::kTooManyAttempts);
  EXPECT_EQ(r.description, "too many failed attempts; retry after 42 seconds");
  EXPECT_EQ(r.retryAfterSeconds, 42);
}

TEST(CallerTest, AnyOtherFailureIsBadCredentialsAndNeverLeaksTheReason) {
  for (int i = 0; i <= static_cast<int>(kLastFailure); ++i) {
    const auto f = static_cast<Failure>(i);
    if (f == Failure::kAuthMissing || f == Failure::kAuthMalformed ||
        f == Failure::kTooManyAttempts)
      continue;
    const Refusal r = callerRefusal(failed(f, 7));
    EXPECT_EQ(r.failure, Failure::kAuthInvalid) << failureName(f);
    EXPECT_EQ(r.description, "invalid user name or password") << failureName(f);
    EXPECT_EQ(r.retryAfterSeconds, 0) << failureName(f);
    EXPECT_EQ(faultFor(r.failure).httpStatus, 401);
  }
}

}  // namespace
}  // namespace mgw::sts
