// Basic authentication of the STS and key management callers (SPEC sections 5 and 8): what a
// failed authentication answers. Trusts auth::UserStore's outcome; never echoes a credential.
#pragma once

#include "auth/user_store.h"
#include "common/refusal.h"

namespace mgw::sts {

// The refusal for a failed authentication (outcome.failure != kNone): 401 with a description of
// what to send (the Basic challenge is the answer's), or 429 with Retry-After after too many
// failures.
Refusal callerRefusal(const auth::AuthOutcome& outcome);

}  // namespace mgw::sts
